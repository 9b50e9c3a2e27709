/**
 * Opening an SMU by address: the transport from the resource string, `*IDN?`, and the driver picked
 * from the identification. Unknown models are refused with a message naming what answered.
 */
import { InstrumentError } from '../transport/errors.ts';
import { Session } from '../transport/session.ts';
import type { Transport } from '../transport/transport.ts';
import { openResource, type OpenOptions } from '../transport/visa.ts';
import { Keithley2400 } from './keithley2400.ts';
import { Keithley2600B } from './keithley2600b.ts';
import { KeysightB2900 } from './keysightB2900.ts';
import type { SmuDriver } from './smu.ts';

export type SmuFamily = 'keithley2400' | 'keithley2600b' | 'keysightB2900';

/** Which driver family an `*IDN?` reply belongs to, and the model name; null if none. */
export function familyFromIdn(idn: string): { family: SmuFamily; model: string } | null {
  const fields = idn.split(',').map((f) => f.trim());
  const maker = (fields[0] ?? '').toUpperCase();
  const model = (fields[1] ?? '').toUpperCase().replace(/^MODEL\s+/, '');
  if (maker.startsWith('KEITHLEY')) {
    if (/^24[0-4]\d$/.test(model)) return { family: 'keithley2400', model: `Keithley ${model}` };
    if (/^26\d\dB$/.test(model)) return { family: 'keithley2600b', model: `Keithley ${model}` };
  }
  if ((maker.startsWith('KEYSIGHT') || maker.startsWith('AGILENT')) && /^B29[01]\d[AB]?$/.test(model))
    return { family: 'keysightB2900', model: `Keysight ${model}` };
  return null;
}

export const SUPPORTED_MODELS = 'Keithley 2400 series (2400-2440), Keithley 2600B series (2601B-2636B), Keysight B2900 series (B2901A-B2912B)';

/** Identifies the instrument on a transport and returns its driver. */
export async function identifySmu(transport: Transport, opts: { timeoutMs?: number } = {}): Promise<SmuDriver> {
  const probe = new Session(transport, { dialect: 'scpi', timeoutMs: opts.timeoutMs });
  const idn = (await probe.idn()).trim();
  const found = familyFromIdn(idn);
  if (!found)
    throw new InstrumentError(
      'UNKNOWN_MODEL',
      `${transport.address} identifies as ${JSON.stringify(idn)}, which no SMU driver handles (supported: ${SUPPORTED_MODELS})`,
    );
  if (found.family === 'keithley2600b')
    return new Keithley2600B(new Session(transport, { dialect: 'tsp', timeoutMs: opts.timeoutMs }), idn, found.model);
  const session = new Session(transport, { dialect: 'scpi', timeoutMs: opts.timeoutMs });
  return found.family === 'keithley2400' ? new Keithley2400(session, idn, found.model) : new KeysightB2900(session, idn, found.model);
}

/** Opens `address` (VISA string, serial path or host:port), identifies, returns the driver. */
export async function connectSmu(address: string, opts: OpenOptions & { timeoutMs?: number } = {}): Promise<SmuDriver> {
  const transport = await openResource(address, opts);
  try {
    return await identifySmu(transport, opts);
  } catch (err) {
    await transport.close().catch(() => undefined);
    throw err;
  }
}

/**
 * What a stored channel is, for people: its label ("membrane v (A0)", "stimulus i"), the conversion of a
 * stimulus recorded in volts to the protocol's own quantity when the bench configuration gives one, and notes
 * (no conversion; too few samples per stimulus period). Derived when a run is read, from what the run
 * recorded at its start: the channel descriptor, the protocol, and the source's bench snapshot — for a DAQ
 * run the bench configuration's channel labels and `toCurrent` (server/sources/daq-source.ts) and the circuit
 * on the board's pins (its `daq.pins`, server/sources/daq-twin-dut.ts); for a simulated-bench or SMU run the
 * configuration's labels (`bench.labels`, server/sources/options.ts benchLabels).
 */
import type { ChannelInfo } from '../../common/schemas/runs.ts';
import { shortestPeriodS, type Protocol } from '../protocols/index.ts';

/** Fewer samples than this per stimulus period and a square's edges or a sine's peaks are not resolved. */
export const MIN_SAMPLES_PER_PERIOD = 20;

export interface RunContext {
  source: string;
  protocol: { kind: string; quantity?: unknown; [k: string]: unknown };
  bench: unknown;
}

type Meta = Pick<ChannelInfo, 'label' | 'convert' | 'notes'>;

const QUANTITY: Record<string, string> = { V: 'v', A: 'i', S: 'g', Ohm: 'r', Ω: 'r' };
const WORDS: Record<string, string> = { mem: 'membrane', stim: 'stimulus', syn: 'synapse', out: 'output', in: 'input', resp: 'response', ref: 'reference' };
/** A table's own entry: an imported channel named or in a unit "constructor" is not Object's. */
const own = (table: Record<string, string> | undefined, key: string): string | undefined => (table && Object.hasOwn(table, key) ? table[key] : undefined);

/** "v_mem", V → "membrane v"; "stim", A → "stimulus i"; "resp", A → "response i"; others: name and quantity. */
export function humanName(name: string, unit: string): string {
  const q = own(QUANTITY, unit);
  const m = /^([vigq])_(.+)$/i.exec(name);
  if (m) return `${own(WORDS, m[2].toLowerCase()) ?? m[2]} ${m[1].toLowerCase()}`;
  if (name === 't_instr') return 'instrument time';
  const word = own(WORDS, name.toLowerCase()) ?? name;
  return q ? `${word} ${q}` : word;
}

const fmt = (x: number, unit: string) => {
  const prefixes: [number, string][] = [[1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n']];
  const [f, p] = prefixes.find(([f]) => Math.abs(x) >= f * 0.9995) ?? [1e-9, 'n'];
  return `${Number((x / f).toPrecision(3))} ${p}${unit}`;
};

/** The DAQ's `toCurrent` (bench configuration) as a factor from V to A and how it is made. */
function currentConversion(toCurrent: unknown): ChannelInfo['convert'] | undefined {
  const t = toCurrent as { transconductanceS?: unknown; shuntOhms?: unknown } | undefined;
  if (typeof t?.transconductanceS === 'number' && t.transconductanceS > 0) {
    return { unit: 'A', factor: t.transconductanceS, via: `transconductance stage ${fmt(t.transconductanceS, 'A/V')}` };
  }
  if (typeof t?.shuntOhms === 'number' && t.shuntOhms > 0) return { unit: 'A', factor: 1 / t.shuntOhms, via: `shunt resistor ${fmt(t.shuntOhms, 'Ω')}` };
  return undefined;
}

/** What sits on a DAQ run's analog input k: the entry of the circuit's daq.pins, or its default order. */
function daqPin(bench: Record<string, unknown>, k: number): string | undefined {
  const circuit = bench.twinCircuit as { daq?: { pins?: unknown }; outputs?: { name: string; kind?: string }[] } | undefined;
  const pins = circuit?.daq?.pins;
  if (Array.isArray(pins)) return typeof pins[k] === 'string' ? pins[k] : undefined;
  // daq-twin-dut.ts's default: the circuit's voltage outputs in order (at most 5), then the stimulus.
  if (!circuit?.outputs) return undefined;
  const names = circuit.outputs.filter((o) => o.kind === undefined || o.kind === 'v').slice(0, 5).map((o) => o.name);
  return [...names, 'stimulus'][k];
}

export function channelMeta(ch: Pick<ChannelInfo, 'name' | 'unit' | 'role' | 'sampleRate'>, run: RunContext): Meta {
  const bench = (run.bench ?? {}) as Record<string, unknown>;
  const daq = run.source === 'daq' ? ((bench.daq ?? {}) as { labels?: Record<string, string>; stimulus?: { toCurrent?: unknown }; seriesOhms?: number }) : undefined;
  const notes: string[] = [];
  // Labels the bench configuration gives (copied into the run's bench snapshot by the DAQ, SMU and simulated sources).
  let label = own(daq?.labels ?? (bench.labels as Record<string, string> | undefined), ch.name) ?? humanName(ch.name, ch.unit);
  let convert: ChannelInfo['convert'] | undefined;
  if (daq) {
    const pin = /^a(\d)$/.exec(ch.name);
    if (pin) {
      const on = daqPin(bench, Number(pin[1]));
      // A real board (no circuit known) without a configured label: "input v (A0)".
      const base = own(daq.labels, ch.name) ?? (on ? (on === 'stimulus' ? 'stimulus' : humanName(on, ch.unit)) : 'input');
      // The quantity letter where the name does not carry it ("stimulus v", "input v"); a label is taken as given.
      const q = !own(daq.labels, ch.name) && (on === 'stimulus' || !on) ? ` ${own(QUANTITY, ch.unit) ?? ''}`.trimEnd() : '';
      label = `${base}${q} (A${pin[1]})`;
    }
    if (ch.role === 'stimulus' && run.protocol.quantity === 'current' && ch.unit === 'V') {
      convert = currentConversion(daq.stimulus?.toCurrent);
      if (convert) label = own(daq.labels, ch.name) ?? 'stimulus i';
      else {
        label = own(daq.labels, ch.name) ?? 'stimulus v (board output)';
        const series = typeof daq.seriesOhms === 'number' ? ` (nominally I = V / ${fmt(daq.seriesOhms, 'Ω')}, the series resistor, if the device's input sits near 0 V)` : '';
        notes.push(
          `recorded in V, the board's output voltage: the protocol is a current, and the bench configuration gives no conversion (a "toCurrent" with transconductanceS or shuntOhms on its stimulus channel)${series}`,
        );
      }
    }
  }
  let period: number | null = null;
  try {
    period = shortestPeriodS(run.protocol as unknown as Protocol);
  } catch {
    period = null; // a protocol this version does not know: no period to check against
  }
  if (period !== null && ch.sampleRate > 0) {
    const perPeriod = ch.sampleRate * period;
    if (perPeriod < MIN_SAMPLES_PER_PERIOD) {
      notes.push(
        `${Number(perPeriod.toPrecision(2))} samples per stimulus period (${fmt(period, 's')}): fewer than ${MIN_SAMPLES_PER_PERIOD}, so edges and peaks are not resolved; record at ${fmt((MIN_SAMPLES_PER_PERIOD / period), 'S/s')} or more`,
      );
    }
  }
  return { label, ...(convert ? { convert } : {}), ...(notes.length ? { notes } : {}) };
}

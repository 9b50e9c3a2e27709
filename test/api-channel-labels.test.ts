/**
 * Channel labels from the bench configuration for SMU runs too (server/sources/options.ts benchLabels,
 * server/store/channel-meta.ts): a bench whose SMU names its channels `v_dev` (stimulus) and `i_dev`
 * (response) with labels; an SMU run (the virtual Keithley 2400 on a pty, real serial driver) records
 * `stim`, `resp` and `t_instr`, and the API labels them with the configured "device v" and "device i" (the
 * response under the SMU's own name), the instrument's timestamps as "instrument time".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers-live.ts';
import { validateBenchConfig } from '../server/benchconfig/index.ts';

let srv: TestServer;
beforeAll(async () => {
  const bench = validateBenchConfig({
    name: 'bench with an SMU',
    instruments: [
      { id: 'sim', kind: 'simulated', model: 'lif-square-demo', channels: [{ name: 'stim', role: 'stimulus', unit: 'A' }, { name: 'v_mem', role: 'response', unit: 'V' }] },
      {
        id: 'smu1',
        kind: 'smu',
        model: 'keithley-2400',
        port: '/dev/ttyNOSUCH',
        channels: [
          { name: 'v_dev', role: 'stimulus', unit: 'V', label: 'device v' },
          { name: 'i_dev', role: 'response', unit: 'A', label: 'device i' },
        ],
      },
    ],
    limits: { maxVoltage: 20, maxCurrent: 0.01, maxPower: 0.25, compliance: { current: 0.01, voltage: 20 } },
  });
  srv = await startServer({ bench }, false);
});
afterAll(async () => {
  await srv?.close();
});

describe('SMU runs: channel labels from the bench configuration', () => {
  it('labels stim and resp with the configured SMU channels', { timeout: 60_000 }, async () => {
    const r = await srv.inject({ method: 'POST', url: '/api/runs', payload: { protocol: { kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.2 }, source: 'smu', sampleRate: 100 } });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().run.id as number;
    let run: { status: string; channels: { name: string; role: string; unit: string; label: string }[] };
    do {
      await new Promise((res) => setTimeout(res, 200));
      run = (await srv.inject({ method: 'GET', url: `/api/runs/${id}` })).json().run;
    } while (run.status === 'running');
    expect(run.status).toBe('completed');
    expect(run.channels.map((c) => [c.name, c.role, c.unit, c.label])).toEqual([
      ['stim', 'stimulus', 'V', 'device v'],
      ['resp', 'response', 'A', 'device i'],
      ['t_instr', 'response', 's', 'instrument time'],
    ]);
  });
});

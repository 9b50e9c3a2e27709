/**
 * The twin as a run source: through the run manager into a real SQLite store, via the API (app.inject),
 * fed from a recorded run (linked), and from the CLI (`twin run`, `twin spice`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../server/twin/index.ts';
import { loadExampleCircuit } from '../server/sources/twin-source.ts';
import { sampleStimulus, validateProtocol } from '../server/protocols/index.ts';
import { stimulusPieces } from '../server/protocols/compile.ts';
import { useInjectServer } from './helpers-live.ts';

const server = useInjectServer();
const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) => server.s.app.inject({ method, url, ...(payload ? { payload } : {}) });
const square = { kind: 'square', quantity: 'current', amplitude: 1e-3, frequencyHz: 1000, duty: 0.5, offset: 0, durationS: 0.003 };
const readAll = (runId: number, channel: number, n: number) => {
  const out = new Float64Array(n);
  for (const s of server.s.store.readRaw(runId, channel, 0, n)) out.set(Array.from(s.samples), s.start);
  return out;
};

describe('twin run source', () => {
  it('POST /api/twin/runs stores the same samples and spikes as simulate()', async () => {
    const r = await inject('POST', '/api/twin/runs', { circuit: 'adaptive-lif', protocol: square, sampleRate: 1e6, label: 'twin' });
    expect(r.statusCode).toBe(201);
    const id = r.json().run.id as number;
    await server.s.app.spikeloop.runs.waitForEnd(id);
    const run = server.s.store.getRun(id)!;
    expect(run.status).toBe('completed');
    expect(run.source).toBe('twin');
    expect(run.channels.map((c) => [c.name, c.role, c.unit])).toEqual([
      ['stim', 'stimulus', 'A'], ['v_mem', 'response', 'V'], ['x_mem', 'response', '1'], ['i_mem', 'response', 'A'],
    ]);
    const n = 3000;
    expect(run.channels[1].sampleCount).toBe(n);
    // the square wave reaches the twin as its exact edges (the stim channel stores its samples)
    const p = validateProtocol(square);
    const ref = simulate(loadExampleCircuit('adaptive-lif'), { samples: sampleStimulus(p, 1e6, 0, n), sampleRate: 1e6, quantity: 'current', pieces: stimulusPieces(p)! });
    const v = readAll(id, 1, n);
    for (let k = 0; k < n; k += 97) expect(v[k]).toBe(Math.fround(ref.channels[0].data[k]));
    expect(run.eventCounts.spike).toBe(ref.events.length);
    // the exact (sub-sample) event times are kept: GET /api/runs/:id/events gives them as time_s
    const ev = (await inject('GET', `/api/runs/${id}/events?kind=spike`)).json().events as { index: number; time_s: number | null }[];
    expect(ev.length).toBe(ref.events.length);
    ev.forEach((e, k) => {
      expect(e.time_s).toBe(ref.events[k].time);
      expect(Math.abs(e.time_s! - e.index / 1e6)).toBeLessThanOrEqual(0.5 / 1e6);
    });
    expect(ev.some((e) => e.time_s !== e.index / 1e6)).toBe(true);
  });

  it('twin runs go up to 10 MS/s (other sources stay at the run manager limit)', async () => {
    const r = await inject('POST', '/api/twin/runs', { circuit: 'lif', protocol: { ...square, durationS: 1e-4 }, sampleRate: 1e7 });
    expect(r.statusCode).toBe(201);
    const id = r.json().run.id as number;
    await server.s.app.spikeloop.runs.waitForEnd(id);
    expect(server.s.store.getRun(id)!.channels[1].sampleCount).toBe(1000);
    expect((await inject('POST', '/api/twin/runs', { circuit: 'lif', protocol: square, sampleRate: 2e7 })).statusCode).toBe(400);
    expect((await inject('POST', '/api/runs', { protocol: square, sampleRate: 1e7 })).statusCode).toBe(400);
  });

  it('a twin run fed from a recorded run uses its stimulus and is linked to it', async () => {
    const r = await inject('POST', '/api/runs', { protocol: square, sampleRate: 100_000 });
    const measured = r.json().run.id as number;
    await server.s.app.spikeloop.runs.waitForEnd(measured);
    const t = await inject('POST', '/api/twin/runs', { circuit: 'lif', stimulusRun: { runId: measured, channel: 'stim' }, method: 'rk4' });
    expect(t.statusCode).toBe(201);
    const id = t.json().run.id as number;
    await server.s.app.spikeloop.runs.waitForEnd(id);
    const run = server.s.store.getRun(id)!;
    expect(run.linkedRunId).toBe(measured);
    const m = server.s.store.getRun(measured)!;
    const n = m.channels[0].sampleCount;
    expect(run.channels[0].sampleCount).toBe(n);
    const a = readAll(measured, 0, n).map((x) => x * m.channels[0].scale + m.channels[0].offset);
    const b = readAll(id, 0, n);
    for (let k = 0; k < n; k += 13) expect(b[k]).toBe(a[k]);
  });

  it('lists circuits and models; refuses a bad circuit with 400 naming /circuit', async () => {
    const c = (await inject('GET', '/api/twin/circuits')).json();
    expect(c.circuits.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['lif', 'adaptive-lif', 'cpg2', 'er100', 'nwn2000']));
    const m = (await inject('GET', '/api/twin/models')).json();
    expect(m.models.find((x: { name: string }) => x.name === 'mms').defaults).toMatchObject({ Ron: 500, Roff: 1500, Von: 0.27, Voff: 0.27, tau: 1e-4 });
    const bad = await inject('POST', '/api/twin/runs', { circuit: { kind: 'netlist', elements: [{ type: 'R', a: 'x', b: 'x', value: 1 }] }, protocol: square });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('/circuit');
    const both = await inject('POST', '/api/twin/runs', { circuit: 'lif' });
    expect(both.statusCode).toBe(400);
  });
});

describe('twin CLI', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/spikeloop.js'), ...args], { encoding: 'utf8' });

  it('twin run --json prints one JSON object and stores a completed run', () => {
    const proto = path.join(server.s.dir, 'dc.json');
    writeFileSync(proto, JSON.stringify({ kind: 'dc', quantity: 'current', level: 20e-6, durationS: 0.02 }));
    const db = path.join(server.s.dir, 'cli.db');
    const r = cli('twin', 'run', 'lif', '--stimulus', proto, '--rate', '10000', '--db', db, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('completed');
    expect(out.samples).toBe(200);
    expect(out.eventCounts.spike).toBe(2); // closed form: 6.93 ms, then every 8.93 ms
  });

  it('twin spice writes an ngspice netlist with the stimulus as PWL', () => {
    const proto = path.join(server.s.dir, 'sq.json');
    writeFileSync(proto, JSON.stringify({ ...square, durationS: 0.001 }));
    const r = cli('twin', 'spice', 'adaptive-lif', '--stimulus', proto, '--rate', '10000');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\* spikeloop twin: adaptive-lif/);
    expect(r.stdout).toMatch(/\nbM n_m\S* n_k I=/);
    // the exact edges of the square wave (each a 1 ps ramp), not the samples
    expect(r.stdout).toMatch(/\niIin 0 \S+ PWL\(0 0\.001 0\.0005 0\.001 0\.000500000001 0\)/);
    expect(r.stdout).toMatch(/\.tran .*uic\n/);
    expect(r.stdout.trim().endsWith('.end')).toBe(true);
  });
});

/**
 * Every analysis of the registry, run on stored runs (the simulated bench, its twin pairing, twin runs of
 * cpg2, nsu-tonic and the plastic network) through the API, and its result checked against the result
 * schema its registry entry declares (common/schemas/analysis-results.ts) with TypeBox's compiler. The
 * schemas' objects are closed, so a field added or renamed in the code fails here; every field a schema
 * lists must also turn up in one of the results, so a field dropped from the code fails too. GET
 * /api/analyses and the OpenAPI document carry the same schemas; the CLI's --json prints the same results.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { ANALYSES, findAnalysis } from '../server/analysis-io/registry.ts';
import { resultVariants } from '../server/analysis-io/result-fields.ts';
import type { SpikesResult } from '../common/schemas/analysis-results.ts';
import { useInjectServer } from './helpers-live.ts';

const server = useInjectServer();
const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const r = await server.s.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (r.statusCode !== 200 && r.statusCode !== 201) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json();
};
const ended = async (id: number) => {
  await server.s.app.spikeloop.runs.waitForEnd(id);
  expect(server.s.store.getRun(id)!.status).toBe('completed');
  return id;
};
const twinRun = async (circuit: string, protocol: object, sampleRate: number) => ended((await inject('POST', '/api/twin/runs', { circuit, protocol, sampleRate })).run.id);
const cli = promisify(execFile);

/** The JSON paths present in a value, as result-fields.ts names them (`channels[].stats.rate_hz`). */
function paths(v: unknown, at: string, out: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) paths(x, `${at}[]`, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      out.add(p);
      // a record's keys are data (likelihood-ratio params), not fields
      if (!(k === 'params' && at.startsWith('compare.'))) paths(x, p, out);
    }
}

describe('analysis results against their schemas', () => {
  it('every registered analysis, on stored runs, in each of its shapes', async () => {
    const sim = await ended((await inject('POST', '/api/runs', { protocol: { kind: 'square', durationS: 0.05 } })).run.id);
    const twin = await ended((await inject('POST', `/api/runs/${sim}/pair`, { circuit: 'lif-bench' })).twinRunId);
    const cpg = await twinRun('cpg2', { kind: 'dc', quantity: 'current', level: 50e-6, durationS: 0.2 }, 2e5);
    const ladder = await twinRun('nsu-tonic', { kind: 'ladder', quantity: 'current', levels: [0, 1e-4, 1e-3], dwellS: 0.02 }, 2e5);
    const chirp = await ended((await inject('POST', '/api/runs', { protocol: { kind: 'chirp', quantity: 'current', amplitude: 0.002, durationS: 0.5, startHz: 10, stopHz: 3000 } })).run.id);
    const plastic = await twinRun(
      'spiking-er-stdp',
      { kind: 'stdp', quantity: 'voltage', preAmplitude: 1, postAmplitude: 1, pulseWidthS: 0.001, spikeShape: 'exp-tail', tailRatio: 0.8, tailTauS: 0.003, tailS: 0.01, offsetsS: [-0.004, 0.004, -0.002, 0.002], pairsPerOffset: 2, pairPeriodS: 0.03, readAmplitude: 0.1, readWidthS: 0.005, gapS: 0.01 },
      1e5,
    );
    const onRun = async (id: number, name: string, params: object = {}) => {
      const r = await inject('POST', `/api/runs/${id}/analyses/${name}`, params);
      expect(r.runId).toBe(id);
      return r.result as unknown;
    };
    const spikes = (await onRun(sim, 'spikes', { modes: true })) as SpikesResult;
    const times = spikes.channels[0].times_s;
    const cpgSpikes = (await onRun(cpg, 'spikes', { channel: 'v_outA' })) as SpikesResult;
    const trains = [times, cpgSpikes.channels[0].times_s];
    const avalanches = (await onRun(sim, 'avalanches')) as { sizes: number[] };
    const curve = await inject('POST', '/api/experiments/stdp', { runIds: [plastic] });
    const results: [string, string, unknown][] = [
      ['spikes', 'modes', spikes],
      ['spikes', 'defaults', await onRun(sim, 'spikes')],
      ['spikes', 'stored events', await onRun(twin, 'spikes', { events: true })],
      ['bursts', 'log-isi', await onRun(sim, 'bursts')],
      ['bursts', 'max-interval', await onRun(sim, 'bursts', { method: 'max-interval', min_spikes: 2 })],
      ['avalanches', 'defaults', avalanches],
      ['psd', 'band', await onRun(cpg, 'psd', { band: [10, 1000] })],
      ['psd', 'defaults', await onRun(sim, 'psd')],
      ['resonance', 'chirp run', await onRun(chirp, 'resonance')],
      ['resonance', 'table', await inject('POST', '/api/analysis/resonance', { points: [{ frequency: 1, response: 1 }, { frequency: 2, response: 5 }, { frequency: 3, response: 2 }] })],
      // the same run at two frequencies: equal counts, no response
      ['resonance', 'stepped, no response', await inject('POST', '/api/analysis/resonance', { runIds: [sim, sim], frequencies: [10, 20] })],
      ['phase', 'cpg2', await onRun(cpg, 'phase', { channels: ['v_outA', 'v_outB'] })],
      ['stdp', 'pairs of a plastic twin run', await inject('POST', '/api/analysis/stdp', { pairs: curve.pairs.map((p: { dt_s: number; dw: number }) => ({ dt: p.dt_s, dw: p.dw })) })],
      ['stdp', 'a plastic twin run (its pairing blocks)', await onRun(plastic, 'stdp')],
      ['regime', 'one run', await onRun(sim, 'regime')],
      ['regime', 'ladder', await onRun(ladder, 'regime')],
      ['regime', 'several runs', await inject('POST', '/api/analysis/regime', { runIds: [sim, ladder], values: [1, 2] })],
      ['compare', 'twin pairing', await onRun(sim, 'compare')],
      ['powerlaw', 'bootstrap and compare', await inject('POST', '/api/analysis/powerlaw', { values: avalanches.sizes, bootstrap: 10, compare: true })],
      ['powerlaw', 'defaults', await inject('POST', '/api/analysis/powerlaw', { values: times.slice(1).map((t, k) => t - times[k]) })],
      ['distance', 'van-rossum', await inject('POST', '/api/analysis/distance', { trains, metric: 'van-rossum' })],
      ['distance', 'victor-purpura', await inject('POST', '/api/analysis/distance', { trains, metric: 'victor-purpura' })],
      ['distance', 'isi', await inject('POST', '/api/analysis/distance', { trains, metric: 'isi' })],
      ['spike-stats', 'stored events', await onRun(sim, 'spike-stats')],
      ['spike-train', 'stored events', await onRun(twin, 'spike-train')],
    ];
    expect(new Set(results.map(([name]) => name)), 'every registered analysis is run').toEqual(new Set(ANALYSES.map((a) => a.name)));

    const seen = new Map<string, Set<string>>();
    const wrong: string[] = [];
    for (const [name, shape, result] of results) {
      const check = Compile(findAnalysis(name)!.result);
      if (!check.Check(result)) wrong.push(`${name} (${shape}): ${[...check.Errors(result)].slice(0, 4).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
      if (!seen.has(name)) seen.set(name, new Set());
      paths(result, '', seen.get(name)!);
    }
    expect(wrong).toEqual([]);
    // every field a schema lists is sent by one of the shapes run above
    for (const def of ANALYSES) {
      const listed = resultVariants(def.result).flatMap((v) => v.fields.map((f) => f.path));
      expect(listed.filter((p) => !seen.get(def.name)!.has(p)), `${def.name}: fields of the schema no result had`).toEqual([]);
    }

    // GET /api/analyses sends each schema, and the OpenAPI document has it as its route's answer
    const list = (await inject('GET', '/api/analyses')).analyses as { name: string; route: string; result: unknown }[];
    type Shape = { anyOf?: Shape[]; properties?: Record<string, Shape> };
    const fields = (x: Shape) => (x.anyOf ?? [x]).map((v) => Object.keys(v.properties ?? {}).sort());
    const openapi = (await server.s.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, { post: { responses: Record<string, { content: Record<string, { schema: Shape }> }> } }> };
    for (const a of list) {
      expect(a.result, a.name).toEqual(JSON.parse(JSON.stringify(findAnalysis(a.name)!.result)));
      const answer = openapi.paths[a.route.replace(':id', '{id}')].post.responses['200'].content['application/json'].schema;
      expect(fields(a.route.includes(':id') ? answer.properties!.result : answer), a.route).toEqual(fields(a.result as Shape));
    }

    // the CLI's --json: a run's envelope (here read from the store), and a bare data result
    const run = async (args: string[]) => JSON.parse((await cli(process.execPath, ['bin/spikeloop.js', 'analyze', ...args, '--json'], { cwd: path.resolve(__dirname, '..') })).stdout);
    const stored = await run(['spike-stats', String(sim), '--db', server.s.store.file]);
    expect(stored.cached).toBe(true);
    expect(Compile(findAnalysis('spike-stats')!.result).Check(stored.result)).toBe(true);
    const file = path.join(server.s.dir, 'sizes.txt');
    writeFileSync(file, avalanches.sizes.join('\n'));
    expect(Compile(findAnalysis('powerlaw')!.result).Check(await run(['powerlaw', file]))).toBe(true);
  }, 120_000);
});

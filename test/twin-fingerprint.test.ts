/**
 * Bit-identity of the twin engine: fixed circuits (frozen here, not the shipped files, which are tuned)
 * run on fixed stimuli with every integration method; the SHA-256 of every output sample, every event
 * time and the step statistics must equal the fingerprints in fixtures/twin-fingerprints.json. A
 * restructuring of the engine (server/twin/) must keep them; a deliberate change of the numbers (a model's
 * equations or defaults, the solver's arithmetic) regenerates them with
 *   SPIKELOOP_UPDATE_FINGERPRINTS=1 npx vitest run test/twin-fingerprint.test.ts
 * and says why in its commit.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { simulate, createTwin, expandCircuit, type Stimulus, type TwinOptions } from '../server/twin/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/twin-fingerprints.json', import.meta.url));
const UPDATE = process.env.SPIKELOOP_UPDATE_FINGERPRINTS === '1';

const LIF = {
  kind: 'netlist', name: 'fp-lif',
  elements: [
    { type: 'I', name: 'Iin', a: '0', b: 'm', stimulus: true },
    { type: 'C', name: 'Cm', a: 'm', b: '0', value: 100e-9 },
    { type: 'R', name: 'Rm', a: 'm', b: '0', value: 100e3 },
    { type: 'neuron', name: 'N', node: 'm', vth: 1.0, vreset: 0.0, tref: 2e-4 },
  ],
  outputs: [{ name: 'v_mem', kind: 'v', node: 'm' }, { name: 'i_in', kind: 'i', element: 'Iin' }, { name: 'i_c', kind: 'i', element: 'Cm' }],
};
const ADAPTIVE_LIF = {
  kind: 'netlist', name: 'fp-adaptive-lif',
  elements: [
    { type: 'I', name: 'Iin', a: '0', b: 'm', stimulus: true },
    { type: 'C', name: 'Cm', a: 'm', b: '0', value: 50e-9 },
    { type: 'device', name: 'M', a: 'm', b: 'k', model: 'mms', x0: 0 },
    { type: 'R', name: 'Rs', a: 'k', b: '0', value: 500 },
    { type: 'neuron', name: 'N', node: 'm', vth: 0.8, vreset: 0.0, tref: 2e-6 },
  ],
  outputs: [{ name: 'v_mem', kind: 'v', node: 'm' }, { name: 'x_mem', kind: 'x', element: 'M' }, { name: 'i_mem', kind: 'i', element: 'M' }],
};
/** A threshold-junction network with an algebraic node system (the n = 20 benchmark's topology). */
const ER = {
  kind: 'erdos-renyi', name: 'fp-er', n: 20, p: 0.3, seed: 1, junction: { model: 'threshold' },
  electrodes: [{ node: 0, stimulus: true }, { node: 19, value: 0 }], record: ['nodes', 'states'],
};
/** A capacitive network of volatile junctions behind a source resistance with compliance, all detectors. */
const SPIKING = {
  kind: 'erdos-renyi', name: 'fp-spiking', n: 20, p: 0.3, seed: 1,
  junction: { model: 'diffusive', params: { tau_on: 5e-6, tau_relax: 1e-3 }, spread: { Vth: 0.2, tau_relax: 1 } },
  electrodes: [{ node: 0, stimulus: true, sourceResistance: 27000, compliance: 6e-5, capacitance: 1e-7 }, { node: -1, value: 0 }],
  capacitance: 1e-9,
  spikes: [{ kind: 'current', electrode: 0, threshold: 2e-5, highpass: 1e-4 }, { kind: 'switching', merge: 3e-5 }],
};
/** SPIKING's junctions with each configuration of extra states (models.ts stateForms): thermal (spiking-er's), stochastic, both. */
const spikingWith = (name: string, params: object) => ({ ...SPIKING, name, junction: { ...SPIKING.junction, params: { ...SPIKING.junction.params, ...params } } });
const THERMAL = { tau_th: 8e-3, Rth: 1e6, gamma: 4.5e-3 };
const STOCHASTIC = { sigma_sw: 0.3, tau_sw: 1e-3, seed_sw: 7 };
/** Nonlinear-in-v device, floating and driven capacitors, a compliance resistor on an algebraic node. */
const MIXED = {
  kind: 'netlist', name: 'fp-mixed',
  elements: [
    { type: 'V', name: 'Vs', node: 'in', stimulus: true },
    { type: 'R', name: 'Rin', a: 'in', b: 'm', value: 1e3 },
    { type: 'C', name: 'Cm', a: 'm', b: '0', value: 1e-8 },
    { type: 'C', name: 'Cf', a: 'm', b: 'k', value: 2e-9 },
    { type: 'C', name: 'Ck', a: 'k', b: '0', value: 5e-9 },
    { type: 'C', name: 'Cd', a: 'in', b: 'k', value: 1e-9 },
    { type: 'device', name: 'G', a: 'm', b: 'k', model: 'gmms' },
    { type: 'device', name: 'H', a: 'k', b: 'q', model: 'hp' },
    { type: 'R', name: 'Rq', a: 'q', b: '0', value: 500, imax: 1e-3 },
    { type: 'I', name: 'Ib', a: '0', b: 'q', value: 1e-5 },
  ],
  outputs: [
    { name: 'vm', kind: 'v', node: 'm' }, { name: 'ig', kind: 'i', element: 'G' }, { name: 'xg', kind: 'x', element: 'G' },
    { name: 'ic', kind: 'i', element: 'Cf' }, { name: 'iv', kind: 'i', element: 'Vs' }, { name: 'ir', kind: 'i', element: 'Rq' },
  ],
};

const FS = 100_000;
/** A 1 kHz square (sampled, with its exact edges as pieces, or held per sample) and a 500 Hz sine. */
function square(n: number, amp: number): { samples: Float64Array; pieces: { times: Float64Array; values: Float64Array } } {
  const samples = Float64Array.from({ length: n }, (_, k) => ((k / FS) * 1000) % 1 < 0.5 ? amp : 0);
  const edges = Math.ceil((n / FS) * 2000);
  const times = Float64Array.from({ length: edges }, (_, k) => k / 2000);
  const values = Float64Array.from({ length: edges }, (_, k) => (k % 2 === 0 ? amp : 0));
  return { samples, pieces: { times, values } };
}
const sine = (n: number, amp: number) => Float64Array.from({ length: n }, (_, k) => amp * Math.sin(2 * Math.PI * 500 * (k / FS)));

type Case = { circuit: object; stimulus: Stimulus; opts: TwinOptions };
function cases(): Record<string, Case> {
  const out: Record<string, Case> = {};
  const add = (name: string, circuit: object, stimulus: Stimulus, methods: TwinOptions[]) => {
    for (const o of methods) out[`${name} ${o.method ?? 'default'}${o.solver ? ' ' + o.solver : ''}`] = { circuit, stimulus, opts: o };
  };
  const i1 = square(2000, 1.5e-4);
  add('lif square pieces', LIF, { samples: i1.samples, pieces: i1.pieces, sampleRate: FS, quantity: 'current' }, [{ method: 'rk4' }, { method: 'euler' }, { method: 'adaptive' }]);
  add('lif sine held', LIF, { samples: sine(2000, 2e-4), sampleRate: FS, quantity: 'current', hold: true }, [{ method: 'rk4' }]);
  const i2 = square(2000, 1e-3);
  add('adaptive-lif square', ADAPTIVE_LIF, { samples: i2.samples, sampleRate: FS, quantity: 'current' }, [{ method: 'rk4' }, { method: 'adaptive' }]);
  add('er dc', ER, { samples: new Float64Array(2000).fill(3), sampleRate: FS, quantity: 'voltage' }, [{ method: 'euler' }, { method: 'rk4' }, { method: 'euler', solver: 'direct' }]);
  const v1 = square(4000, 5);
  add('spiking square pieces', SPIKING, { samples: v1.samples, pieces: v1.pieces, sampleRate: FS, quantity: 'voltage' }, [{ method: 'implicit' }, { method: 'rk4' }]);
  add('spiking sine', SPIKING, { samples: sine(4000, 5), sampleRate: FS, quantity: 'voltage' }, [{ method: 'implicit' }, { method: 'euler' }]);
  const sq = { samples: v1.samples, pieces: v1.pieces, sampleRate: FS, quantity: 'voltage' } as const;
  add('spiking thermal square', spikingWith('fp-spiking-thermal', THERMAL), sq, [{ method: 'implicit' }, { method: 'rk4' }]);
  add('spiking stochastic square', spikingWith('fp-spiking-stochastic', STOCHASTIC), sq, [{ method: 'implicit' }, { method: 'rk4' }]);
  add('spiking thermal stochastic square', spikingWith('fp-spiking-thermal-stochastic', { ...THERMAL, ...STOCHASTIC }), sq, [{ method: 'implicit' }]);
  add('mixed sine', MIXED, { samples: sine(2000, 1.5), sampleRate: FS, quantity: 'voltage' }, [{ method: 'rk4' }, { method: 'adaptive' }]);
  return out;
}

function fingerprint(c: Case): string {
  const r = simulate(c.circuit, c.stimulus, c.opts);
  const h = createHash('sha256');
  for (const ch of r.channels) h.update(ch.name).update(Buffer.from(ch.data.buffer, ch.data.byteOffset, ch.data.byteLength));
  for (const e of r.events) h.update(`${e.time}|${e.element}|${e.node}|${e.index};`);
  h.update(JSON.stringify(r.stats));
  return `${h.digest('hex').slice(0, 24)} events=${r.events.length} steps=${r.stats.steps}`;
}

/** The incremental API: held inputs changed between uneven advances, probes and node voltages read after each. */
function incremental(): string {
  const h = createHash('sha256');
  const tw = createTwin(expandCircuit(SPIKING), { method: 'implicit', dt: 1e-5 });
  for (let k = 1; k <= 300; k++) {
    if (k % 50 === 1) tw.setInput(k % 100 === 1 ? 5 : 2.5);
    tw.advanceTo(k * 1.37e-5);
    for (const p of tw.outputs) h.update(`${tw.read(p)},`);
    h.update(`${tw.voltage('n3')};`);
    for (const e of tw.takeEvents()) h.update(`${e.time}|${e.element};`);
  }
  h.update(JSON.stringify(tw.stats));
  return h.digest('hex').slice(0, 24);
}

describe('twin engine fingerprints (bit-identical outputs)', () => {
  const stored = UPDATE ? {} : (JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>);
  const now: Record<string, string> = {};
  for (const [name, c] of Object.entries(cases()))
    it(name, () => {
      now[name] = fingerprint(c);
      if (!UPDATE) expect(now[name], `${name}: outputs changed (see this file's header)`).toBe(stored[name]);
    });
  it('incremental stepping', () => {
    now.incremental = incremental();
    if (!UPDATE) expect(now.incremental).toBe(stored.incremental);
    else writeFileSync(FIXTURE, JSON.stringify(now, null, 2) + '\n');
  });
});

/**
 * The simulated bench: a leaky integrate-and-fire (LIF) neuron driven by the protocol's stimulus, sampled
 * by a pretend 16-bit ADC and emitted as a run stream in real time (paced by the wall clock, one block per
 * channel every ~20 ms). It is what `npm start` uses without hardware, and the no-hardware demo.
 *
 * The neuron is the twin circuit server/twin/circuits/lif-bench.json (its parameters are read from that
 * file, LIF_CIRCUIT), so a run paired with the twin on that circuit differs from the twin only by the
 * ADC quantisation and the drawn spike sample (below). One membrane node, SI units:
 *   C dV/dt = -(V - V_rest) / R + I(t)          I(t) = stimulus (A); a voltage stimulus U(t) drives I = U / R
 * solved the way the twin solves it: sample k is the state at t = k / sampleRate (sample 0 the initial
 * state), the stimulus is linearly interpolated between samples, and each sample interval is integrated
 * exactly for that ramp (V_inf = V_rest + R I going linearly from a0 to a1 over h, τ = R C):
 *   V(h) = a1 − kτ + (V(0) − a0 + kτ) e^(−h/τ),   k = (a1 − a0) / h
 * A threshold crossing is located inside the interval (bisection on the same closed form), V is reset to
 * V_reset there and held for the refractory period from that instant, then integrated again; a `spike`
 * event is emitted at the first sample after the crossing, and that sample reads V_spike (the drawn spike,
 * not part of the circuit: what the twin shows there is V_reset or the recovery after it).
 *
 * Parameters (LIF_PARAMS, from the circuit): R = 1 kΩ, C = 100 nF (τ = 100 µs), V_rest = V_reset = 0 V,
 * V_threshold = 0.8 V, refractory 50 µs; V_spike = 1.0 V. With the default square wave (1 mA, 1 kHz, 50 %
 * duty) V_inf = 1 V during the high half: the first spike comes τ·ln(1/(1-0.8)) ≈ 161 µs after the edge,
 * the second 50 µs + 161 µs later (≈ 372 µs), the third would need ≈ 583 µs > 500 µs, so the neuron fires
 * two spikes per period (2000 spikes/s) and decays to ~0 during the low half.
 *
 * Channels: 0 `stim` (role stimulus, A or V), 1 `v_mem` (role response, V), both int16 codes with
 * physical = code * scale + offset (offset 0). v_mem spans ±2.048 V (scale 62.5 µV); the stimulus range is
 * the smallest 1-2-5 step >= 1.05 × the protocol's peak magnitude. Codes saturate at the int16 limits
 * like a real ADC. The output is a pure function of (protocol, sampleRate): block boundaries depend on
 * timing, the samples never do, so tests regenerate a run with `LifBench`.
 */
import type { ChannelDescriptor, EventMessage, SourceMessage } from '../../common/run-stream.ts';
import { protocolSummary, stimulusAt, type Protocol } from '../protocols/index.ts';
import { Type, type Static } from 'typebox';
import { builtInCircuit } from '../twin/circuits/index.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';
import { benchLabels } from './options.ts';

/** The twin circuit of the simulated bench (name and document). */
export const LIF_CIRCUIT_NAME = 'lif-bench';
export const LIF_CIRCUIT: unknown = builtInCircuit(LIF_CIRCUIT_NAME);

/** Reads R, C, threshold, reset and refractory period of the one-node LIF circuit (membrane node "m"). */
function lifParamsOf(circuit: unknown) {
  const els = (circuit as { elements: { type: string; a?: string; b?: string; node?: string; value?: number; vth?: number; vreset?: number; tref?: number }[] }).elements;
  const onM = (e: { a?: string; b?: string }) => (e.a === 'm' && e.b === '0') || (e.a === '0' && e.b === 'm');
  const r = els.find((e) => e.type === 'R' && onM(e));
  const c = els.find((e) => e.type === 'C' && onM(e));
  const n = els.find((e) => e.type === 'neuron' && e.node === 'm');
  if (!r?.value || !c?.value || n?.vth === undefined || n.vreset === undefined) throw new Error(`${LIF_CIRCUIT_NAME}.json: expected Rm, Cm and a neuron on node m`);
  return { R: r.value, C: c.value, vRest: 0, vReset: n.vreset, vThreshold: n.vth, vSpike: 1.0, refractoryS: n.tref ?? 0 };
}

export const LIF_PARAMS: {
  /** Membrane (leak) resistance, Ω. */
  readonly R: number;
  /** Membrane capacitance, F. */
  readonly C: number;
  readonly vRest: number;
  readonly vReset: number;
  readonly vThreshold: number;
  /** Value drawn at the spike sample, V (a bench convention, not part of the circuit). */
  readonly vSpike: number;
  readonly refractoryS: number;
} = Object.freeze(lifParamsOf(LIF_CIRCUIT));

/** Full-scale of the response ADC channel, V (±). */
export const RESPONSE_FULL_SCALE_V = 2.048;
/** Wall-clock pacing of blocks, ms. */
export const BLOCK_INTERVAL_MS = 20;
/** Largest block emitted (a stalled event loop catches up in several blocks). */
export const MAX_BLOCK_SAMPLES = 65_536;

/** Smallest 1-2-5 step >= x (x > 0). */
function niceRange(x: number): number {
  const e = Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) {
    const r = m * 10 ** e;
    if (r >= x * (1 - 1e-12)) return r;
  }
  return 10 ** (e + 1);
}

function toCode(value: number, scale: number): number {
  const c = Math.round(value / scale);
  return c > 32767 ? 32767 : c < -32768 ? -32768 : c;
}

export interface LifChunk {
  stim: Int16Array;
  resp: Int16Array;
  /** Spikes in this chunk: absolute sample index and drawn value (V). */
  spikes: { index: number; value: number }[];
}

/** The deterministic sample generator behind the simulated bench (sequential: call `next` repeatedly). */
export class LifBench {
  readonly channels: ChannelDescriptor[];
  private v: number = LIF_PARAMS.vRest;
  /** Refractory time left at the current sample instant, s (0 = free). */
  private refLeft = 0;
  /** V_inf of the previous sample's stimulus (the start of the next ramp). */
  private aPrev = 0;
  private index = 0;
  private readonly decay: number;
  private readonly tau: number;
  private readonly h: number;
  private readonly drive: number;

  constructor(
    readonly protocol: Protocol,
    readonly sampleRate: number,
  ) {
    const s = protocolSummary(protocol);
    const peak = Math.max(Math.abs(s.min), Math.abs(s.max));
    const range = peak > 0 ? niceRange(peak * 1.05) : 1;
    this.channels = [
      { name: 'stim', unit: s.unit, sampleRate, dtype: 'int16', scale: range / 32768, offset: 0, role: 'stimulus' },
      { name: 'v_mem', unit: 'V', sampleRate, dtype: 'int16', scale: RESPONSE_FULL_SCALE_V / 32768, offset: 0, role: 'response' },
    ];
    this.tau = LIF_PARAMS.R * LIF_PARAMS.C;
    this.h = 1 / sampleRate;
    this.decay = Math.exp(-this.h / this.tau);
    // V_inf - V_rest per unit of stimulus: R for a current, 1 for a voltage applied through R.
    this.drive = protocol.quantity === 'current' ? LIF_PARAMS.R : 1;
  }

  /** Index of the next sample `next` will produce. */
  get position(): number {
    return this.index;
  }

  next(count: number): LifChunk {
    const stim = new Int16Array(count);
    const resp = new Int16Array(count);
    const spikes: LifChunk['spikes'] = [];
    const [cs, cr] = this.channels;
    const { vRest, vReset, vThreshold, vSpike, refractoryS } = LIF_PARAMS;
    const p = this.protocol;
    const rate = this.sampleRate;
    const { drive, decay, tau, h, index } = this;
    const stimScale = cs.scale;
    const respScale = cr.scale;
    let v = this.v;
    let refLeft = this.refLeft;
    let a0 = this.aPrev;
    for (let i = 0; i < count; i++) {
      const n = index + i;
      const x = stimulusAt(p, n / rate);
      stim[i] = toCode(x, stimScale);
      const a1 = vRest + drive * x;
      let out: number;
      if (n === 0) {
        out = v; // the initial state
      } else {
        const k = (a1 - a0) / h;
        let spiked = false;
        if (refLeft <= 0) {
          // fast path: one exact ramp step
          const v1 = a1 - k * tau + (v - a0 + k * tau) * decay;
          if (v1 < vThreshold) v = v1;
          else ({ v, refLeft, spiked } = stepWithSpikes(v, 0, a0, k, h, tau, vThreshold, vReset, refractoryS));
        } else if (refLeft >= h) {
          refLeft -= h;
          v = vReset;
        } else ({ v, refLeft, spiked } = stepWithSpikes(vReset, refLeft, a0, k, h, tau, vThreshold, vReset, refractoryS));
        if (spiked) {
          spikes.push({ index: n, value: vSpike });
          out = vSpike;
        } else out = v;
      }
      a0 = a1;
      resp[i] = toCode(out, respScale);
    }
    this.v = v;
    this.refLeft = refLeft;
    this.aPrev = a0;
    this.index += count;
    return { stim, resp, spikes };
  }
}

/**
 * One sample interval [0, h] of the ramp V_inf(s) = a0 + k s, free from s0 on with V(s0) = v0: integrates
 * exactly, locating threshold crossings (reset, refractory from the crossing) until the end of the interval.
 */
function stepWithSpikes(v0: number, s0: number, a0: number, k: number, h: number, tau: number, vth: number, vReset: number, tref: number) {
  let s = s0;
  let v = v0;
  let spiked = false;
  // V at s + d from V at s (exact for the ramp)
  const at = (vs: number, ss: number, d: number) => {
    const as = a0 + k * ss;
    return as + k * (d - tau) + (vs - as + k * tau) * Math.exp(-d / tau);
  };
  for (;;) {
    const vEnd = at(v, s, h - s);
    if (vEnd < vth) return { v: vEnd, refLeft: 0, spiked };
    // bisection for the crossing in (s, h]
    let lo = 0;
    let hi = h - s;
    for (let it = 0; it < 60 && hi - lo > 1e-15 * h; it++) {
      const mid = 0.5 * (lo + hi);
      if (at(v, s, mid) >= vth) hi = mid;
      else lo = mid;
    }
    spiked = true;
    const tc = s + hi;
    if (tc + tref >= h) return { v: vReset, refLeft: tc + tref - h, spiked };
    s = tc + tref;
    v = vReset;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The simulated bench's run options (checked by the registry before create() sees them). */
export const SimulatedOptionsSchema = Type.Object({ paced: Type.Optional(Type.Boolean({ title: 'Paced', description: 'Real time (default); off: as fast as possible' })) }, { additionalProperties: false });

/** Builds the simulated-bench source for one run. `options.paced === false` produces as fast as possible. */
export function createSimulatedBench(ctx: SourceContext<Static<typeof SimulatedOptionsSchema>>): CreatedSource {
  const { protocol, sampleRate } = ctx;
  const paced = ctx.options?.paced !== false;
  const total = Math.round(protocol.durationS * sampleRate);
  // the bench configuration's channel labels (stim, v_mem), for the plots (server/store/channel-meta.ts)
  const labels = benchLabels(ctx.instruments?.configured('simulated')[0], { names: ['stim', 'v_mem'], response: 'v_mem' });
  return {
    kind: 'simulated',
    bench: {
      name: 'simulated LIF bench',
      ...(labels ? { labels } : {}),
      model: 'leaky integrate-and-fire',
      params: LIF_PARAMS,
      responseFullScaleV: RESPONSE_FULL_SCALE_V,
      // the twin circuit it is (the Compare view's default pairing); current-driven, so only for current protocols
      ...(protocol.quantity === 'current' ? { circuit: LIF_CIRCUIT_NAME } : {}),
    },
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      const gen = new LifBench(protocol, sampleRate);
      yield { type: 'descriptor', channels: gen.channels };
      const clock = ctx.clock ?? performance; // stands still while the run is paused
      const t0 = clock.now();
      // the stop's time by this clock: a source a busy event loop wakes late sends what was due then, no more
      let stopAt = signal.aborted ? t0 : Infinity;
      const onStop = () => (stopAt = clock.now());
      signal.addEventListener('abort', onStop, { once: true });
      try {
        while (gen.position < total && !signal.aborted) {
          if (paced) await sleep(BLOCK_INTERVAL_MS, signal);
          // Paced, a stop ends the recording at its time, as a bench's own clock would: the samples due by then
          // go out (a busy event loop that had not yet woken the source loses none); unpaced, it ends at once.
          if (signal.aborted && !paced) break;
          const due = paced ? Math.min(total, Math.floor(((Math.min(clock.now(), stopAt) - t0) / 1000) * sampleRate)) : total;
          while (gen.position < due && (paced || !signal.aborted)) {
            const first = gen.position;
            const chunk = gen.next(Math.min(due - first, MAX_BLOCK_SAMPLES));
            yield { type: 'block', channel: 0, firstIndex: first, samples: chunk.stim };
            yield { type: 'block', channel: 1, firstIndex: first, samples: chunk.resp };
            for (const s of chunk.spikes) {
              const ev: EventMessage = { type: 'event', kind: 'spike', channel: 1, index: s.index, value: s.value };
              yield ev;
            }
            // Let timers and I/O run between chunks (a catch-up after a stall, or unpaced mode).
            if (!paced || gen.position < due) await new Promise((r) => setImmediate(r));
          }
        }
      } finally {
        signal.removeEventListener('abort', onStop);
      }
    },
  };
}

/**
 * New run's first protocol on this bench. The kinds' defaults saturate the neuron (dc 1 mA: 4740 spikes/s; the
 * 1 kHz square: 2 per period), and with τ = 100 µs any on-phase of milliseconds above rheobase (V_threshold/R =
 * 0.8 mA) fires hundreds of spikes (20 Hz, 50 % duty, 0.9 mA: 1840/s). So 1 ms pulses at 20 Hz, 0.9 mA:
 * τ·ln(0.9/0.1) + 50 µs ≈ 270 µs between spikes, 3 spikes per pulse, 60 spikes/s (measured with `run`).
 */
export const SIMULATED_DEMO_PROTOCOL = Object.freeze({ kind: 'square', quantity: 'current', frequencyHz: 20, duty: 0.02, amplitude: 0.9e-3 });

export function register(registry: SourceRegistry): void {
  registry.registerSource('simulated', {
    title: 'Simulated bench (the lif-bench LIF neuron, no hardware)',
    options: SimulatedOptionsSchema,
    available: async () => ({ available: true, twinCircuit: LIF_CIRCUIT_NAME }),
    protocol: { quantity: 'current', levelScale: 1, demo: { ...SIMULATED_DEMO_PROTOCOL } },
    create: createSimulatedBench,
  });
}

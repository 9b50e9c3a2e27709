/**
 * The simulated bench: a built-in leaky integrate-and-fire (LIF) neuron driven by the protocol's stimulus,
 * sampled by a pretend 16-bit ADC and emitted as a run stream in real time (paced by the wall clock, one
 * block per channel every ~20 ms). It is what `npm start` uses without hardware, and the no-hardware demo.
 *
 * Model (SI units), one membrane node:
 *   C dV/dt = -(V - V_rest) / R + I(t)          I(t) = stimulus (A); a voltage stimulus U(t) drives I = U / R
 * integrated exactly for a stimulus held constant over each sample period dt = 1 / sampleRate:
 *   V <- V_inf + (V - V_inf) * exp(-dt / (R C)),  V_inf = V_rest + R I
 * When V reaches V_threshold the sample reads V_spike (the drawn spike), a `spike` event is emitted at
 * that sample index, V is reset to V_reset and held there for the refractory period.
 *
 * Parameters (LIF_PARAMS): R = 1 kΩ, C = 100 nF (τ = 100 µs), V_rest = V_reset = 0 V, V_threshold = 0.8 V,
 * V_spike = 1.0 V, refractory 50 µs. With the default square wave (1 mA, 1 kHz, 50 % duty) V_inf = 1 V
 * during the high half: the first spike comes τ·ln(1/(1-0.8)) ≈ 161 µs after the edge, the second
 * 50 µs + 161 µs later (≈ 372 µs), the third would need ≈ 583 µs > 500 µs, so the neuron fires two spikes
 * per period (2000 spikes/s) and decays to ~0 during the low half.
 *
 * Channels: 0 `stim` (role stimulus, A or V), 1 `v_mem` (role response, V), both int16 codes with
 * physical = code * scale + offset (offset 0). v_mem spans ±2.048 V (scale 62.5 µV); the stimulus range is
 * the smallest 1-2-5 step >= 1.05 × the protocol's peak magnitude. Codes saturate at the int16 limits
 * like a real ADC. The output is a pure function of (protocol, sampleRate): block boundaries depend on
 * timing, the samples never do, so tests regenerate a run with `LifBench`.
 */
import type { ChannelDescriptor, EventMessage, SourceMessage } from '../../common/run-stream.ts';
import { protocolSummary, stimulusAt, type Protocol } from '../protocols/index.ts';
import type { CreatedSource, SourceContext, SourceRegistry } from './registry.ts';

export const LIF_PARAMS = {
  /** Membrane (leak) resistance, Ω. */
  R: 1e3,
  /** Membrane capacitance, F. */
  C: 100e-9,
  vRest: 0,
  vReset: 0,
  vThreshold: 0.8,
  /** Value drawn at the spike sample, V. */
  vSpike: 1.0,
  refractoryS: 50e-6,
} as const;

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
  private refractoryLeft = 0;
  private index = 0;
  private readonly decay: number;
  private readonly refractorySamples: number;
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
    this.decay = Math.exp(-1 / (sampleRate * LIF_PARAMS.R * LIF_PARAMS.C));
    this.refractorySamples = Math.round(LIF_PARAMS.refractoryS * sampleRate);
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
    const { vRest, vReset, vThreshold, vSpike } = LIF_PARAMS;
    const p = this.protocol;
    const rate = this.sampleRate;
    const { drive, decay, refractorySamples, index } = this;
    const stimScale = cs.scale;
    const respScale = cr.scale;
    let v = this.v;
    let refractoryLeft = this.refractoryLeft;
    for (let i = 0; i < count; i++) {
      const n = index + i;
      const x = stimulusAt(p, n / rate);
      stim[i] = toCode(x, stimScale);
      let out: number;
      if (refractoryLeft > 0) {
        refractoryLeft--;
        v = vReset;
        out = v;
      } else {
        const vInf = vRest + drive * x;
        v = vInf + (v - vInf) * decay;
        if (v >= vThreshold) {
          out = vSpike;
          spikes.push({ index: n, value: vSpike });
          v = vReset;
          refractoryLeft = refractorySamples;
        } else out = v;
      }
      resp[i] = toCode(out, respScale);
    }
    this.v = v;
    this.refractoryLeft = refractoryLeft;
    this.index += count;
    return { stim, resp, spikes };
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

/** Builds the simulated-bench source for one run. `options.paced === false` produces as fast as possible. */
export function createSimulatedBench(ctx: SourceContext): CreatedSource {
  const { protocol, sampleRate } = ctx;
  const paced = ctx.options?.paced !== false;
  const total = Math.round(protocol.durationS * sampleRate);
  return {
    kind: 'simulated',
    bench: {
      name: 'simulated LIF bench',
      model: 'leaky integrate-and-fire',
      params: LIF_PARAMS,
      responseFullScaleV: RESPONSE_FULL_SCALE_V,
    },
    async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
      const gen = new LifBench(protocol, sampleRate);
      yield { type: 'descriptor', channels: gen.channels };
      const t0 = performance.now();
      while (gen.position < total && !signal.aborted) {
        if (paced) await sleep(BLOCK_INTERVAL_MS, signal);
        if (signal.aborted) break;
        const due = paced ? Math.min(total, Math.floor(((performance.now() - t0) / 1000) * sampleRate)) : total;
        while (gen.position < due && !signal.aborted) {
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
    },
  };
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('simulated', {
    title: 'Simulated bench (built-in LIF neuron, no hardware)',
    available: async () => ({ available: true }),
    create: createSimulatedBench,
  });
}

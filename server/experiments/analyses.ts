/**
 * Analyses the orchestrator runs on a measured run and on its twin, stored with each run
 * (store.saveAnalysis). An analysis is pure: the run's data in, a JSON-serialisable result out.
 * The full library (spike detection, avalanches, power laws, distances) is server/analysis; this file
 * holds the run-level adapter and a built-in spike-train summary used by sweeps (resonance curve,
 * phase diagram), and an adapter running the analysis library's spike-train statistics (server/analysis/trains.ts).
 */
import { trainStats } from '../analysis/trains.ts';

export interface RunDataChannel {
  name: string;
  unit: string;
  role: 'stimulus' | 'response';
  sampleRate: number;
  data: Float64Array;
}

export interface RunDataEvent {
  kind: string;
  channel: number | null;
  index: number;
  value: number | null;
}

/** What an analysis sees of a run. */
export interface RunData {
  runId: number;
  channels: RunDataChannel[];
  events: RunDataEvent[];
}

export interface AnalysisSpec {
  /** Name under which the result is stored, e.g. "spike-stats". */
  name: string;
  params?: unknown;
  run(data: RunData, params: unknown): unknown;
}

export interface SpikeStats {
  /** Spikes (events of kind "spike") in the run. */
  count: number;
  /** Run length, s (longest channel). */
  durationS: number;
  /** count / durationS, Hz. */
  rateHz: number;
  /** Mean and coefficient of variation of the inter-spike intervals, s and 1 (null with < 2 spikes). */
  meanIsiS: number | null;
  cvIsi: number | null;
  /**
   * Regime from the spike train: quiescent (no spikes), oscillatory (regular, CV < 0.5), bursting
   * (CV ≥ 1: intervals of very different lengths), irregular (in between), saturated (the mean rate
   * reaches half the highest rate the sampling can show, or spikes never stop being detected).
   */
  regime: 'quiescent' | 'oscillatory' | 'irregular' | 'bursting' | 'saturated';
}

/**
 * Spike count, rate, ISI mean and CV (CV = sd/mean of the intervals, population sd) and a coarse regime
 * label. Input: the run's spike events (sample indices on the response channel's clock, or channel 0's).
 */
export function spikeStats(data: RunData): SpikeStats {
  const response = data.channels.find((c) => c.role === 'response') ?? data.channels[0];
  const rate = response?.sampleRate ?? 1;
  const durationS = Math.max(0, ...data.channels.map((c) => c.data.length / c.sampleRate));
  const t = data.events
    .filter((e) => e.kind === 'spike')
    .map((e) => e.index / (e.channel !== null && data.channels[e.channel] ? data.channels[e.channel].sampleRate : rate))
    .sort((a, b) => a - b);
  const count = t.length;
  const rateHz = durationS > 0 ? count / durationS : 0;
  let meanIsiS: number | null = null;
  let cvIsi: number | null = null;
  if (count >= 2) {
    const isi = t.slice(1).map((x, i) => x - t[i]);
    const mean = isi.reduce((s, x) => s + x, 0) / isi.length;
    const sd = Math.sqrt(isi.reduce((s, x) => s + (x - mean) ** 2, 0) / isi.length);
    meanIsiS = mean;
    cvIsi = mean > 0 ? sd / mean : null;
  }
  let regime: SpikeStats['regime'];
  if (count === 0) regime = 'quiescent';
  else if (rateHz >= rate / 4) regime = 'saturated';
  else if (cvIsi === null || cvIsi < 0.5) regime = 'oscillatory';
  else if (cvIsi >= 1) regime = 'bursting';
  else regime = 'irregular';
  return { count, durationS, rateHz, meanIsiS, cvIsi, regime };
}

export const SPIKE_STATS: AnalysisSpec = { name: 'spike-stats', run: (d) => spikeStats(d) };

/** Spike times of a run, s, sorted (events of kind "spike", on their channel's clock). */
export function spikeTimes(data: RunData): Float64Array {
  const response = data.channels.find((c) => c.role === 'response') ?? data.channels[0];
  const rate = response?.sampleRate ?? 1;
  const t = data.events
    .filter((e) => e.kind === 'spike')
    .map((e) => e.index / (e.channel !== null && data.channels[e.channel] ? data.channels[e.channel].sampleRate : rate));
  return Float64Array.from(t).sort();
}

/** server/analysis trainStats (rate, ISI mean/CV, LV, Fano factor, ISI histogram, autocorrelogram) over the whole run. */
export const SPIKE_TRAIN: AnalysisSpec = {
  name: 'spike-train',
  run: (d) => {
    const durationS = Math.max(0, ...d.channels.map((c) => c.data.length / c.sampleRate));
    return trainStats(spikeTimes(d), { tStart: 0, tEnd: durationS });
  },
};

/** The analyses run after every measured run and its twin unless configured otherwise. */
export const DEFAULT_ANALYSES: AnalysisSpec[] = [SPIKE_STATS, SPIKE_TRAIN];

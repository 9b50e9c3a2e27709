/**
 * What the worker pool (pool.ts) can run: each task is a pure function of structured-cloneable input.
 * Adding a task is adding an entry here.
 */
import { bootstrapDistances, type PowerLawFit, type PowerLawOptions } from '../analysis/powerlaw.ts';
import { fitTask, twinTask } from '../experiments/twin-task.ts';
import type { TwinRunItem, TwinRunSpec } from '../sources/twin-source.ts';
import type { ReadOptions, Recording } from '../import/recording.ts';
import type { ExportJob } from '../export/index.ts';
import type { RunStore } from '../store/run-store.ts';
import type { PreparedFit } from '../experiments/fit.ts';
import type { ObjectiveKind } from '../twin/calibration.ts';
import type { ReadStimulusOptions, RecordedStimulus } from '../experiments/stimulus.ts';

export interface BootstrapChunk {
  data: Float64Array;
  fit: PowerLawFit;
  opts: PowerLawOptions;
  seed: number;
  /** Replicates [from, to). */
  from: number;
  to: number;
}

/** An analysis result, or the input it refused. */
export type AnalysisOutcome = { ok: true; result: unknown } | { ok: false; message: string; field?: string; code?: string };

export interface AnalysisJob {
  /** An analysis of analysis-io/registry.ts. */
  name: string;
  /** The input as data, or */
  input?: unknown;
  /** runs read here, in the worker, from the database file (opened read-only: WAL lets it read beside the writer), shaped as the analysis takes them (results.ts runInput). */
  runs?: { dbFile: string; runIds: number[] };
  params: unknown;
}

export const tasks = {
  /**
   * One analysis of data sent over the API, off the main thread (the server keeps answering while it runs;
   * a client that leaves cancels it). Loaded on first use: the registry is not needed by the other tasks.
   */
  analysis: async (job: AnalysisJob): Promise<AnalysisOutcome> => {
    const { findAnalysis } = await import('../analysis-io/registry.ts');
    const def = findAnalysis(job.name);
    if (!def) throw new Error(`no analysis "${job.name}"`);
    try {
      let input = job.input;
      if (job.runs) {
        const [{ RunStore }, { readRunSignal }, { runInput }] = await Promise.all([
          import('../store/run-store.ts'),
          import('../analysis-io/inputs.ts'),
          import('../analysis-io/results.ts'),
        ]);
        const store = RunStore.open(job.runs.dbFile, { readonly: true });
        try {
          input = runInput(def, job.runs.runIds.map((id) => readRunSignal(store, id)));
        } finally {
          store.close();
        }
      }
      return { ok: true, result: await def.run(input as never, job.params as never, {}) };
    } catch (err) {
      return refused(err);
    }
  },
  /** The STDP curve of stored stdp runs (experiments/stdp-runs.ts), read here from the database file. */
  stdpCurve: async (job: { dbFile: string; runIds: number[]; channel?: string }): Promise<AnalysisOutcome> => {
    const [{ RunStore }, { stdpCurveOfRuns }] = await Promise.all([import('../store/run-store.ts'), import('../experiments/stdp-runs.ts')]);
    try {
      const store = RunStore.open(job.dbFile, { readonly: true });
      try {
        return { ok: true, result: stdpCurveOfRuns(store, job.runIds, job.channel) };
      } finally {
        store.close();
      }
    } catch (err) {
      return refused(err);
    }
  },
  /** What a twin fit compares (experiments/fit.ts fitTarget), the run read here from the database file. */
  fitTarget: async (job: { dbFile: string; runId: number; circuit: unknown; kind: ObjectiveKind; channels?: string[] }): Promise<PreparedFit> => {
    const { fitTarget } = await import('../experiments/fit.ts');
    return reading(job.dbFile, (store) => fitTarget(store, job.runId, job.circuit, job.kind, job.channels));
  },
  /** The stimulus a stored run applied (experiments/stimulus.ts readStimulus), read here from the database file. */
  stimulus: async (job: { dbFile: string; runId: number; opts: ReadStimulusOptions }): Promise<RecordedStimulus> => {
    const { readStimulus } = await import('../experiments/stimulus.ts');
    return reading(job.dbFile, (store) => readStimulus(store, job.runId, job.opts));
  },
  /** One twin simulation of a sampled stimulus (experiments/twin-task.ts). */
  twin: twinTask,
  /** One objective evaluation of a twin calibration: simulate a candidate circuit, compare with the run (experiments/fit.ts). */
  fit: fitTask,
  /** A circuit (a built-in name or a document) checked by expanding it (a network at its caps: a few hundred ms); the document. */
  circuit: async (job: { circuit: unknown; field?: string }): Promise<unknown> => {
    const { resolveCircuit } = await import('../sources/twin-source.ts');
    return resolveCircuit(job.circuit, job.field);
  },
  /** A circuit's twin work per step (devices + factor nonzeros, twin/engine.ts workPerStep): a fit's cost, checked before it starts (experiments/fit.ts MAX_FIT_WORK). */
  twinWork: async (job: { circuit: unknown }): Promise<number> => {
    const { createTwin } = await import('../twin/index.ts');
    return createTwin(job.circuit).workPerStep;
  },
  /**
   * An uploaded recording parsed (import/recording.ts; up to 256 MB of CSV: seconds of work). With `events`, the
   * upload's last `events.bytes` bytes are the run's events export (POST /api/import eventsBytes), read with it.
   */
  readRecording: async (job: { bytes: Uint8Array; name: string; opts: ReadOptions; events?: { name: string; bytes: number } }): Promise<Recording> => {
    const { readRecording, ImportError } = await import('../import/recording.ts');
    const all = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    const cut = all.length - (job.events?.bytes ?? 0);
    if (cut < 1) throw new ImportError(`${job.name}: eventsBytes ${job.events!.bytes} leaves no recording in the ${all.length} bytes sent`);
    const events = job.events && { name: job.events.name, text: all.toString('utf8', cut) };
    return readRecording(all.subarray(0, cut), job.name, events ? { ...job.opts, events } : job.opts);
  },
  /** A run's NWB file written (export/nwb.ts: HDF5 through h5wasm, synchronous), the run read here from the database file; its bytes. */
  nwb: async (job: { dbFile: string; runId: number; file: string; channels?: number[] }): Promise<number> => {
    const { writeNwb } = await import('../export/nwb.ts');
    return reading(job.dbFile, (store) => writeNwb(store, job.runId, job.file, job.channels ? { channels: job.channels } : {}));
  },
  /**
   * A run's CSV, NPY or events file (export/index.ts exportChunks) written into `file` (made empty by the
   * caller) at full speed, the run read here from the database file; its bytes. Once `stop[0]` is set (the
   * client left) it ends at the next chunk: stopping the thread instead could leave the file open on it.
   */
  exportFile: async (job: ExportJob & { dbFile: string; file: string; stop: Int32Array }): Promise<number> => {
    const [{ exportChunks }, { closeSync, openSync, writeSync }] = await Promise.all([import('../export/index.ts'), import('node:fs')]);
    return reading(job.dbFile, (store) => {
      const fd = openSync(job.file, 'r+');
      let bytes = 0;
      try {
        for (const chunk of exportChunks(store, job)) {
          if (Atomics.load(job.stop, 0)) throw new Error('the client left');
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at);
          bytes += buf.length;
        }
      } finally {
        closeSync(fd);
      }
      return bytes;
    });
  },
  /** KS distances of a range of power-law bootstrap replicates (analysis-io/bootstrap.ts). */
  bootstrap: (c: BootstrapChunk): Float64Array => bootstrapDistances(c.data, c.fit, c.opts, c.seed, c.from, c.to),
};

/** `fn` of the run store in `dbFile`, opened read-only here (WAL lets it read beside the server's writer). */
async function reading<T>(dbFile: string, fn: (store: RunStore) => T | Promise<T>): Promise<T> {
  const { RunStore } = await import('../store/run-store.ts');
  const store = RunStore.open(dbFile, { readonly: true });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/**
 * A refused input crosses back as data (a thrown error would lose its class and field): a 400, not a 500.
 * Anything else is rethrown (a bug, or the thread's failure).
 */
async function refused(err: unknown): Promise<AnalysisOutcome> {
  const [{ InputError }, { AppError }] = await Promise.all([import('../analysis-io/inputs.ts'), import('../../common/errors.ts')]);
  if (err instanceof InputError) return { ok: false, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) };
  if (err instanceof RangeError) return { ok: false, message: err.message };
  if (err instanceof AppError && err.status < 500) return { ok: false, message: err.message, code: err.code, ...(err.field !== undefined ? { field: err.field } : {}) };
  throw err;
}

export type Tasks = typeof tasks;
export type TaskName = keyof Tasks;

/** Tasks whose output streams as it is made (pool.ts stream()): each is an (async) generator. */
export const streamTasks = {
  /** A twin run's messages (sources/twin-source.ts): the twin snapshot, then the run stream after the start message. */
  twinRun: async function* (spec: TwinRunSpec): AsyncGenerator<TwinRunItem> {
    const { twinRunItems } = await import('../sources/twin-source.ts');
    yield* twinRunItems(spec);
  },
};

export type StreamTasks = typeof streamTasks;
export type StreamTaskName = keyof StreamTasks;

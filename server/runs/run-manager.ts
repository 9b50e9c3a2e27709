/**
 * The run manager: starts a run from a protocol and a source kind, wraps the source's messages with the
 * start and stop messages, and fans every message out to the store's recorder and to live subscribers
 * (the WebSocket feed, online analyses). Each run has a small state machine (./state.ts); the stop
 * message is written on every exit path: completion, user stop, source error, store error, shutdown.
 */
import type { ChannelDescriptor, RunMessage, SourceMessage, StartMessage, StopMessage } from '../../common/run-stream.ts';
import { isImported, ProtocolError, protocolSummary, validateProtocol, type Protocol, type ProtocolSummary } from '../protocols/index.ts';
import { startMessage, type RunDetail, type RunRecorder, type RunStore } from '../store/run-store.ts';
import type { CreatedSource, RunInstruments, SourceContext, SourceRegistry } from '../sources/registry.ts';
import type { RequestOrigin } from '../sources/options.ts';
import { SOFTWARE_VERSION } from '../version.ts';
import { RunStateMachine, type RunState } from './state.ts';
import { PauseControl } from './pause.ts';
import { atProtocolField, planStimulus, virtualBenchConfig, type BenchConfig } from '../benchconfig/index.ts';
import { AppError } from '../../common/errors.ts';
import type { WorkerPool } from '../workers/pool.ts';
import { DEFAULT_SAMPLE_RATE, MAX_SAMPLE_RATE } from '../../common/limits.ts';
import type { RunProgress } from '../../common/schemas/runs.ts';

/** How long a source may take to end after an abort before the manager gives up on it. */
export const ABORT_GRACE_MS = 5_000;

/**
 * The pump lets the event loop run after this long of recording and fanning out without a pause: messages
 * that are all here already (a batch of up to 512 from a pool thread) arrive as resolved promises, and
 * their microtasks alone would hold the loop for 100 ms and more (docs/security.md "Bounded work").
 */
const PUMP_SLICE_MS = 10;

export interface StartRequest {
  /** Protocol document ({ kind, ...params }); validated here. */
  protocol: unknown;
  /** Source kind; the registry's default when absent. */
  source?: string;
  /** S/s per channel, 1 .. MAX_SAMPLE_RATE; DEFAULT_SAMPLE_RATE when absent. */
  sampleRate?: number;
  label?: string;
  /** Overrides protocol.durationS (CLI --duration). */
  durationS?: number;
  linkedRunId?: number;
  /** Passed to the source (e.g. { paced: false }). */
  options?: Record<string, unknown>;
  /** 'local' only for the CLI on this machine: it alone may name files, ports and hosts (default 'network'). */
  from?: RequestOrigin;
  /** Passed to the source as SourceContext.input: in-process data (arrays), never from a request body. */
  input?: unknown;
}

/** What the run manager needs of the instrument manager (server/benchconfig/instruments.ts). */
export interface InstrumentLender {
  forRun(runId: () => number): RunInstruments;
}

export type RunListener = (msg: RunMessage) => void;
export type GlobalRunListener = (runId: number, msg: RunMessage) => void;

interface ActiveRun {
  id: number;
  machine: RunStateMachine;
  controller: AbortController;
  abortReason?: string;
  recorder: RunRecorder;
  listeners: Set<RunListener>;
  channels?: ChannelDescriptor[];
  protocol: Protocol;
  summary: ProtocolSummary;
  /** Resolves when the stop message has been written. */
  ended: Promise<StopMessage>;
  /** Pause/resume; also the source's clock. */
  pause: PauseControl;
  /** Paused time (ms) before the current pause, to say how long each pause lasted. */
  pausedBefore?: number;
  /** Samples received on channel 0 (highest index + 1) and expected in all. */
  done: number;
  total: number;
  sampleRate: number;
  /** run.pause.now() at start, ms. */
  startedMs: number;
}

export type { RunProgress };

const errMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** Errors that only a programming mistake throws. */
const isBug = (err: unknown) => err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;

export class RunManager {
  private readonly active = new Map<number, ActiveRun>();
  private readonly globalListeners = new Set<GlobalRunListener>();
  private closing = false;

  private readonly log: (line: string) => void;
  private readonly graceMs: number;
  /** The bench configuration whose limits every protocol is checked against before it starts. */
  readonly bench: BenchConfig;
  /** Lends the bench's connected instruments to runs (SourceContext.instruments). */
  private readonly instruments?: InstrumentLender;
  /** The worker pool lent to sources with heavy work (SourceContext.pool), and to what starts runs (a pairing's stimulus read). */
  readonly pool?: WorkerPool;

  constructor(
    readonly store: RunStore,
    readonly sources: SourceRegistry,
    opts: { log?: (line: string) => void; abortGraceMs?: number; bench?: BenchConfig; instruments?: InstrumentLender; pool?: WorkerPool } = {},
  ) {
    this.pool = opts.pool;
    this.log = opts.log ?? (() => {});
    this.graceMs = opts.abortGraceMs ?? ABORT_GRACE_MS;
    this.bench = opts.bench ?? virtualBenchConfig();
    this.instruments = opts.instruments;
  }

  /** Checks a request without starting anything; returns the validated protocol, source kind and rate. */
  validate(req: StartRequest): { protocol: Protocol; summary: ProtocolSummary; kind: string; sampleRate: number } {
    let doc = req.protocol;
    if (req.durationS !== undefined) {
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) doc = { ...doc, durationS: req.durationS };
    }
    let protocol: Protocol;
    try {
      protocol = validateProtocol(doc);
    } catch (err) {
      // the protocol's own pointer, placed inside the request
      if (err instanceof ProtocolError) throw new AppError('BAD_PROTOCOL', err.message, `/protocol${err.field}`);
      throw err;
    }
    const summary = protocolSummary(protocol);
    // Bench limits (LIMIT_EXCEEDED, PROGRAM_LIMIT): refused here, before any source is built or output turned on.
    planStimulus(protocol, this.bench);
    const kind = req.source ?? this.sources.defaultKind;
    const source = this.sources.get(kind);
    if (!source) {
      throw new AppError('SOURCE_UNKNOWN', `source "${kind}" is not one of ${this.sources.kinds().join(', ')}`, '/source');
    }
    // typos and wrong types refused before the source sees them; files, ports, hosts only from the CLI
    this.sources.checkOptions(kind, req.options, req.from ?? 'network');
    // an imported recording's stimulus is its stored channel: it is replayed (import) or fed to a twin (which
    // gets the recorded stimulus as `input`, experiments/pairing.ts), never played
    if (isImported(protocol) && kind !== 'import' && req.input === undefined) {
      throw new AppError('BAD_PROTOCOL', 'a "recording" protocol describes an imported file; feed its stimulus channel to the twin (stimulusRun) instead of playing it', '/protocol/kind');
    }
    const sampleRate = req.sampleRate ?? source.defaultSampleRate ?? DEFAULT_SAMPLE_RATE;
    const maxRate = source.maxSampleRate ?? MAX_SAMPLE_RATE;
    if (!Number.isFinite(sampleRate) || sampleRate < 1 || sampleRate > maxRate) {
      throw new AppError('BAD_SAMPLE_RATE', `sampleRate must be between 1 and ${maxRate} S/s, got ${sampleRate}`, '/sampleRate');
    }
    // the options' own limits and cross-option rules (a compliance above the run's maxCurrent ...)
    try {
      source.check?.({ protocol, sampleRate, options: req.options, limits: this.bench.limits });
    } catch (err) {
      throw atProtocolField(err, protocol);
    }
    return { protocol, summary, kind, sampleRate };
  }

  /** Bytes a run writes: its samples at the source's bytes per sample, plus about 10 % for the min/max pyramid. */
  bytesOf(durationS: number, sampleRate: number, kind: string): number {
    return durationS * sampleRate * (this.sources.get(kind)?.bytesPerSample ?? 4) * 1.1;
  }

  /**
   * Starts a run: validates, builds the source, creates the run row, writes the start message and waits
   * for the source's descriptor; the run then goes on in the background. Returns the run as stored.
   */
  async start(req: StartRequest): Promise<RunDetail> {
    if (this.closing) throw new AppError('SHUTTING_DOWN', 'the server is shutting down');
    const { protocol, summary, kind, sampleRate } = this.validate(req);
    const def = this.sources.get(kind)!;
    const avail = await def.available().catch((err) => ({ available: false, detail: errMessage(err) }));
    if (!avail.available) {
      throw new AppError('SOURCE_UNAVAILABLE', `source "${kind}" is not available${avail.detail ? `: ${avail.detail}` : ''}`, '/source');
    }
    // checked against the free disk space before anything starts: a run the disk cannot hold is refused, not cut short
    this.store.checkSpace(this.bytesOf(protocol.durationS, sampleRate, kind), `a ${protocol.durationS} s run at ${sampleRate} S/s`);
    // The run id is only known once the row exists; sources get it through the context.
    const pause = new PauseControl();
    const ctx: SourceContext = { protocol, sampleRate, runId: 0, options: req.options, clock: pause, from: req.from ?? 'network', limits: this.bench.limits, ...(req.input !== undefined ? { input: req.input } : {}), ...(this.pool ? { pool: this.pool } : {}) };
    if (this.instruments) ctx.instruments = this.instruments.forRun(() => ctx.runId);
    const runInit = {
      protocol: protocol as unknown as { kind: string; [k: string]: unknown },
      source: kind as StartMessage['source'],
      softwareVersion: SOFTWARE_VERSION,
      ...(req.label !== undefined ? { label: req.label } : {}),
      ...(req.linkedRunId !== undefined ? { linkedRunId: req.linkedRunId } : {}),
    };
    let source: CreatedSource;
    try {
      source = await def.create(ctx);
    } catch (err) {
      // A refusal the source meant (bad options, an instrument not connected or busy, a program that does
      // not fit, a driver's safety refusal or instrument failure: all AppErrors) keeps its code; a bug (TypeError, RangeError ...) stays what it is, a 500 with its stack;
      // any other error is a source that cannot start (device missing, port busy ...).
      if (err instanceof AppError) {
        // a limit or program refusal placed at the protocol parameter that causes it
        const e = atProtocolField(err, protocol) as AppError;
        throw new AppError(e.code, `source "${kind}": ${e.message}`, e.field, e.details);
      }
      if (isBug(err)) throw err;
      throw new AppError('SOURCE_FAILED', `source "${kind}" could not start: ${errMessage(err)}`, '/source');
    }
    const init = { ...runInit, bench: source.bench ?? null, ...(source.twin !== undefined ? { twin: source.twin } : {}) };
    let id: number;
    let recorder: RunRecorder;
    try {
      id = this.store.createRun(init);
      ctx.runId = id;
      recorder = this.store.recorder(id);
    } catch (err) {
      await source.dispose?.();
      throw err;
    }
    let resolveEnded!: (m: StopMessage) => void;
    const run: ActiveRun = {
      id,
      machine: new RunStateMachine(),
      controller: new AbortController(),
      recorder,
      listeners: new Set(),
      protocol,
      summary,
      ended: new Promise((r) => (resolveEnded = r)),
      pause,
      done: 0,
      total: Math.max(1, Math.round(protocol.durationS * sampleRate)),
      sampleRate,
      startedMs: pause.now(),
    };
    this.active.set(id, run);
    const start = startMessage(id, init);
    const iterator = source.messages(run.controller.signal)[Symbol.asyncIterator]();
    let firstFailure: StopMessage | undefined;
    try {
      this.dispatch(run, start);
      const first = await iterator.next();
      if (first.done || first.value.type !== 'descriptor') {
        firstFailure =
          !first.done && first.value.type === 'stop'
            ? first.value
            : { type: 'stop', status: 'failed', reason: 'source did not begin with a channel descriptor' };
      } else {
        run.channels = first.value.channels;
        this.dispatch(run, first.value);
        run.recorder.flush();
        run.machine.to('running');
      }
    } catch (err) {
      firstFailure = { type: 'stop', status: 'failed', reason: errMessage(err) };
    }
    const pumped = firstFailure
      ? this.finish(run, iterator, firstFailure)
      : this.pump(run, iterator);
    void pumped.then(resolveEnded, (err) => {
      // finish() never throws by design; if it does, the run still ends.
      this.log(`run ${id}: ${errMessage(err)}`);
      resolveEnded({ type: 'stop', status: 'failed', reason: errMessage(err) });
    });
    if (firstFailure) {
      await run.ended;
      // The source may never have been pulled (a store failure before its first message): free what it holds.
      await source.dispose?.();
    }
    return this.store.getRun(id)!;
  }

  /** Pulls the source until it ends, the run is aborted, or something fails; then finishes the run. */
  private async pump(run: ActiveRun, iterator: AsyncIterator<SourceMessage>): Promise<StopMessage> {
    const signal = run.controller.signal;
    // ABORT_GRACE_MS after an abort a source that ignores its signal is abandoned. (Each wait is a fresh
    // promise: racing every next() against one long-lived promise would pile reactions onto it and keep
    // every message alive.)
    let gaveUp = false;
    let wake: ((r: 'gave-up') => void) | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const arm = () => {
      graceTimer = setTimeout(() => {
        gaveUp = true;
        wake?.('gave-up');
      }, this.graceMs).unref();
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
    let stop: StopMessage | undefined;
    let slice = performance.now();
    try {
      for (;;) {
        if (performance.now() - slice > PUMP_SLICE_MS) {
          await new Promise<void>((r) => setImmediate(r));
          slice = performance.now();
        }
        if (run.pause.paused) await run.pause.whileRunning(signal);
        const r = gaveUp
          ? 'gave-up'
          : await new Promise<IteratorResult<SourceMessage> | 'gave-up'>((resolve, reject) => {
              wake = resolve;
              iterator.next().then(resolve, reject);
            });
        wake = undefined;
        if (r === 'gave-up') {
          stop = { type: 'stop', status: 'aborted', reason: `${run.abortReason ?? 'aborted'} (source did not stop within ${this.graceMs} ms)` };
          break;
        }
        if (r.done) break;
        const msg = r.value;
        if (msg.type === 'stop') {
          // A source asked to stop knows only that it was aborted; the reason is the one the stop was asked with
          // (the user, a shutdown, a client gone). A failure stays the source's.
          stop = signal.aborted && msg.status !== 'failed' ? { type: 'stop', status: 'aborted', reason: run.abortReason ?? 'aborted' } : msg;
          break;
        }
        if (msg.type === 'descriptor') {
          stop = { type: 'stop', status: 'failed', reason: 'source sent a second channel descriptor' };
          break;
        }
        // After an abort the source is drained until it ends (bounded by the grace timer): the events it
        // sends after a block (spikes found in it, an excursion its end closes) belong to samples stored.
        this.dispatch(run, msg);
      }
    } catch (err) {
      stop = { type: 'stop', status: 'failed', reason: errMessage(err) };
    } finally {
      clearTimeout(graceTimer);
      signal.removeEventListener('abort', arm);
    }
    stop ??= signal.aborted ? { type: 'stop', status: 'aborted', reason: run.abortReason ?? 'aborted' } : { type: 'stop', status: 'completed' };
    return this.finish(run, iterator, stop);
  }

  /** Ends the run: lets the source clean up (outputs to zero), writes the stop message, state done. */
  private async finish(run: ActiveRun, iterator: AsyncIterator<SourceMessage>, stop: StopMessage): Promise<StopMessage> {
    if (!run.controller.signal.aborted) {
      run.abortReason ??= stop.reason ?? stop.status;
      run.controller.abort();
    }
    try {
      // Runs the source's finally blocks; bounded so a stuck source cannot hold the run open.
      await Promise.race([iterator.return?.(), new Promise((r) => setTimeout(r, this.graceMs).unref())]);
    } catch (err) {
      this.log(`run ${run.id}: source cleanup failed: ${errMessage(err)}`);
    }
    const msg: StopMessage = { type: 'stop', status: stop.status, ...(stop.reason ? { reason: stop.reason } : {}) };
    run.machine.tryTo('stopping');
    try {
      run.recorder.write(msg);
    } catch (err) {
      this.log(`run ${run.id}: could not record the stop message: ${errMessage(err)}`);
    }
    run.machine.to('done');
    this.active.delete(run.id);
    this.emit(run, msg);
    run.listeners.clear();
    this.log(`run ${run.id} ${msg.status}${msg.reason ? `: ${msg.reason}` : ''}`);
    return msg;
  }

  /** Store first, then live subscribers. A store failure aborts the run as failed. */
  private dispatch(run: ActiveRun, msg: RunMessage): void {
    try {
      run.recorder.write(msg);
    } catch (err) {
      if (!run.controller.signal.aborted) {
        run.abortReason = `store: ${errMessage(err)}`;
        run.controller.abort();
      }
      throw new Error(`store: ${errMessage(err)}`);
    }
    if (msg.type === 'block' && msg.channel === 0) run.done = Math.max(run.done, msg.firstIndex + msg.samples.length);
    this.emit(run, msg);
  }

  private emit(run: ActiveRun, msg: RunMessage): void {
    for (const l of run.listeners) {
      try {
        l(msg);
      } catch (err) {
        run.listeners.delete(l);
        this.log(`run ${run.id}: live subscriber removed after an error: ${errMessage(err)}`);
      }
    }
    for (const l of this.globalListeners) {
      try {
        l(run.id, msg);
      } catch (err) {
        this.log(`run ${run.id}: listener failed: ${errMessage(err)}`);
      }
    }
  }

  /** Asks the run to stop (status `aborted`) and waits until its stop message is written. */
  async stop(id: number, reason = 'stopped by user'): Promise<RunDetail> {
    const run = this.active.get(id);
    if (!run) {
      const stored = this.store.getRun(id);
      if (!stored) throw new AppError('RUN_NOT_FOUND', `run ${id} does not exist`);
      return stored;
    }
    if (!run.controller.signal.aborted) {
      run.abortReason = reason;
      run.machine.tryTo('stopping');
      run.controller.abort();
    }
    await run.ended;
    return this.store.getRun(id)!;
  }

  /** Pauses a running run: the source is no longer pulled and its clock stands still. */
  pause(id: number): RunProgress {
    const run = this.activeOrThrow(id);
    if (run.machine.state !== 'running' || !run.machine.tryTo('paused')) {
      throw new AppError('RUN_NOT_ACTIVE', `run ${id} is ${run.machine.state}; only a running run can be paused`);
    }
    run.pause.pause();
    this.markPause(run, 'paused');
    this.log(`run ${id} paused`);
    return this.progress(id)!;
  }

  /** Resumes a paused run. */
  resume(id: number): RunProgress {
    const run = this.activeOrThrow(id);
    if (run.machine.state !== 'paused' || !run.machine.tryTo('running')) {
      throw new AppError('RUN_NOT_ACTIVE', `run ${id} is ${run.machine.state}; only a paused run can be resumed`);
    }
    const pausedMs = run.pause.pausedMs() - (run.pausedBefore ?? 0);
    run.pause.resume();
    run.pausedBefore = run.pause.pausedMs();
    this.markPause(run, `resumed after ${(pausedMs / 1000).toFixed(1)} s paused`);
    this.log(`run ${id} resumed`);
    return this.progress(id)!;
  }

  /**
   * A pause or resume recorded as a marker at the stimulus time it happened (channel 0's next sample):
   * the recording shows no gap there (the source's clock stood still), so the marker is what says so.
   * Written when asked, not when the pump notices (a source waiting on its paused clock holds the pump in
   * next()): a block already being pulled may land after "paused"; "resumed" sits where the data goes on.
   */
  private markPause(run: ActiveRun, label: string): void {
    try {
      this.dispatch(run, { type: 'event', kind: 'marker', index: run.done, label });
    } catch (err) {
      this.log(`run ${run.id}: could not record the ${label} marker: ${errMessage(err)}`);
    }
  }

  /** Progress of an active run (undefined when it is not active). */
  progress(id: number): RunProgress | undefined {
    const run = this.active.get(id);
    if (!run) return undefined;
    const done = Math.min(run.done, run.total);
    return {
      runId: id,
      state: run.machine.state,
      fraction: done / run.total,
      samplesDone: done,
      samplesTotal: run.total,
      elapsedS: (run.pause.now() - run.startedMs) / 1000,
      remainingS: (run.total - done) / run.sampleRate,
      pausedS: run.pause.pausedMs() / 1000,
    };
  }

  private activeOrThrow(id: number): ActiveRun {
    const run = this.active.get(id);
    if (run) return run;
    const stored = this.store.getRun(id);
    if (!stored) throw new AppError('RUN_NOT_FOUND', `run ${id} does not exist`);
    throw new AppError('RUN_NOT_ACTIVE', `run ${id} is ${stored.status}, not running`);
  }

  isActive(id: number): boolean {
    return this.active.has(id);
  }

  state(id: number): RunState | undefined {
    return this.active.get(id)?.machine.state;
  }

  activeRunIds(): number[] {
    return [...this.active.keys()];
  }

  /** The channels of an active run (from its descriptor). */
  channels(id: number): ChannelDescriptor[] | undefined {
    return this.active.get(id)?.channels;
  }

  /** Resolves with the stop message once the run has ended (immediately undefined when not active). */
  async waitForEnd(id: number): Promise<StopMessage | undefined> {
    return this.active.get(id)?.ended;
  }

  /**
   * Subscribes to an active run's messages from now on (blocks, events, then stop). Returns the
   * unsubscribe function, or undefined when the run is not active.
   */
  subscribe(id: number, listener: RunListener): (() => void) | undefined {
    const run = this.active.get(id);
    if (!run || run.machine.state === 'done') return undefined;
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  /**
   * Commits what an active run's recorder holds, so that a read of the run right after (the live feed's
   * hello, with its event counts) and the messages that follow a subscribe in the same tick add up exactly.
   */
  commit(id: number): void {
    const run = this.active.get(id);
    if (!run || run.machine.state === 'done') return;
    try {
      run.recorder.flush();
    } catch (err) {
      this.log(`run ${id}: commit before a live subscriber failed: ${errMessage(err)}`);
    }
  }

  /** Every message of every run (for online analyses); returns the unsubscribe function. */
  subscribeAll(listener: GlobalRunListener): () => void {
    this.globalListeners.add(listener);
    return () => this.globalListeners.delete(listener);
  }

  /** Stops every active run cleanly (stop messages written) and refuses new ones. */
  async shutdown(reason = 'server shutdown'): Promise<void> {
    this.closing = true;
    await Promise.all(this.activeRunIds().map((id) => this.stop(id, reason).catch(() => undefined)));
  }
}

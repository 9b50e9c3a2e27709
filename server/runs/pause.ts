/**
 * Pausing a run. While a run is paused the run manager stops pulling from its source, and the source's
 * clock (SourceContext.clock) stands still, so a paced source neither produces nor tries to catch up the
 * paused time when it resumes: sample indices stay the clock of the stimulus, pauses leave no gap.
 */
export interface RunClock {
  /** Milliseconds of un-paused time (monotonic; stands still while paused). */
  now(): number;
}

export class PauseControl implements RunClock {
  private pausedAt: number | null = null;
  private pausedTotal = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly wall: () => number = () => performance.now()) {}

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  now(): number {
    const t = this.wall();
    return t - this.pausedTotal - (this.pausedAt !== null ? t - this.pausedAt : 0);
  }

  /** Total paused time so far, ms. */
  pausedMs(): number {
    return this.pausedTotal + (this.pausedAt !== null ? this.wall() - this.pausedAt : 0);
  }

  /** Returns false when already paused. */
  pause(): boolean {
    if (this.pausedAt !== null) return false;
    this.pausedAt = this.wall();
    return true;
  }

  /** Returns false when not paused. */
  resume(): boolean {
    if (this.pausedAt === null) return false;
    this.pausedTotal += this.wall() - this.pausedAt;
    this.pausedAt = null;
    for (const w of this.waiters.splice(0)) w();
    return true;
  }

  /** Resolves at once when not paused, else on resume or when `signal` aborts. */
  whileRunning(signal: AbortSignal): Promise<void> {
    if (this.pausedAt === null || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The life of one run inside the run manager, as an explicit state machine:
 *
 *   starting ──▶ running ──▶ stopping ──▶ done
 *       │            └──────────────────▲  ▲
 *       └───────────────────────────────┴──┘
 *
 * starting: run row created, waiting for the source's descriptor;
 * running: blocks and events flow to the store and live subscribers;
 * stopping: an abort was requested (user stop, server shutdown, store error), waiting for the source to end;
 * done: the stop message has been written (completed | aborted | failed). Every exit path ends in done.
 */
export type RunState = 'starting' | 'running' | 'stopping' | 'done';

export const RUN_TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  starting: ['running', 'stopping', 'done'],
  running: ['stopping', 'done'],
  stopping: ['done'],
  done: [],
};

export class RunStateMachine {
  private current: RunState = 'starting';

  get state(): RunState {
    return this.current;
  }

  /** Moves to `to`; throws on a transition the table does not allow (a programming error). */
  to(to: RunState): void {
    if (!RUN_TRANSITIONS[this.current].includes(to)) {
      throw new Error(`run state: illegal transition ${this.current} -> ${to}`);
    }
    this.current = to;
  }

  /** Moves to `to` when allowed; returns whether it did. */
  tryTo(to: RunState): boolean {
    if (!RUN_TRANSITIONS[this.current].includes(to)) return false;
    this.current = to;
    return true;
  }
}

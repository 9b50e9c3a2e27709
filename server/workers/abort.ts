/**
 * Abort callbacks shared per signal. One sweep's signal is watched by every task, run and pairing of its
 * points at once (a twin-mode sweep starts them all; a bench sweep's pairings overlap the next points), and
 * an AbortSignal with more than 10 listeners warns (MaxListenersExceededWarning) as a likely leak. So each
 * signal gets one listener here, which calls every callback registered for it; `onAbort` returns the
 * function that removes a callback, and the last one removed takes the listener with it.
 */

interface Watch {
  callbacks: Set<() => void>;
  fire: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/** Calls `fn` once when `signal` aborts (at once when it has); returns the function that stops watching. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  let w = watches.get(signal);
  if (!w) {
    const callbacks = new Set<() => void>();
    const fire = () => {
      watches.delete(signal);
      for (const cb of callbacks) cb();
    };
    w = { callbacks, fire };
    watches.set(signal, w);
    signal.addEventListener('abort', fire, { once: true });
  }
  const watch = w;
  // a wrapper per call: the same function registered twice is two callbacks
  const cb = () => fn();
  watch.callbacks.add(cb);
  return () => {
    if (!watch.callbacks.delete(cb) || watch.callbacks.size > 0 || watches.get(signal) !== watch) return;
    watches.delete(signal);
    signal.removeEventListener('abort', watch.fire);
  };
}

/**
 * A signal of its own that aborts (with the same reason) when `signal` does, for a library that adds its
 * own listener per call (tinypool); `dispose()` when the call has ended.
 */
export function linkedSignal(signal: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const dispose = onAbort(signal, () => ac.abort(signal.reason));
  return { signal: ac.signal, dispose };
}

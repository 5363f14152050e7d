/** Stops a scheduled callback; calling it again does nothing. */
export type Cancel = () => void;

/**
 * The clock and timers a long-lived object runs on, injected so its tests
 * move time by hand instead of waiting on real short timers.
 */
export interface Timers {
  /** Epoch milliseconds. */
  now: () => number;
  /** Calls `fn` once after `ms`. */
  after: (ms: number, fn: () => void) => Cancel;
  /** Calls `fn` every `ms` until cancelled. */
  every: (ms: number, fn: () => void) => Cancel;
}

/**
 * Node's clock and timers. They never keep the process alive: whoever owns
 * the run (an HTTP server, a pending promise) does.
 */
export const systemTimers: Timers = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/**
 * Time as a call sees it: a monotonic clock, the wall clock for the timestamps on records, and
 * timers. Whatever runs a call (the session, its ending and failover, outbound pacing, the provider
 * legs) takes a `Clock` as a parameter instead of reaching for the globals, so a unit test drives a
 * whole call with a fake clock (test/helpers/fake-clock.ts) in milliseconds of real time.
 * A leaf module: it imports nothing.
 */

/** A pending timer. `unref()` lets the process exit while it is pending (Node's `Timeout` satisfies this). */
export interface Timer {
  unref(): unknown;
}

export interface Clock {
  /** Monotonic milliseconds (durations, pacing, ms since call start); the origin is arbitrary. */
  now(): number;
  /** Milliseconds since the Unix epoch (the ISO times on call records). */
  wallMs(): number;
  /** Run `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
  /** Run `fn` every `ms` until cleared. */
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(timer: Timer | undefined): void;
}

/** The process's clock: `performance.now()`, `Date.now()` and Node's timers, unchanged. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t as NodeJS.Timeout | undefined),
};

/**
 * One interval timer shared by every call's outbound pacing (./outbound-audio.ts), instead of a
 * timer per call: the interval runs only while someone is subscribed and never keeps the process
 * alive. `npm run bench` prints the cost of both designs (scripts/bench-audio.ts).
 */
import { systemClock, type Clock, type Timer } from '../clock';

/** Subscribe callbacks to a periodic tick. */
export interface Ticker {
  add(fn: () => void): void;
  remove(fn: () => void): void;
}

/** Tick period (ms): half the 20 ms frame, so a frame is never more than 10 ms late. */
export const TICK_MS = 10;

/**
 * A ticker over one `clock.setInterval` of `periodMs`. A callback that throws is removed (and does not
 * stop the others).
 */
export function createTicker(periodMs = TICK_MS, clock: Clock = systemClock): Ticker {
  const subs = new Set<() => void>();
  let timer: Timer | undefined;
  const run = () => {
    for (const fn of subs) {
      try {
        fn();
      } catch {
        subs.delete(fn);
      }
    }
    if (subs.size === 0 && timer) {
      clock.clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    add(fn) {
      subs.add(fn);
      if (!timer) {
        timer = clock.setInterval(run, periodMs);
        timer.unref();
      }
    },
    remove(fn) {
      subs.delete(fn);
    },
  };
}

/** The process-wide ticker. */
export const sharedTicker: Ticker = createTicker();

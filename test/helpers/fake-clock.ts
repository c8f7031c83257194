/**
 * A fake `Clock` (src/clock.ts): time stands still until a test moves it, and timers fire only when
 * `advance` passes their due time, in due order, each with `now()` at its due time. `settle` lets
 * promise chains and `setImmediate` callbacks (real ones: the legs defer `ready` with them) run
 * between timers, so code that awaits and then arms a timer behaves as it would in real time.
 */
import type { Clock, Timer } from '../../src/clock';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  /** Interval period (ms); none: one-shot. */
  every?: number;
}

class FakeTimer implements Timer {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
}

/** Let queued promise callbacks and real `setImmediate`s run (a few rounds, for chains of awaits). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Pending[] = [];

  /** @param epochMs what `wallMs()` answers at `now() === 0`. */
  constructor(private readonly epochMs = Date.UTC(2026, 0, 5, 9, 0, 0)) {}

  now(): number {
    return this.t;
  }

  wallMs(): number {
    return this.epochMs + this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer instanceof FakeTimer) this.timers = this.timers.filter((p) => p.id !== timer.id);
  }

  clearInterval(timer: Timer | undefined): void {
    this.clearTimeout(timer);
  }

  /** Timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Move time forward by `ms`, firing every timer due on the way; after each one (and at the end)
   * the event loop settles, so whatever the timer set off runs before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.reduce<Pending | undefined>((a, p) => (!a || p.at < a.at || (p.at === a.at && p.id < a.id) ? p : a), undefined);
      if (!next || next.at > end) break;
      this.t = next.at;
      if (next.every) next.at += next.every;
      else this.timers = this.timers.filter((p) => p !== next);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  private add(fn: () => void, ms: number, every?: number): FakeTimer {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn, every });
    return new FakeTimer(id);
  }
}

/**
 * DailyBudget: spend of ended and live calls per UTC day, exceeded at the cap, reset at 00:00 UTC.
 * Driven through the public CallRegistry (calls added and ended) with an injected clock.
 */
import { DailyBudget } from '../../src/app/limits';
import type { CallRecord } from '../../src/call/call-record';
import { CallRegistry, type LiveCall } from '../../src/call/registry';
import { silentLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

const record = (callSid: string, startedAt: string, endedAt?: string): CallRecord => ({
  callSid,
  carrier: 'twilio',
  direction: 'inbound',
  provider: 'openai',
  flagSource: 'env',
  status: endedAt ? 'completed' : 'in-progress',
  startedAt,
  answeredAt: startedAt,
  endedAt,
  timings: {},
  counters: { bargeIns: 0, dtmf: [], badFrames: 0, framesIn: 0, framesOut: 0 },
  turns: [],
});
const live = (r: CallRecord): LiveCall => ({
  callSid: r.callSid,
  snapshot: () => r,
  hangup: async () => {},
  transfer: async () => {},
  endWithMessage: async () => {},
});

describe('DailyBudget', () => {
  it('adds ended and live call minutes at the provider rate, trips at the cap and resets at 00:00 UTC', () => {
    let now = Date.parse('2026-11-23T10:10:00Z');
    const registry = new CallRegistry();
    const metrics = createMetrics();
    const budget = new DailyBudget(1, { elevenlabs: 0.1, openai: 0.5 }, registry, metrics, silentLogger, () => now);

    const a = record('CA1', '2026-11-23T10:00:00Z');
    registry.add(live(a));
    expect(budget.spentUsd()).toBeCloseTo(5); // 10 live minutes × 0.5
    expect(budget.exceeded()).toBe(true);
    registry.end({ ...a, endedAt: '2026-11-23T10:01:00Z' }); // it really lasted 1 minute
    expect(budget.spentUsd()).toBeCloseTo(0.5);
    expect(budget.exceeded()).toBe(false);

    const b = record('CA2', '2026-11-23T10:05:00Z');
    registry.add(live(b));
    registry.end({ ...b, endedAt: '2026-11-23T10:06:12Z' }); // 1.2 minutes → 0.6
    expect(budget.spentUsd()).toBeCloseTo(1.1);
    expect(budget.exceeded()).toBe(true);

    now = Date.parse('2026-11-24T00:00:01Z');
    expect(budget.exceeded()).toBe(false);
    expect(budget.spentUsd()).toBe(0);
  });

  it('never trips without DAILY_BUDGET_USD', () => {
    const budget = new DailyBudget(undefined, { elevenlabs: 100, openai: 100 }, new CallRegistry(), createMetrics(), silentLogger);
    expect(budget.exceeded()).toBe(false);
  });
});

/**
 * Call-level limits applied when a carrier webhook asks us to take a call: the daily budget
 * (DAILY_BUDGET_USD, estimated from call minutes × COST_PER_MIN_<PROVIDER>_USD) and the refusal
 * counter `callbridge_calls_refused_total{carrier,reason}` (reason: a RefusalReason of src/carriers/types.ts:
 * busy, pending_limit, draining, budget, duplicate).
 */
import type { CallRecord } from '../call/call-record';
import type { CallRegistry } from '../call/registry';
import type { Config } from '../config';

import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { RefusalReason } from '../carriers/types';
import type { CarrierName, ProviderName } from '../identity';

export type { RefusalReason };

/** What admission asks of the limits (see call-admission.ts). */
export interface AdmissionLimits {
  /** True when the day's budget is spent: new calls get the fallback message. */
  overBudget(): boolean;
  /** Count (and log) a refused call. */
  refused(carrier: CarrierName, reason: RefusalReason): void;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Estimated provider spend per UTC day: ended calls add `minutes × rate` (from answered, else
 * started, to ended); live calls count what they have used so far.
 */
export class DailyBudget {
  private day = utcDay(Date.now());
  private spentEndedUsd = 0;
  private warnedDay = '';

  /** @param budgetUsd cap per UTC day (USD); undefined = no cap. @param rates USD per minute per provider. */
  constructor(
    private readonly budgetUsd: number | undefined,
    private readonly rates: Record<ProviderName, number>,
    private readonly registry: CallRegistry,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    registry.on('ended', (r) => this.add(r));
  }

  /** USD a call has cost so far (or in total once ended). */
  costUsd(r: CallRecord): number {
    const from = Date.parse(r.answeredAt ?? r.startedAt);
    const to = r.endedAt ? Date.parse(r.endedAt) : this.now();
    return (Math.max(0, to - from) / 60_000) * (this.rates[r.provider] ?? 0);
  }

  private rollover(): void {
    const today = utcDay(this.now());
    if (today !== this.day) {
      this.day = today;
      this.spentEndedUsd = 0;
    }
  }

  private add(r: CallRecord): void {
    this.rollover();
    this.spentEndedUsd += this.costUsd(r);
    this.spentUsd();
  }

  /** Today's estimated spend (USD): ended calls plus live calls so far; updates the gauge. */
  spentUsd(): number {
    this.rollover();
    const live = this.registry.active().reduce((sum, r) => sum + this.costUsd(r), 0);
    const spent = this.spentEndedUsd + live;
    this.metrics.budgetSpentUsd.set(spent);
    return spent;
  }

  exceeded(): boolean {
    if (this.budgetUsd === undefined) return false;
    const spent = this.spentUsd();
    const over = spent >= this.budgetUsd;
    this.metrics.budgetExceeded.set(over ? 1 : 0);
    if (over && this.warnedDay !== this.day) {
      this.warnedDay = this.day;
      this.log.error(
        { spentUsd: Number(spent.toFixed(4)), budgetUsd: this.budgetUsd, day: this.day },
        'DAILY_BUDGET_USD reached: new calls get the fallback message until 00:00 UTC',
      );
    }
    return over;
  }
}

/** The limits admission uses: budget from config, refusals counted in metrics and logged. */
export function admissionLimits(cfg: Config, registry: CallRegistry, metrics: Metrics, log: Logger): AdmissionLimits & { budget: DailyBudget } {
  const budget = new DailyBudget(
    cfg.DAILY_BUDGET_USD,
    { elevenlabs: cfg.COST_PER_MIN_ELEVENLABS_USD, openai: cfg.COST_PER_MIN_OPENAI_USD },
    registry,
    metrics,
    log,
  );
  return {
    budget,
    overBudget: () => budget.exceeded(),
    refused(carrier, reason) {
      metrics.callsRefusedTotal.inc({ carrier, reason });
      log.warn({ carrier, reason }, 'call refused');
    },
  };
}

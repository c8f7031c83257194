/**
 * Prometheus metrics (prom-client) in a private registry, so tests can build many apps in one
 * process (registering a name twice in the global registry throws). Names: README.md "Probes, metrics and logs".
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createFrameMetrics, type FrameHistogram, type FrameMeter } from './frame-metrics';

export interface Metrics {
  registry: Registry;
  callsActive: Gauge<'carrier' | 'provider'>;
  callsTotal: Counter<'carrier' | 'provider' | 'outcome'>;
  /** Read-side only: frames are counted through `frames` (./frame-metrics.ts) and folded in when the registry is read. */
  framesTotal: Counter<'leg' | 'direction'>;
  frameForwardSeconds: FrameHistogram;
  /** The per-frame hot path: counts the frame and observes its forward time, without label hashing. */
  frames: FrameMeter;
  bargeInsTotal: Counter<'provider'>;
  providerFailoversTotal: Counter;
  providerErrorsTotal: Counter<'provider' | 'category'>;
  storeRetriesTotal: Counter;
  badFramesTotal: Counter<'carrier' | 'reason'>;
  socketsRefusedTotal: Counter<'reason'>;
  /** Calls answered with a refusal (busy | draining | budget) instead of the agent. */
  callsRefusedTotal: Counter<'carrier' | 'reason'>;
  /** HTTP requests refused by a limit (reason `ip_limit`). */
  httpRefusedTotal: Counter<'reason'>;
  /** Estimated spend of the current UTC day (USD) and whether the daily budget is spent (0/1). */
  budgetSpentUsd: Gauge;
  budgetExceeded: Gauge;
  /** 1 while the process drains (SIGTERM). */
  draining: Gauge;
  /** Calls a drain ended with a goodbye after DRAIN_TIMEOUT_S. */
  drainGoodbyesTotal: Counter;
  /** Status callbacks from carriers, by carrier and call status. */
  statusCallbacksTotal: Counter<'carrier' | 'status'>;
  /**
   * Refused outside input: bodies of HTTP routes (source `post_call` | `admin_api` | …; reason `not_json` | `too_deep` | `bad_shape`) and
   * provider messages a leg dropped (source `elevenlabs` | `openai`; reason from src/providers/rejects.ts).
   */
  badMessagesTotal: Counter<'source' | 'reason'>;
}

/** Create the metric set; `defaults` adds process metrics (off in tests). */
export function createMetrics(defaults = false): Metrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'callbridge_' });
  const r = [registry];
  return {
    registry,
    callsActive: new Gauge({ name: 'callbridge_calls_active', help: 'Live calls', labelNames: ['carrier', 'provider'], registers: r }),
    callsTotal: new Counter({
      name: 'callbridge_calls_total',
      help: 'Finished calls by outcome',
      labelNames: ['carrier', 'provider', 'outcome'],
      registers: r,
    }),
    ...createFrameMetrics(registry),
    bargeInsTotal: new Counter({ name: 'callbridge_barge_ins_total', help: 'Caller barge-ins that cut agent audio', labelNames: ['provider'], registers: r }),
    providerFailoversTotal: new Counter({ name: 'callbridge_provider_failovers_total', help: 'Calls moved to the other provider', registers: r }),
    providerErrorsTotal: new Counter({
      name: 'callbridge_provider_errors_total',
      help: 'Provider failures by category',
      labelNames: ['provider', 'category'],
      registers: r,
    }),
    storeRetriesTotal: new Counter({ name: 'callbridge_store_retries_total', help: 'Store write retries', registers: r }),
    badFramesTotal: new Counter({
      name: 'callbridge_bad_frames_total',
      help: 'Malformed carrier frames (dropped, call kept)',
      labelNames: ['carrier', 'reason'],
      registers: r,
    }),
    socketsRefusedTotal: new Counter({ name: 'callbridge_sockets_refused_total', help: 'Media sockets refused', labelNames: ['reason'], registers: r }),
    callsRefusedTotal: new Counter({
      name: 'callbridge_calls_refused_total',
      help: 'Calls refused at the webhook (reason: busy, pending_limit, draining, budget, …)',
      labelNames: ['carrier', 'reason'],
      registers: r,
    }),
    httpRefusedTotal: new Counter({ name: 'callbridge_http_refused_total', help: 'HTTP requests refused by a limit', labelNames: ['reason'], registers: r }),
    budgetSpentUsd: new Gauge({ name: 'callbridge_budget_spent_usd', help: 'Estimated provider spend of the current UTC day (USD)', registers: r }),
    budgetExceeded: new Gauge({ name: 'callbridge_budget_exceeded', help: '1 when DAILY_BUDGET_USD is spent for the current UTC day', registers: r }),
    draining: new Gauge({ name: 'callbridge_draining', help: '1 while the process drains before exit', registers: r }),
    drainGoodbyesTotal: new Counter({ name: 'callbridge_drain_goodbyes_total', help: 'Calls ended with a goodbye when the drain window closed', registers: r }),
    statusCallbacksTotal: new Counter({
      name: 'callbridge_status_callbacks_total',
      help: 'Carrier status callbacks applied',
      labelNames: ['carrier', 'status'],
      registers: r,
    }),
    badMessagesTotal: new Counter({
      name: 'callbridge_bad_messages_total',
      help: 'Malformed input refused: request bodies (answered 400) and provider messages (dropped), by source and reason',
      labelNames: ['source', 'reason'],
      registers: r,
    }),
  };
}

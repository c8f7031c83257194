/**
 * The provider cohort report: calls of a period grouped by the provider chosen at call start (the
 * flag's cohort; a call that failed over stays in its first provider's cohort and counts as a
 * failover), with the figures an operator needs before moving more traffic. Pure: rows in, report out.
 */

import type { CallSummary } from '../store/types';
import type { ProviderName } from '../identity';
import { PROVIDERS } from '../providers';

export interface Cohort {
  provider: ProviderName;
  calls: number;
  /** Calls whose final status is `completed` (or `transferred`: handed to a human as intended). */
  completed: number;
  /** completed / calls, 0–1; null without calls. */
  completionRate: number | null;
  /** Mean of ended_at − (answered_at or started_at), seconds, over ended calls; null when none. */
  avgDurationS: number | null;
  /** Ms from the carrier's start to the first agent audio (metrics.firstAgentAudioMs), nearest-rank percentiles. */
  firstAgentAudioMs: { p50: number | null; p95: number | null; n: number };
  bargeInsPerCall: number | null;
  /** Calls that moved to the other provider (metrics.failovers ≥ 1). */
  failovers: number;
  bookingsPerCall: number | null;
  leadsPerCall: number | null;
}

export interface CohortReport {
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
  cohorts: Cohort[];
}

/** Nearest-rank percentile (p in 0–100) of `values`; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const ratio = (a: number, n: number, digits = 3): number | null => (n ? Number((a / n).toFixed(digits)) : null);

function durationS(c: CallSummary): number | undefined {
  if (!c.ended_at) return undefined;
  const start = Date.parse(c.answered_at ?? c.started_at);
  const end = Date.parse(c.ended_at);
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? (end - start) / 1000 : undefined;
}

function cohortOf(provider: ProviderName, calls: CallSummary[]): Cohort {
  const n = calls.length;
  const durations = calls.map(durationS).filter((d): d is number => d !== undefined);
  const firstAudio = calls.map((c) => num(c.metrics.firstAgentAudioMs)).filter((v): v is number => v !== undefined);
  const sum = (f: (c: CallSummary) => number) => calls.reduce((acc, c) => acc + f(c), 0);
  return {
    provider,
    calls: n,
    completed: calls.filter((c) => c.status === 'completed' || c.status === 'transferred').length,
    completionRate: ratio(calls.filter((c) => c.status === 'completed' || c.status === 'transferred').length, n),
    avgDurationS: durations.length ? Number((durations.reduce((a, b) => a + b, 0) / durations.length).toFixed(1)) : null,
    firstAgentAudioMs: { p50: percentile(firstAudio, 50), p95: percentile(firstAudio, 95), n: firstAudio.length },
    bargeInsPerCall: ratio(
      sum((c) => num(c.metrics.bargeIns) ?? 0),
      n,
      2,
    ),
    failovers: calls.filter((c) => (num(c.metrics.failovers) ?? 0) > 0).length,
    bookingsPerCall: ratio(
      sum((c) => c.bookings),
      n,
    ),
    leadsPerCall: ratio(
      sum((c) => c.leads),
      n,
    ),
  };
}

/**
 * Group `calls` by provider: every provider of `providers` (default: the registry) always appears (zero calls → null rates),
 * then any other provider found in the calls. Calls never bridged to a provider (`metrics.bridged === false`: busy, no answer)
 * are left out.
 */
export function cohortReport(calls: CallSummary[], from: string, to: string, providers: readonly ProviderName[] = PROVIDERS.map((m) => m.name)): CohortReport {
  const names = [...new Set([...providers, ...calls.map((c) => c.provider)])];
  return {
    from,
    to,
    cohorts: names.map((p) =>
      cohortOf(
        p,
        calls.filter((c) => c.provider === p && c.metrics.bridged !== false),
      ),
    ),
  };
}

export const CSV_COLUMNS = [
  'provider',
  'calls',
  'completed',
  'completion_rate',
  'avg_duration_s',
  'first_agent_audio_p50_ms',
  'first_agent_audio_p95_ms',
  'barge_ins_per_call',
  'failovers',
  'bookings_per_call',
  'leads_per_call',
  'from',
  'to',
] as const;

/** RFC 4180 CSV (CRLF line ends, header row); empty cells for nulls. */
export function cohortCsv(r: CohortReport): string {
  const cell = (v: string | number | null) => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = r.cohorts.map((c) =>
    [
      c.provider,
      c.calls,
      c.completed,
      c.completionRate,
      c.avgDurationS,
      c.firstAgentAudioMs.p50,
      c.firstAgentAudioMs.p95,
      c.bargeInsPerCall,
      c.failovers,
      c.bookingsPerCall,
      c.leadsPerCall,
      r.from,
      r.to,
    ]
      .map(cell)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

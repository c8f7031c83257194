/**
 * Completes the rows of calls whose instance died with them (SIGKILL, OOM, a host lost): their session
 * never wrote its final row, so the row would say `in-progress` for ever and the cohort report would
 * count it as live. Some time after start-up and then every `periodMs`, the rows started in the last
 * `lookbackMs` that have no `ended_at` are read; a row is lost when its call is live nowhere in the
 * deployment (the call directory: this registry, or every instance through Redis) and it started more
 * than `graceMs` ago (longer than a live call's directory key takes to appear or to expire). A lost row
 * is saved with status `failed`, end reason `instance_lost`, ended now. Idempotent: the row is keyed by
 * call SID, so two instances reaping the same row write the same outcome.
 */
import type { CallRegistry } from '../call/registry';
import type { CallDirectory } from '../cluster/types';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';

export interface LostCallsOptions {
  /** First pass this long after start-up (ms): the directory has heard every live instance by then. */
  firstAfterMs: number;
  /** Later passes (ms). */
  periodMs: number;
  /** A call younger than this (ms) is never reaped. */
  graceMs: number;
  /** How far back rows are read (ms). */
  lookbackMs: number;
}

export const LOST_CALLS_DEFAULTS: LostCallsOptions = { firstAfterMs: 20_000, periodMs: 60_000, graceMs: 30_000, lookbackMs: 24 * 3600_000 };

/** One pass: complete the lost rows. Returns the call SIDs completed. Never throws (a failed read or lookup skips). */
export async function reapLostCalls(store: Store, directory: CallDirectory, registry: CallRegistry, log: Logger, o: LostCallsOptions): Promise<string[]> {
  const now = Date.now();
  let rows;
  try {
    rows = await store.callsBetween(new Date(now - o.lookbackMs).toISOString(), new Date(now - o.graceMs).toISOString());
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'lost calls: rows could not be read; next pass later');
    return [];
  }
  const reaped: string[] = [];
  for (const row of rows) {
    if (row.ended_at || registry.find(row.call_sid)) continue;
    const live = await directory.findLive(row.call_sid).catch(() => 'unknown' as const);
    if (live) continue;
    const { leads: _leads, bookings: _bookings, ...callRow } = row;
    await store.saveCall({ ...callRow, status: 'failed', end_reason: 'instance_lost', ended_at: new Date(now).toISOString() });
    reaped.push(row.call_sid);
  }
  if (reaped.length) log.warn({ calls: reaped }, 'lost calls: rows of calls whose instance died completed as failed (instance_lost)');
  return reaped;
}

/** Schedule the passes; returns the function that stops them. Timers never keep the process alive. */
export function watchLostCalls(store: Store, directory: CallDirectory, registry: CallRegistry, log: Logger, o = LOST_CALLS_DEFAULTS): () => void {
  let periodic: NodeJS.Timeout | undefined;
  const pass = () => void reapLostCalls(store, directory, registry, log, o);
  const first = setTimeout(() => {
    pass();
    periodic = setInterval(pass, o.periodMs);
    periodic.unref();
  }, o.firstAfterMs);
  first.unref();
  return () => {
    clearTimeout(first);
    clearInterval(periodic);
  };
}

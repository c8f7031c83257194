/**
 * `GET /api/reports/cohorts?from=&to=[&format=csv]` (Bearer ADMIN_API_KEY): providers compared over
 * the calls started in [from, to) (reports-cohorts.ts). JSON by default; CSV with `format=csv` or
 * `Accept: text/csv`. `from`/`to` are ISO 8601 dates or date-times; default: the last 7 days.
 * 400 on a bad period, 503 when the store cannot be read.
 */
import { Router } from 'express';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';
import { requireAdmin } from './admin-auth';
import { cohortCsv, cohortReport } from './reports-cohorts';

const DAY_MS = 86_400_000;
/** Longest period one request may cover. */
const MAX_PERIOD_DAYS = 366;

/** Parse `from`/`to`; returns ISO strings or the problem to answer with 400. */
export function reportPeriod(q: { from?: unknown; to?: unknown }, now = Date.now()): { from: string; to: string } | { error: string } {
  const parse = (v: unknown, name: string): number | string | undefined => {
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v))
      return `${name}: expected an ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T00:00:00Z`;
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : `${name}: not a valid date: ${v}`;
  };
  const to = parse(q.to, 'to') ?? now;
  if (typeof to === 'string') return { error: to };
  const from = parse(q.from, 'from') ?? to - 7 * DAY_MS;
  if (typeof from === 'string') return { error: from };
  if (from >= to) return { error: 'from must be before to' };
  if (to - from > MAX_PERIOD_DAYS * DAY_MS) return { error: `the period may cover at most ${MAX_PERIOD_DAYS} days` };
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** Express router for `GET /api/reports/cohorts`; `store` undefined → 503 (no store configured). */
export function reportsRouter(adminKey: string, store: Store | undefined, log: Logger): Router {
  const r = Router();
  r.get('/api/reports/cohorts', requireAdmin(adminKey), async (req, res) => {
    const period = reportPeriod(req.query as Record<string, unknown>);
    if ('error' in period) {
      res.status(400).json({ error: 'bad_request', message: period.error });
      return;
    }
    if (!store) {
      res.status(503).json({ error: 'unavailable', message: 'no store configured' });
      return;
    }
    let calls;
    try {
      calls = await store.callsBetween(period.from, period.to);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cohort report: store read failed');
      res.status(503).json({ error: 'unavailable', message: 'the store could not be read; try again' });
      return;
    }
    const report = cohortReport(calls, period.from, period.to);
    const csv = req.query.format === 'csv' || (req.query.format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    if (csv) {
      res
        .type('text/csv; charset=utf-8')
        .attachment(`cohorts-${period.from.slice(0, 10)}-${period.to.slice(0, 10)}.csv`)
        .send(cohortCsv(report));
      return;
    }
    res.json(report);
  });
  return r;
}

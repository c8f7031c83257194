/**
 * Probes and metrics: `/health` (process up), `/live`, `/ready` (503 while draining),
 * `/metrics` (prom-client text format).
 */
import { Router } from 'express';
import type { Metrics } from '../observability/metrics';

export interface ServerState {
  draining: boolean;
}

export function probesRouter(state: ServerState, metrics: Metrics, activeCalls: () => number): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ status: 'ok', activeCalls: activeCalls(), uptimeS: Math.round(process.uptime()) });
  });
  r.get('/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/ready', (_req, res) => {
    if (state.draining) res.status(503).json({ status: 'draining' });
    else res.json({ status: 'ready' });
  });
  r.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return r;
}

/**
 * Probes and metrics: `/health` (process up), `/live`, `/ready` (503 while draining or when a
 * readiness check fails: provider configuration here, the store's own check added beside it),
 * `/metrics` (prom-client text format, https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
import { Router } from 'express';
import type { Config } from '../config';
import type { Metrics } from '../observability/metrics';
import { routableProviders } from '../providers/routing';
import type { ProviderModule } from '../providers/types';

/** One readiness condition: resolves with a problem sentence, or undefined when fine. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<string | undefined> | string | undefined;
}

export interface ServerState {
  draining: boolean;
  /** SIGTERM received, calls still taken: only `/ready` says so, for DRAIN_READY_GRACE_S (../app/drain.ts). */
  unready?: boolean;
  /** Extra readiness conditions (store, providers); all must pass for `/ready` to answer 200. */
  checks?: ReadinessCheck[];
}

/** Readiness of the provider configuration: each provider calls may be routed to (default, failover targets) has its settings. */
export function providerConfigCheck(cfg: Config, providers: readonly ProviderModule[]): ReadinessCheck {
  return {
    name: 'providers',
    check() {
      const routable = routableProviders(cfg);
      const missing = providers.filter((p) => routable.includes(p.name)).flatMap((p) => p.missingConfig(cfg));
      return missing.length ? `provider credentials missing: ${missing.join(', ')}` : undefined;
    },
  };
}

async function runChecks(checks: ReadinessCheck[]): Promise<Record<string, string>> {
  const problems: Record<string, string> = {};
  await Promise.all(
    checks.map(async (c) => {
      try {
        const p = await c.check();
        if (p) problems[c.name] = p;
      } catch (err) {
        problems[c.name] = (err as Error).message;
      }
    }),
  );
  return problems;
}

/** @param metricsText the instance's metrics when this is one worker of several (summed by the primary); default: this process's registry. */
export function probesRouter(state: ServerState, metrics: Metrics, activeCalls: () => number, metricsText?: () => Promise<string>): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ status: 'ok', activeCalls: activeCalls(), uptimeS: Math.round(process.uptime()) });
  });
  r.get('/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/ready', async (_req, res) => {
    if (state.draining || state.unready) return void res.status(503).json({ status: 'draining' });
    const problems = await runChecks(state.checks ?? []);
    if (Object.keys(problems).length) res.status(503).json({ status: 'not_ready', problems });
    else res.json({ status: 'ready' });
  });
  r.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await (metricsText ?? (() => metrics.registry.metrics()))());
  });
  return r;
}

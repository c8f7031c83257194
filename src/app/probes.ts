/**
 * Probes and metrics: `/health` (process up), `/live`, `/ready` (503 while draining or when a
 * readiness check fails: provider configuration here, the store's own check added beside it),
 * `/metrics` (prom-client text format, https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
import { Router } from 'express';
import type { Config } from '../config';
import type { Metrics } from '../observability/metrics';

/** One readiness condition: resolves with a problem sentence, or undefined when fine. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<string | undefined> | string | undefined;
}

export interface ServerState {
  draining: boolean;
  /** Extra readiness conditions (store, providers); all must pass for `/ready` to answer 200. */
  checks?: ReadinessCheck[];
}

/** Readiness of the provider configuration: each provider calls may be routed to has its credentials. */
export function providerConfigCheck(cfg: Config): ReadinessCheck {
  return {
    name: 'providers',
    check() {
      const routable = new Set<string>([cfg.USE_ELEVENLABS_CONVERSATIONAL_AI ? 'elevenlabs' : 'openai']);
      if (cfg.PROVIDER_FAILOVER) routable.add('elevenlabs').add('openai');
      const missing: string[] = [];
      if (routable.has('elevenlabs') && (!cfg.elevenLabsApiKey || !cfg.ELEVENLABS_AGENT_ID)) missing.push('ELEVENLABS_API_KEY/ELEVENLABS_AGENT_ID');
      if (routable.has('openai') && !cfg.OPENAI_API_KEY) missing.push('OPENAI_API_KEY');
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

export function probesRouter(state: ServerState, metrics: Metrics, activeCalls: () => number): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    res.json({ status: 'ok', activeCalls: activeCalls(), uptimeS: Math.round(process.uptime()) });
  });
  r.get('/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/ready', async (_req, res) => {
    if (state.draining) return void res.status(503).json({ status: 'draining' });
    const problems = await runChecks(state.checks ?? []);
    if (Object.keys(problems).length) res.status(503).json({ status: 'not_ready', problems });
    else res.json({ status: 'ready' });
  });
  r.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return r;
}

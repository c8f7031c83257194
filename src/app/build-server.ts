/**
 * Builds the HTTP server (Express 5 + the media WebSocket) without listening, so tests run it on
 * port 0 and only `index.ts` listens and handles signals.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import { createBusiness, type Business } from '../business';
import { PendingCalls } from '../call/pending';
import type { AudioFormat } from '../audio/format';
import { claimCall } from './call-claim';
import type { IpcPeer } from '../cluster/ipc';
import { joinInstance } from '../cluster/worker-link';
import { CallRegistry } from '../call/registry';
import { flagRouter, type Router as CallRouter } from '../call/router';
import { ToolRegistry } from '../call/tools';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { createFlagSource, type FlagSource } from '../flags';
import { CARRIERS, DEFAULT_CARRIER } from '../carriers';
import type { CallControl, CallControls, Carrier, CarrierModule } from '../carriers/types';
import type { PendingCall } from '../call/pending';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { createStore } from '../store';
import type { Store } from '../store/types';
import { recordUnbridgedCalls } from './unbridged-calls';
import { LOST_CALLS_DEFAULTS, watchLostCalls } from './lost-calls';
import { createConnectors, isProviderName, PROVIDERS, type Connectors } from '../providers';
import type { OpenSocket } from '../providers/socket';
import type { ProviderModule } from '../providers/types';
import { adminRouter } from './admin-api';
import { adminGuard } from './admin-auth';
import { admitCall, type AdmitRequest } from './call-admission';
import { httpInflightLimit } from './limits-ip';
import { postCallWebhookRouter } from './post-call-webhook';
import { attachMediaSocket } from './media-socket';
import { createOperations, type Operations } from './operations';
import { reportsRouter } from './reports';
import { probesRouter, providerConfigCheck, type ServerState } from './probes';

export interface ServerOverrides {
  /** The carriers to serve (default: the registry, src/carriers/index.ts). */
  carriers?: readonly CarrierModule[];
  /** The providers calls may take (default: the registry, src/providers/index.ts). */
  providers?: readonly ProviderModule[];
  metrics?: Metrics;
  connectors?: Connectors;
  /** Twilio call control (shorthand for `controls.twilio`). */
  control?: CallControl;
  controls?: CallControls;
  router?: CallRouter;
  /** Provider flag source; default: Unleash when UNLEASH_URL is set (src/flags). */
  flags?: FlagSource;
  tools?: ToolRegistry;
  /** Default: createStore(cfg) (Supabase when SUPABASE_URL is set, else embedded under DATA_DIR). */
  store?: Store;
  /** Time and timers of calls and provider legs (default: the process clock). */
  clock?: Clock;
  /** This process is one worker of several (WEB_CONCURRENCY): its channel to the primary (src/cluster/primary.ts). */
  primary?: IpcPeer;
  /** How provider legs open their sockets (default: `ws`). */
  openSocket?: OpenSocket;
}

export interface CallbridgeServer {
  server: Server;
  app: express.Express;
  registry: CallRegistry;
  state: ServerState;
  metrics: Metrics;
  /** Calls answered whose media socket has not started yet (drain waits for them too). */
  pending: PendingCalls;
  /** Limits, call directory (local or Redis), outbound options, status book. */
  ops: Operations;
  /** Calls, turns, leads, bookings, emails (src/store). */
  store: Store;
  /** Calendar, email, booking tools and the daily digest (src/business). */
  business: Business;
  /** Stop accepting, close sockets and timers, flush the store's journal (up to 5 s) and close it. */
  close(): Promise<void>;
}

/**
 * The `source` label of a refused request: the route family it was meant for. Only names of served
 * carriers become labels (a request cannot mint label values).
 */
function requestSource(req: express.Request, carriers: ReadonlyMap<string, unknown>): string {
  const p = req.path;
  if (p.startsWith('/api')) return 'admin_api';
  if (p.startsWith('/webhooks/elevenlabs')) return 'post_call';
  const carrier = /^\/webhooks\/(\w+)\//.exec(p)?.[1] ?? (p === '/inbound' || p === '/outbound' ? (req.query.carrier ?? DEFAULT_CARRIER) : undefined);
  return typeof carrier === 'string' && carriers.has(carrier) ? `${carrier}_webhook` : 'http';
}

export function buildServer(cfg: Config, log: Logger, o: ServerOverrides = {}): CallbridgeServer {
  const metrics = o.metrics ?? createMetrics();
  const remoteStore = o.primary && ((method: string, args: unknown[]) => o.primary!.call('store', [method, args]));
  const store = o.store ?? createStore(cfg, log, metrics, remoteStore);
  const providers = o.providers ?? PROVIDERS;
  const state: ServerState = {
    draining: false,
    checks: [
      providerConfigCheck(cfg, providers),
      { name: 'store', check: async () => ((await store.healthy()) ? undefined : `${store.kind} store unreachable`) },
    ],
  };
  const registry = new CallRegistry();
  const ops = createOperations(cfg, log, metrics, registry, o.primary);
  const pending = new PendingCalls(cfg.PENDING_CALL_TTL_S * 1000);
  const instance = o.primary ? joinInstance(o.primary, registry, pending, metrics.registry) : undefined;
  const tools = o.tools ?? new ToolRegistry();
  const business = createBusiness(cfg, store, log);
  for (const t of business.tools) tools.register(t);
  const connectors = o.connectors ?? createConnectors(cfg, log, providers, { clock: o.clock, openSocket: o.openSocket });
  const isProvider = (name: unknown) => isProviderName(name, providers);
  const flags = o.router ? undefined : (o.flags ?? createFlagSource(cfg, log));
  const router = o.router ?? flagRouter(cfg, flags);
  const shared = { options: ops.outbound, directory: ops.directory, limits: ops.limits, elsewhere: instance?.elsewhere };
  const admission = { cfg, log, state, registry, pending, router, connectors, tools, isProvider, ...shared };
  const claims = { secret: cfg.CALL_TOKEN_SECRET, log, pending, tokens: ops.tokens, options: ops.outbound, connectors, tools };
  ops.tokens.onClaimed((callSid) => pending.drop(callSid));
  const carrierDeps = {
    cfg,
    log,
    metrics,
    admit: (req: AdmitRequest) => admitCall(admission, req),
    claim: (callSid: string, token: string | undefined, format?: AudioFormat) => claimCall(claims, callSid, token, format),
    statuses: ops.book,
    shared: ops.shared,
    placedCall: (rid: string) => ops.outbound.take(rid),
  };
  const carriers = new Map<string, Carrier<PendingCall>>((o.carriers ?? CARRIERS).map((m) => [m.name, m.create<PendingCall>(carrierDeps)]));
  const controls: CallControls = Object.fromEntries([...carriers].map(([name, c]) => [name, c.control]));
  if (o.control) controls[DEFAULT_CARRIER] = o.control;
  Object.assign(controls, o.controls);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(probesRouter(state, metrics, () => registry.size, instance?.metricsText));
  app.use(httpInflightLimit(cfg.MAX_HTTP_INFLIGHT_PER_IP, metrics));
  for (const c of carriers.values()) app.use(c.routes);
  recordUnbridgedCalls(ops.book, store, registry, cfg, log);
  const stopReaping = watchLostCalls(store, ops.directory, registry, log, {
    ...LOST_CALLS_DEFAULTS,
    firstAfterMs: Math.min(20, cfg.LOST_CALL_CHECK_S) * 1000,
    periodMs: cfg.LOST_CALL_CHECK_S * 1000,
    graceMs: cfg.LOST_CALL_GRACE_S * 1000,
  });
  app.use(postCallWebhookRouter({ secret: cfg.ELEVENLABS_WEBHOOK_SECRET, store, log, metrics })); // raw body: before express.json
  // Admin key and brute-force guard for every /api route, before any body is parsed.
  app.use('/api', adminGuard(cfg.ADMIN_API_KEY, { maxFailures: cfg.ADMIN_AUTH_MAX_FAILURES, windowMs: cfg.ADMIN_AUTH_WINDOW_S * 1000, metrics }));
  app.use(express.json({ limit: '256kb' }));
  app.use(reportsRouter(cfg.ADMIN_API_KEY, store, log));
  app.use(
    adminRouter({
      cfg,
      log,
      state,
      registry,
      controls,
      carriers,
      isProvider,
      limits: ops.limits,
      directory: ops.directory,
      outbound: ops.outbound,
      book: ops.book,
      store,
      metrics,
    }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((err: Error & { status?: number; type?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) log.error({ err: err.message }, 'request failed');
    else {
      // A body the parser refused (malformed JSON or form, too large, bad charset: body-parser's `type`), counted per route family.
      const reason = (err.type ?? 'bad_request').replace(/\W+/g, '_');
      metrics.badMessagesTotal.inc({ source: requestSource(req, carriers), reason });
      log.warn({ path: req.path, status, reason }, 'request body refused');
    }
    res.status(status).json({ error: status >= 500 ? 'internal_error' : 'bad_request', message: err.message });
  });

  const server = createServer(app);
  const wss = attachMediaSocket(server, {
    cfg,
    log,
    metrics,
    state,
    registry,
    pending,
    tools,
    controls,
    connectors,
    store,
    clock: o.clock,
    ipLimit: ops.mediaSockets,
    streams: new Map([...carriers].map(([name, c]) => [name, c.stream])),
    defaultCarrier: DEFAULT_CARRIER,
  });

  return {
    server,
    app,
    registry,
    state,
    metrics,
    pending,
    ops,
    store,
    business,
    async close() {
      stopReaping();
      pending.close();
      await ops.close();
      await flags?.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Sessions closed above finish asynchronously; give them a moment to journal their last rows.
      for (let i = 0; i < 60 && registry.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
      await business.close();
      const left = await store.flush(5000);
      if (left) log.warn({ pending: left }, 'store journal not drained at shutdown; replayed at next start');
      await store.close();
    },
  };
}

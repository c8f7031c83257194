/**
 * Process entry: load `.env` and config (a bad value stops start-up with one line per variable),
 * warn loudly about unsafe settings (config.ts `startupWarnings`: EXOTEL_WEBHOOK_TOKEN unset on a public PUBLIC_URL),
 * build the server, listen on PORT, drain on SIGTERM/SIGINT (app/drain.ts) and exit 0. With
 * WEB_CONCURRENCY > 1 this process becomes the primary (cluster/primary.ts) and forks that many workers
 * running this same file, each a server on the shared PORT.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { buildServer } from './app/build-server';
import { drainServer } from './app/drain';
import { ConfigError, loadConfig, loadDotEnv, startupWarnings, type Config } from './config';
import { createLogger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { defaultProvider } from './providers/routing';
import { runPrimary } from './cluster/primary';
import { connectPrimary } from './cluster/worker-link';

function main(): void {
  loadDotEnv();
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.problems) process.stderr.write(`callbridge: config error: ${line}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(cfg.LOG_LEVEL);
  if (cluster.isPrimary && cfg.WEB_CONCURRENCY > 1) {
    for (const warning of startupWarnings(cfg)) log.warn(`SECURITY: ${warning}`);
    return runPrimary(cfg, log);
  }
  const primary = cluster.isWorker ? connectPrimary() : undefined;
  if (!primary) for (const warning of startupWarnings(cfg)) log.warn(`SECURITY: ${warning}`);
  const srv = buildServer(cfg, log, { metrics: createMetrics(true), primary });
  srv.server.listen(cfg.PORT, () => {
    const port = (srv.server.address() as AddressInfo).port;
    const worker = cluster.worker?.id;
    log.info({ port, publicUrl: cfg.PUBLIC_URL, provider: defaultProvider(cfg), instanceId: srv.ops.directory.instanceId, worker }, 'callbridge listening');
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    await drainServer(srv, log, {
      windowMs: cfg.DRAIN_TIMEOUT_S * 1000,
      readyGraceMs: cfg.DRAIN_READY_GRACE_S * 1000,
      flush: async () => void (await srv.store.flush(5000)),
    });
    log.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main();

/**
 * Process entry: load `.env` and config (a bad value stops start-up with one line per variable),
 * build the server, listen on PORT, drain on SIGTERM/SIGINT.
 */
import { once } from 'node:events';
import { buildServer } from './app/build-server';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config';
import { createLogger } from './observability/logger';
import { createMetrics } from './observability/metrics';

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
  const srv = buildServer(cfg, log, { metrics: createMetrics(true) });
  srv.server.listen(cfg.PORT, () => {
    log.info({ port: cfg.PORT, publicUrl: cfg.PUBLIC_URL, provider: cfg.USE_ELEVENLABS_CONVERSATIONAL_AI ? 'elevenlabs' : 'openai' }, 'callbridge listening');
  });

  let stopping = false;
  const drain = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    srv.state.draining = true;
    log.info({ signal, activeCalls: srv.registry.size, drainTimeoutS: cfg.DRAIN_TIMEOUT_S }, 'draining');
    if (srv.registry.size > 0) {
      await Promise.race([once(srv.registry, 'idle'), new Promise((r) => setTimeout(r, cfg.DRAIN_TIMEOUT_S * 1000))]);
    }
    await srv.close();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void drain('SIGTERM'));
  process.once('SIGINT', () => void drain('SIGINT'));
}

main();

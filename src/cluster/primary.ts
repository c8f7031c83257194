/**
 * The primary process of an instance with WEB_CONCURRENCY workers (`node:cluster`,
 * https://nodejs.org/api/cluster.html): it forks the workers, which share PORT (the primary accepts
 * and hands connections out round-robin, the default on Linux: `cluster.schedulingPolicy`), serves
 * them the instance-wide state (./primary-hub.ts), re-forks a worker that dies, and on SIGTERM/SIGINT
 * passes the signal to every worker (each drains its own calls, app/drain.ts) and exits once all have.
 * It handles no HTTP itself.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { EmbeddedStore } from '../store/embedded-store';
import { IpcPeer } from './ipc';
import { PrimaryHub } from './primary-hub';

/** A worker that dies sooner than this after its start is not re-forked (a crash loop, e.g. bad config). */
const MIN_UPTIME_MS = 5_000;

/** Start `cfg.WEB_CONCURRENCY` workers running this same entry script, and serve them. Resolves never; exits the process when done. */
export function runPrimary(cfg: Config, log: Logger): void {
  const store = cfg.SUPABASE_URL ? undefined : new EmbeddedStore(cfg.DATA_DIR);
  const hub = new PrimaryHub(store);
  const started = new Map<number, number>();
  let stopping = false;

  const fork = (): Worker => {
    const w = cluster.fork();
    // A send to a worker that just exited fails through the callback (without one, Worker emits 'error': an uncaught crash).
    const peer = new IpcPeer((m) => w.send(m, undefined, () => undefined));
    w.on('error', (err) => log.warn({ worker: w.id, err: err.message }, 'worker channel error'));
    w.on('message', (m) => peer.receive(m));
    hub.attach(w.id, peer);
    started.set(w.id, Date.now());
    return w;
  };

  cluster.on('exit', (w, code, signal) => {
    const lost = hub.detach(w.id);
    const upMs = Date.now() - (started.get(w.id) ?? 0);
    started.delete(w.id);
    if (stopping) {
      log.info({ worker: w.id, code }, 'worker drained and exited');
      if (Object.keys(cluster.workers ?? {}).length === 0) void finish();
      return;
    }
    log.error({ worker: w.id, code, signal, lostCalls: lost }, 'worker died: its calls are lost (their rows are completed as instance_lost)');
    if (upMs >= MIN_UPTIME_MS) fork();
    else if (Object.keys(cluster.workers ?? {}).length === 0) {
      log.fatal({ worker: w.id, upMs }, 'workers die at start-up: giving up');
      process.exit(1);
    }
  });

  const finish = async () => {
    await store?.close().catch(() => undefined);
    log.info('all workers drained');
    log.flush();
    process.exit(0);
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'signal received: draining every worker');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info({ workers: cfg.WEB_CONCURRENCY, pid: process.pid }, 'primary: forking workers');
  for (let i = 0; i < cfg.WEB_CONCURRENCY; i++) fork();
}

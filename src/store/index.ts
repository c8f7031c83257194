/**
 * `createStore(cfg, log)`: Supabase when SUPABASE_URL is set, else the embedded PGlite store
 * under DATA_DIR; both wrapped in the journaled store (store.ts). Returns at once; the journal and
 * the database open in the background (a new embedded directory starts initialising at once), and
 * writes wait for the journal.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { EmbeddedStore } from './embedded-store';
import { ipcBackend } from './ipc-backend';
import { JournaledStore } from './store';
import { SupabaseStore } from './supabase-store';
import type { Store } from './types';

export type { Store } from './types';
export { StoreError } from './errors';

export type StoreConfig = Pick<Config, 'SUPABASE_URL' | 'SUPABASE_SERVICE_ROLE_KEY' | 'DATA_DIR'>;

/**
 * @param metrics when given, each retried write counts in `callbridge_store_retries_total`.
 * @param remote a cluster worker's channel to the primary holding the embedded database (no SUPABASE_URL, WEB_CONCURRENCY > 1).
 * @throws Error when SUPABASE_URL is set without SUPABASE_SERVICE_ROLE_KEY (loadConfig refuses it first).
 */
export function createStore(
  cfg: StoreConfig,
  log: Logger,
  metrics?: Pick<Metrics, 'storeRetriesTotal'>,
  remote?: (method: string, args: unknown[]) => Promise<unknown>,
): Store & { readonly pending: number } {
  const onRetry = () => metrics?.storeRetriesTotal.inc();
  if (cfg.SUPABASE_URL) {
    if (!cfg.SUPABASE_SERVICE_ROLE_KEY) throw new Error('SUPABASE_SERVICE_ROLE_KEY: required when SUPABASE_URL is set');
    log.info({ url: cfg.SUPABASE_URL }, 'store: Supabase');
    return new JournaledStore(new SupabaseStore(cfg.SUPABASE_URL, cfg.SUPABASE_SERVICE_ROLE_KEY), { dataDir: cfg.DATA_DIR, log, onRetry });
  }
  if (remote) {
    log.info({ dataDir: cfg.DATA_DIR }, "store: embedded PostgreSQL (PGlite) held by the instance's primary process");
    return new JournaledStore(ipcBackend(remote), { dataDir: cfg.DATA_DIR, log, onRetry });
  }
  log.info({ dataDir: cfg.DATA_DIR }, 'store: embedded PostgreSQL (PGlite); set SUPABASE_URL to use Supabase');
  const embedded = new EmbeddedStore(cfg.DATA_DIR);
  // A new PGlite directory takes seconds to initialise: start now, before the first call needs it.
  // An existing one opens in well under a second, on first use.
  if (!existsSync(embedded.dir)) embedded.ping().catch((err: Error) => log.error({ err: err.message, dataDir: cfg.DATA_DIR }, 'embedded store could not open'));
  return new JournaledStore(embedded, { dataDir: cfg.DATA_DIR, log, onRetry });
}

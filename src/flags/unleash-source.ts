/**
 * FlagSource backed by the official Unleash Node SDK (unleash-client 6.12.1). It polls
 * `GET {url}client/features` every `refreshIntervalMs` (ETag, 304 when unchanged), keeps the last
 * known toggles in memory when the server is unreachable, and writes them to a backup file that a
 * later start reads when the server is down (https://docs.getunleash.io/reference/sdks/node,
 * options `refreshInterval`, `backupPath`, `customHeaders`; https://docs.getunleash.io/reference/api/legacy/unleash/client/features).
 *
 * Pitfalls handled (unleash-client 6.12.1):
 * - an `error` listener is attached in the constructor, before the SDK's first fetch (it starts on
 *   the next tick); without one the SDK prints every failed poll with console.error;
 * - `destroy()` removes every listener of the SDK's repository, so a fetch still in flight would
 *   then emit `error` with no listener and end the process (`lib/repository/index.js` `stop()`):
 *   `close()` puts a listener back on it right after `destroy()`.
 */
import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { Unleash } from 'unleash-client';
import type { Logger } from '../observability/logger';
import { unleashContext } from './unleash-context';
import { TOGGLE_NAME, type FlagAnswer, type FlagContext, type FlagSource, type FlagSourceStatus } from './types';

export interface UnleashSourceOptions {
  /** Client API base, e.g. `https://unleash.example.com/api/` (trailing slash added by the SDK). */
  url: string;
  /** Backend (client) token, sent as `Authorization`; it selects the Unleash environment. */
  token: string;
  appName: string;
  /** Poll period, ms (the SDK's default is 15 000; callbridge uses 1 000 so a flip lands within 2 s). */
  refreshIntervalMs: number;
  /** Directory of `unleash-backup-<appName>.json`. Default `os.tmpdir()`. */
  backupDir?: string;
  /** One fetch's timeout, ms. Default 3 000. */
  fetchTimeoutMs?: number;
  log: Logger;
}

/** Failed-poll log lines before going quiet until the next success. */
const ERROR_LOG_LIMIT = 3;

export class UnleashFlagSource implements FlagSource {
  private readonly unleash: Unleash;
  private readonly log: Logger;
  private readonly staleAfterMs: number;
  private ready = false;
  private synchronized = false;
  private lastOkAt?: number;
  private errorsSinceOk = 0;
  private closed = false;

  constructor(private readonly opts: UnleashSourceOptions) {
    this.log = opts.log.child({ component: 'flags' });
    // Three missed polls (each may back off by one period) before the state counts as stale.
    this.staleAfterMs = Math.max(3 * opts.refreshIntervalMs, 3000) + (opts.fetchTimeoutMs ?? 3000);
    this.unleash = new Unleash({
      url: opts.url,
      appName: opts.appName,
      refreshInterval: opts.refreshIntervalMs,
      timeout: opts.fetchTimeoutMs ?? 3000,
      customHeaders: { Authorization: opts.token },
      backupPath: opts.backupDir ?? tmpdir(),
      // One client per server build: tests build many in one process.
      skipInstanceCountWarning: true,
    });
    this.unleash.on('error', (err: Error) => this.onError(err));
    this.unleash.on('warn', (msg: unknown) => this.log.debug({ msg: String(msg) }, 'unleash warning'));
    this.unleash.on('ready', () => {
      this.ready = true;
      this.log.info({ synchronized: this.synchronized }, this.synchronized ? 'unleash toggles fetched' : 'unleash toggles read from the backup file');
    });
    this.unleash.on('synchronized', () => {
      this.synchronized = true;
      this.ready = true;
    });
    this.unleash.on('changed', () => this.fetched(true));
    this.unleash.on('unchanged', () => this.fetched(false));
  }

  private fetched(changed: boolean): void {
    if (this.errorsSinceOk > 0) this.log.info({ failedPolls: this.errorsSinceOk }, 'unleash reachable again');
    this.errorsSinceOk = 0;
    this.lastOkAt = Date.now();
    this.ready = true;
    if (changed) this.log.debug({ enabled: this.unleash.getFeatureToggleDefinition(TOGGLE_NAME)?.enabled }, 'unleash toggles changed');
  }

  private onError(err: Error): void {
    if (++this.errorsSinceOk <= ERROR_LOG_LIMIT)
      this.log.warn({ err: err.message, lastKnown: this.ready }, 'unleash poll failed; keeping the last known toggles');
  }

  evaluate(ctx: FlagContext): FlagAnswer | undefined {
    if (!this.ready || this.closed) return undefined;
    try {
      if (!this.unleash.getFeatureToggleDefinition(TOGGLE_NAME)) return undefined;
      const elevenlabs = this.unleash.isEnabled(TOGGLE_NAME, unleashContext(ctx), false);
      const stale = this.lastOkAt === undefined || Date.now() - this.lastOkAt > this.staleAfterMs;
      return { elevenlabs, source: !this.synchronized ? 'unleash-backup' : stale ? 'unleash-stale' : 'unleash' };
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'unleash evaluation failed');
      return undefined;
    }
  }

  status(): FlagSourceStatus {
    const def = this.ready ? this.unleash.getFeatureToggleDefinition(TOGGLE_NAME) : undefined;
    const rollout = def?.strategies?.find((s) => s.name === 'flexibleRollout' && !s.constraints?.length)?.parameters?.rollout;
    return {
      ready: this.ready,
      synchronized: this.synchronized,
      sinceLastFetchMs: this.lastOkAt === undefined ? undefined : Date.now() - this.lastOkAt,
      toggleKnown: !!def,
      toggle: def ? { enabled: def.enabled, rollout: rollout === undefined ? undefined : Number(rollout) } : undefined,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unleash.destroy();
    // destroy() stripped the repository's listeners; a poll still in flight must find one.
    (this.unleash as unknown as { repository?: EventEmitter }).repository?.on('error', () => undefined);
  }
}

/**
 * Flags: the FlagSource for this process (Unleash when UNLEASH_URL is set, else none: the env var
 * decides) and the precedence rules (precedence.ts).
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { FlagSource } from './types';
import { UnleashFlagSource } from './unleash-source';

export { chooseProvider, type ProviderChoice } from './precedence';
export { TOGGLE_NAME, type FlagContext, type FlagSource, type FlagSourceStatus } from './types';

/** The Unleash source when `UNLEASH_URL` is set (config guarantees a token), else undefined. Starts polling at once. */
export function createFlagSource(cfg: Config, log: Logger): FlagSource | undefined {
  if (!cfg.UNLEASH_URL) return undefined;
  log.info(
    { url: cfg.UNLEASH_URL, appName: cfg.UNLEASH_APP_NAME, refreshIntervalMs: cfg.UNLEASH_REFRESH_INTERVAL_MS },
    'provider flag: Unleash toggle USE_ELEVENLABS_CONVERSATIONAL_AI, env var as fallback',
  );
  return new UnleashFlagSource({
    url: cfg.UNLEASH_URL,
    token: cfg.UNLEASH_API_TOKEN!,
    appName: cfg.UNLEASH_APP_NAME,
    refreshIntervalMs: cfg.UNLEASH_REFRESH_INTERVAL_MS,
    backupDir: cfg.UNLEASH_BACKUP_DIR,
    log,
  });
}

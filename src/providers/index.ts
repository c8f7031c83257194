/**
 * Provider registry: one line per provider folder (the routing data, which provider is the new path,
 * the legacy one and the failover order, is in ./routing.ts).
 */
import type { Config } from '../config';
import type { ProviderName } from '../identity';
import type { Logger } from '../observability/logger';
import { elevenLabsProvider } from './elevenlabs';
import { openAiRealtimeProvider } from './openai-realtime';
import type { ProviderDeps } from './socket';
import type { ProviderConnector, ProviderModule } from './types';

export { CONVAI_PROVIDER, FAILOVER_ORDER, LEGACY_PROVIDER, defaultProvider, failoverTarget, routableProviders } from './routing';

/** Every provider callbridge can put on a call. */
export const PROVIDERS: readonly ProviderModule[] = [elevenLabsProvider, openAiRealtimeProvider];

/** Connectors by provider name. */
export type Connectors = Record<ProviderName, ProviderConnector>;

/** True when `name` is a provider of `modules` (default: the registry). */
export function isProviderName(name: unknown, modules: readonly ProviderModule[] = PROVIDERS): name is ProviderName {
  return typeof name === 'string' && modules.some((m) => m.name === name);
}

/** One connector per provider of `modules`; `deps` (sockets, clock) default to the real ones. */
export function createConnectors(cfg: Config, log: Logger, modules: readonly ProviderModule[] = PROVIDERS, deps: Partial<ProviderDeps> = {}): Connectors {
  return Object.fromEntries(modules.map((m) => [m.name, m.connector(cfg, log, deps)]));
}

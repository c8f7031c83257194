/**
 * Which provider a call takes, as data: the new path, the legacy path and the failover order. The
 * flag precedence (src/flags/precedence.ts), the readiness probe and failover read these instead of
 * naming providers themselves.
 */
import type { Config } from '../config';
import type { ProviderName } from '../identity';

/** The new path: ElevenLabs Conversational AI, taken when `USE_ELEVENLABS_CONVERSATIONAL_AI` (or its Unleash toggle) is on. */
export const CONVAI_PROVIDER: ProviderName = 'elevenlabs';

/** The legacy path, taken when the flag is off and by the kill switch. */
export const LEGACY_PROVIDER: ProviderName = 'openai';

/** With PROVIDER_FAILOVER, a failed provider hands the call to the next provider in this list (wrapping round). */
export const FAILOVER_ORDER: readonly ProviderName[] = [CONVAI_PROVIDER, LEGACY_PROVIDER];

/** The provider of a call when no flag service answers: the env var `USE_ELEVENLABS_CONVERSATIONAL_AI`. */
export function defaultProvider(cfg: Pick<Config, 'USE_ELEVENLABS_CONVERSATIONAL_AI'>): ProviderName {
  return cfg.USE_ELEVENLABS_CONVERSATIONAL_AI ? CONVAI_PROVIDER : LEGACY_PROVIDER;
}

/** The provider that takes over from `from` (the next in FAILOVER_ORDER that is not `from`), or undefined. */
export function failoverTarget(from: ProviderName, order: readonly ProviderName[] = FAILOVER_ORDER): ProviderName | undefined {
  const i = order.indexOf(from);
  const after = i < 0 ? order : [...order.slice(i + 1), ...order.slice(0, i)];
  return after.find((p) => p !== from);
}

/** The providers calls may be routed to under `cfg`: the default one, plus every failover target when PROVIDER_FAILOVER is on. */
export function routableProviders(cfg: Pick<Config, 'USE_ELEVENLABS_CONVERSATIONAL_AI' | 'PROVIDER_FAILOVER'>): ProviderName[] {
  const first = defaultProvider(cfg);
  return cfg.PROVIDER_FAILOVER ? [first, ...FAILOVER_ORDER.filter((p) => p !== first)] : [first];
}

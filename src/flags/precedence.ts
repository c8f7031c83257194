/**
 * The provider for a new call, and where that choice came from. Precedence, first match wins:
 *
 * 1. `request`     the operator named a provider for this call (`POST /api/calls {provider}`).
 * 2. `kill-switch` Unleash is configured but `USE_ELEVENLABS_CONVERSATIONAL_AI=false`: every call
 *                  takes OpenAI Realtime, whatever the toggle or a webhook URL says (the rollback
 *                  that works even when Unleash itself misbehaves).
 * 3. `url`         the webhook URL pins a provider (`?provider=`), honoured only on an authenticated
 *                  request (signed Twilio; Exotel with EXOTEL_WEBHOOK_TOKEN): the webhooks decide.
 * 4. the toggle    Unleash has a state holding the toggle `USE_ELEVENLABS_CONVERSATIONAL_AI`:
 *                  `unleash` (fresh), `unleash-stale` (server down mid-day: last known state),
 *                  `unleash-backup` (server down since start: the backup file).
 * 5. `env`         otherwise (no Unleash, not reached yet and no backup, or no such toggle):
 *                  `USE_ELEVENLABS_CONVERSATIONAL_AI` (true → ElevenLabs).
 *
 * Taken once at call start (call admission); a live call never changes provider because of a flag.
 */
import type { Config } from '../config';

import { CONVAI_PROVIDER, LEGACY_PROVIDER, defaultProvider } from '../providers/routing';
import type { FlagContext, FlagSource } from './types';
import type { ProviderName } from '../identity';

export interface ProviderChoice {
  provider: ProviderName;
  /** `request` | `kill-switch` | `url` | `unleash` | `unleash-stale` | `unleash-backup` | `env` */
  source: string;
}

/** Apply the precedence above to one call. Never throws; `flags` undefined = no Unleash. */
export function chooseProvider(
  cfg: Pick<Config, 'USE_ELEVENLABS_CONVERSATIONAL_AI'>,
  flags: FlagSource | undefined,
  ctx: FlagContext & { requested?: ProviderName; pinned?: ProviderName },
): ProviderChoice {
  if (ctx.requested) return { provider: ctx.requested, source: 'request' };
  const envChoice = defaultProvider(cfg);
  if (flags && !cfg.USE_ELEVENLABS_CONVERSATIONAL_AI) return { provider: LEGACY_PROVIDER, source: 'kill-switch' };
  if (ctx.pinned) return { provider: ctx.pinned, source: 'url' };
  if (!flags) return { provider: envChoice, source: 'env' };
  const answer = flags.evaluate(ctx);
  if (!answer) return { provider: envChoice, source: 'env' };
  return { provider: answer.elevenlabs ? CONVAI_PROVIDER : LEGACY_PROVIDER, source: answer.source };
}

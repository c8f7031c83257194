/**
 * Chooses the provider for a new call, once, at call start; the choice never changes a live call.
 * The source is `USE_ELEVENLABS_CONVERSATIONAL_AI` (true → ElevenLabs, false → OpenAI Realtime), or,
 * with UNLEASH_URL set, the Unleash toggle of the same name (precedence: src/flags/precedence.ts).
 */
import type { Config } from '../config';

import { chooseProvider, type FlagSource } from '../flags';
import type { CallIdentity, ProviderName } from '../identity';

export interface RouteContext extends CallIdentity {
  /** Operator's explicit choice (outbound API), wins over everything. */
  requested?: ProviderName;
  /** The authenticated webhook URL's `?provider=`: wins over the toggle and the env var, never over the kill switch. */
  pinned?: ProviderName;
}

export interface RouteDecision {
  provider: ProviderName;
  /** `request` | `url` | `env` | `kill-switch` | `unleash` | `unleash-stale` | `unleash-backup` */
  source: string;
}

export type Router = (ctx: RouteContext) => RouteDecision;

/** The env-var router: the kill switch and default. */
export function envRouter(cfg: Config): Router {
  return flagRouter(cfg, undefined);
}

/** Router over a FlagSource (Unleash) with the env var as fallback and kill switch. */
export function flagRouter(cfg: Config, flags: FlagSource | undefined): Router {
  return (ctx) => chooseProvider(cfg, flags, ctx);
}

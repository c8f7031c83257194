/**
 * Chooses the provider for a new call, once, at call start; the choice never changes a live call.
 * Today the source is `USE_ELEVENLABS_CONVERSATIONAL_AI` (true → ElevenLabs, false → OpenAI
 * Realtime); an Unleash FlagSource plugs in here later.
 */
import type { Config } from '../config';
import type { CallDirection, CarrierName } from '../carriers/types';
import type { ProviderName } from '../providers/types';

export interface RouteContext {
  callSid: string;
  carrier: CarrierName;
  direction: CallDirection;
  from?: string;
  to?: string;
  /** Operator's explicit choice (outbound API), wins over the flag. */
  requested?: ProviderName;
}

export interface RouteDecision {
  provider: ProviderName;
  /** `request` | `env` */
  source: string;
}

export type Router = (ctx: RouteContext) => RouteDecision;

/** The env-var router: the kill switch and default. */
export function envRouter(cfg: Config): Router {
  return (ctx) => {
    if (ctx.requested) return { provider: ctx.requested, source: 'request' };
    return { provider: cfg.USE_ELEVENLABS_CONVERSATIONAL_AI ? 'elevenlabs' : 'openai', source: 'env' };
  };
}

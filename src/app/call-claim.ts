/**
 * Admits a media stream by its call token, on whichever process or instance the socket landed:
 * 1. the token's HMAC and expiry are checked (../call/call-token.ts) and its call SID must be the
 *    stream's (or minted by callbridge);
 * 2. the deployment's token ledger lets one stream per token through (Redis SET NX with REDIS_URL);
 * 3. when this process answered the webhook, its pending call (with the provider set-up already under
 *    way) is taken; otherwise the call is rebuilt from the token, its prompt overrides are read from the
 *    shared options store, and the provider set-up starts now (the cost of landing elsewhere).
 * Every refusal is counted in `callbridge_media_sockets_refused_total{reason}` by the media socket and
 * logged here once, with the reason.
 */
import type { AudioFormat } from '../audio/format';
import { verifyCallToken } from '../call/call-token';
import type { PendingCall, PendingCalls } from '../call/pending';
import type { ToolRegistry } from '../call/tools';
import type { OutboundOptionsStore, TokenLedger } from '../cluster/types';
import type { Logger } from '../observability/logger';
import type { Connectors } from '../providers';
import { callOptionsKey, startSetUp } from './call-admission';

export interface ClaimDeps {
  /** CALL_TOKEN_SECRET. */
  secret: string;
  log: Logger;
  pending: PendingCalls;
  tokens: TokenLedger;
  options: OutboundOptionsStore;
  connectors: Connectors;
  tools: ToolRegistry;
  /** Wall clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * The call the stream of `callSid` may start with `token`, or undefined (missing, forged, expired,
 * for another call, or already used). `format` is the stream's audio format, for a set-up started here.
 */
export async function claimCall(deps: ClaimDeps, callSid: string, token: string | undefined, format?: AudioFormat): Promise<PendingCall | undefined> {
  const now = (deps.now ?? Date.now)();
  const checked = verifyCallToken(deps.secret, token, now);
  if (!checked.ok) {
    deps.log.warn({ callSid, reason: checked.reason }, 'media token refused');
    return undefined;
  }
  const c = checked.claims;
  if (c.callSid !== callSid && !c.minted) {
    deps.log.warn({ callSid, tokenCallSid: c.callSid }, 'media token refused: issued for another call');
    return undefined;
  }
  if (!(await deps.tokens.claimOnce(c.callSid, c.expMs - now))) {
    deps.log.warn({ callSid }, 'media token refused: already used');
    return undefined;
  }
  const local = deps.pending.take(c.callSid);
  const stored = c.options ? await deps.options.take(callOptionsKey(c.callSid)).catch(() => undefined) : undefined;
  if (local) return local;
  if (c.options && !stored) deps.log.warn({ callSid }, 'prompt overrides of this call not found: starting with the defaults');
  const call = {
    callSid: c.callSid,
    carrier: c.carrier,
    direction: c.direction,
    from: c.from,
    to: c.to,
    prompt: stored?.prompt,
    firstMessage: stored?.firstMessage,
  };
  deps.log.info({ callSid, provider: c.provider }, 'media stream admitted by its token alone: provider set-up starts here');
  return {
    ...call,
    token: token!,
    provider: c.provider,
    flagSource: c.flagSource,
    prepared: startSetUp(deps, { ...call, provider: c.provider, carrierFormat: format }),
    createdAtMs: now,
  };
}

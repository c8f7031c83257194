/**
 * Admits a call answered by a carrier webhook (which has authenticated it first): applies the drain
 * state and the limits, decides the provider once (router), issues the self-verifying per-call token
 * (../call/call-token.ts, keyed by CALL_TOKEN_SECRET) and starts the provider's set-up (signed URL) while
 * the webhook answer is still on its way. Prompt overrides of a placed call are stored by call SID in the
 * shared options store, so a socket landing on another process or instance finds them. A refused call
 * starts no set-up. Limits, first match: draining; MAX_PENDING_CALLS answered calls not streaming yet
 * (`pending_limit`); MAX_CONCURRENT_CALLS live + not streaming (`busy`); the daily budget (`budget`).
 */
import { MULAW_8K, type AudioFormat } from '../audio/format';
import { signCallToken } from '../call/call-token';
import type { PendingCall, PendingCalls } from '../call/pending';
import type { CallRegistry } from '../call/registry';
import type { Router } from '../call/router';
import type { ToolRegistry } from '../call/tools';
import type { CallDirectory, OutboundOptionsStore } from '../cluster/types';
import type { Config } from '../config';

import type { Logger } from '../observability/logger';
import type { Connectors } from '../providers';

import type { AdmissionLimits } from './limits';
import type { ServerState } from './probes';
import type { Admission, AdmitRequest, RefusalReason } from '../carriers/types';
import { CallbridgeError } from '../errors';
import type { CallIdentity, ProviderName } from '../identity';

export type { Admission, AdmitRequest };

export interface AdmissionDeps {
  cfg: Config;
  log: Logger;
  state: ServerState;
  registry: CallRegistry;
  pending: PendingCalls;
  router: Router;
  connectors: Connectors;
  /** Provider names a request may ask for (`?provider=`, placed calls); others are ignored. */
  isProvider(name: unknown): name is ProviderName;
  tools: ToolRegistry;
  /** Live calls of every instance (a repeated webhook for a call live on another instance is a duplicate too). */
  directory?: Pick<CallDirectory, 'findLive'>;
  /** Prompt overrides of admitted calls, by `call:<callSid>` (shared across instances with REDIS_URL). */
  options: OutboundOptionsStore;
  /** Live and pending calls of this instance's other worker processes (WEB_CONCURRENCY), counted in the limits. */
  elsewhere?: () => { live: number; pending: number };
  /** Daily budget and refusal counting (absent in narrow unit set-ups). */
  limits?: AdmissionLimits;
}

/** The options-store key of an admitted call's prompt overrides. */
export const callOptionsKey = (callSid: string): string => `call:${callSid}`;

/** What a provider set-up needs of the call. */
export interface SetUpRequest extends CallIdentity {
  provider: ProviderName;
  prompt?: string;
  firstMessage?: string;
  carrierFormat?: AudioFormat;
}

/**
 * Start the provider's set-up (signed URL, session request) for a call. The promise never rejects: a
 * failure resolves to the Error, which the session turns into failover or a polite goodbye.
 */
export function startSetUp(deps: Pick<AdmissionDeps, 'connectors' | 'tools' | 'log'>, r: SetUpRequest): PendingCall['prepared'] {
  const { callSid, carrier, direction, from, to, provider } = r;
  const connector = deps.connectors[provider];
  const ctx = { callSid, carrier, direction, from, to, prompt: r.prompt, firstMessage: r.firstMessage, carrierFormat: r.carrierFormat ?? MULAW_8K };
  const setUp = connector
    ? connector.prepare({ ...ctx, tools: deps.tools.specs() })
    : Promise.reject(new CallbridgeError('CB_PROVIDER_UNKNOWN', `no connector for provider ${provider}`, 'application'));
  return setUp.catch((err: Error) => {
    deps.log.warn({ callSid, provider, err: err.message }, 'provider set-up failed');
    return err;
  });
}

/** Admit (or refuse) the call of one webhook request. Never throws; a failed options write is logged (the call goes on without its overrides). */
export async function admitCall(deps: AdmissionDeps, req: AdmitRequest): Promise<Admission> {
  // Idempotent per call SID: a repeated webhook (Twilio signatures carry no timestamp, so a captured one
  // replays) gets the pending call's own answer and starts nothing; one for a call already live or
  // recently ended, here or on another instance, is refused as `duplicate`. Neither holds a second slot or
  // a second provider set-up. The directory is asked first: from the pending check to `pending.add` nothing awaits.
  const liveElsewhere = deps.directory ? await deps.directory.findLive(req.callSid).catch(() => undefined) : undefined;
  const again = deps.pending.get(req.callSid);
  if (again) {
    deps.log.warn({ callSid: req.callSid, carrier: req.carrier }, 'webhook repeated for a call waiting for its stream: same answer');
    return { ok: true, token: again.token, provider: again.provider };
  }
  if (deps.registry.find(req.callSid) || liveElsewhere) {
    deps.limits?.refused(req.carrier, 'duplicate');
    return { ok: false, reason: 'duplicate' };
  }
  const others = deps.elsewhere?.() ?? { live: 0, pending: 0 };
  const pending = deps.pending.size + others.pending;
  const live = deps.registry.size + others.live;
  const refusal: RefusalReason | undefined = deps.state.draining
    ? 'draining'
    : pending >= deps.cfg.MAX_PENDING_CALLS
      ? 'pending_limit'
      : live + pending >= deps.cfg.MAX_CONCURRENT_CALLS
        ? 'busy'
        : deps.limits?.overBudget()
          ? 'budget'
          : undefined;
  if (refusal) {
    deps.limits?.refused(req.carrier, refusal);
    return { ok: false, reason: refusal };
  }
  const { callSid, carrier, direction, from, to } = req;
  const requested = deps.isProvider(req.requestedProvider) ? req.requestedProvider : undefined;
  const pinned = deps.isProvider(req.urlProvider) ? req.urlProvider : undefined;
  const route = deps.router({ callSid, carrier, direction, from, to, requested, pinned });
  const options = req.prompt !== undefined || req.firstMessage !== undefined;
  const createdAtMs = Date.now();
  const claims = { callSid, carrier, direction, from, to, provider: route.provider, flagSource: route.source, expMs: createdAtMs + deps.pending.ttlMs };
  const token = signCallToken(deps.cfg.CALL_TOKEN_SECRET, { ...claims, minted: req.minted, options });
  const prepared = startSetUp(deps, { ...req, provider: route.provider });
  deps.pending.add({ ...req, token, provider: route.provider, flagSource: route.source, prepared, createdAtMs });
  if (options) {
    await deps.options
      .put(callOptionsKey(callSid), { prompt: req.prompt, firstMessage: req.firstMessage })
      .catch((err: Error) => deps.log.warn({ callSid, err: err.message }, 'prompt overrides not shared: only this process can start the call with them'));
  }
  deps.log.info({ callSid: req.callSid, carrier: req.carrier, direction: req.direction, provider: route.provider, flagSource: route.source }, 'call admitted');
  return { ok: true, token, provider: route.provider };
}

/**
 * Admits a call answered by a carrier webhook: applies the concurrency limit and drain state,
 * decides the provider once (router), issues the per-call token and starts the provider's set-up
 * (signed URL) while the webhook answer is still on its way.
 */
import { MULAW_8K, type AudioFormat } from '../audio/format';
import { PendingCalls } from '../call/pending';
import type { CallRegistry } from '../call/registry';
import type { Router } from '../call/router';
import type { ToolRegistry } from '../call/tools';
import type { Config } from '../config';
import type { CallDirection, CarrierName } from '../carriers/types';
import type { Logger } from '../observability/logger';
import type { Connectors } from '../providers';
import type { ProviderName } from '../providers/types';
import type { AdmissionLimits, RefusalReason } from './limits';
import type { ServerState } from './probes';

export interface AdmitRequest {
  callSid: string;
  carrier: CarrierName;
  direction: CallDirection;
  from?: string;
  to?: string;
  carrierFormat?: AudioFormat;
  requestedProvider?: ProviderName;
  prompt?: string;
  firstMessage?: string;
}

export type Admission = { ok: true; token: string; provider: ProviderName } | { ok: false; reason: RefusalReason };

export interface AdmissionDeps {
  cfg: Config;
  log: Logger;
  state: ServerState;
  registry: CallRegistry;
  pending: PendingCalls;
  router: Router;
  connectors: Connectors;
  tools: ToolRegistry;
  /** Daily budget and refusal counting (absent in narrow unit set-ups). */
  limits?: AdmissionLimits;
}

export function admitCall(deps: AdmissionDeps, req: AdmitRequest): Admission {
  const refusal: RefusalReason | undefined = deps.state.draining
    ? 'draining'
    : deps.registry.size + deps.pending.size >= deps.cfg.MAX_CONCURRENT_CALLS
      ? 'busy'
      : deps.limits?.overBudget()
        ? 'budget'
        : undefined;
  if (refusal) {
    deps.limits?.refused(req.carrier, refusal);
    return { ok: false, reason: refusal };
  }
  const route = deps.router({
    callSid: req.callSid,
    carrier: req.carrier,
    direction: req.direction,
    from: req.from,
    to: req.to,
    requested: req.requestedProvider,
  });
  const token = PendingCalls.newToken();
  const prepared = deps.connectors[route.provider]
    .prepare({
      callSid: req.callSid,
      carrier: req.carrier,
      direction: req.direction,
      from: req.from,
      to: req.to,
      prompt: req.prompt,
      firstMessage: req.firstMessage,
      carrierFormat: req.carrierFormat ?? MULAW_8K,
      tools: deps.tools.specs(),
    })
    .catch((err: Error) => {
      deps.log.warn({ callSid: req.callSid, provider: route.provider, err: err.message }, 'provider set-up failed');
      return err;
    });
  deps.pending.add({ ...req, token, provider: route.provider, flagSource: route.source, prepared, createdAtMs: Date.now() });
  deps.log.info({ callSid: req.callSid, carrier: req.carrier, direction: req.direction, provider: route.provider, flagSource: route.source }, 'call admitted');
  return { ok: true, token, provider: route.provider };
}

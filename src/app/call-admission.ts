/**
 * Admits a call answered by a carrier webhook: applies the concurrency limit and drain state,
 * decides the provider once (router), issues the per-call token and starts the provider's set-up
 * (signed URL) while the webhook answer is still on its way.
 */
import { MULAW_8K } from '../audio/format';
import { PendingCalls } from '../call/pending';
import type { CallRegistry } from '../call/registry';
import type { Router } from '../call/router';
import type { ToolRegistry } from '../call/tools';
import type { Config } from '../config';

import type { Logger } from '../observability/logger';
import type { Connectors } from '../providers';

import type { AdmissionLimits } from './limits';
import type { ServerState } from './probes';
import type { Admission, AdmitRequest, RefusalReason } from '../carriers/types';
import { CallbridgeError } from '../errors';
import type { ProviderName } from '../identity';

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
  const { callSid, carrier, direction, from, to } = req;
  const requested = deps.isProvider(req.requestedProvider) ? req.requestedProvider : undefined;
  const route = deps.router({ callSid, carrier, direction, from, to, requested });
  const token = PendingCalls.newToken();
  const connector = deps.connectors[route.provider];
  const ctx = { callSid, carrier, direction, from, to, prompt: req.prompt, firstMessage: req.firstMessage, carrierFormat: req.carrierFormat ?? MULAW_8K };
  const setUp = connector
    ? connector.prepare({ ...ctx, tools: deps.tools.specs() })
    : Promise.reject(new CallbridgeError('CB_PROVIDER_UNKNOWN', `no connector for provider ${route.provider}`, 'application'));
  const prepared = setUp.catch((err: Error) => {
    deps.log.warn({ callSid, provider: route.provider, err: err.message }, 'provider set-up failed');
    return err;
  });
  deps.pending.add({ ...req, token, provider: route.provider, flagSource: route.source, prepared, createdAtMs: Date.now() });
  deps.log.info({ callSid: req.callSid, carrier: req.carrier, direction: req.direction, provider: route.provider, flagSource: route.source }, 'call admitted');
  return { ok: true, token, provider: route.provider };
}

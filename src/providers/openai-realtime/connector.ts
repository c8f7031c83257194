/**
 * The OpenAI Realtime (GA) provider connector: opens one `ws` socket per call.
 *
 * `OpenAIRealtimeWS` from the SDK (openai 6.49.0) always rewrites the scheme to wss, so an `http://`/`ws://`
 * base still dials TLS (`buildRealtimeURL`, https://github.com/openai/openai-node/blob/main/src/realtime/internal-base.ts),
 * while `OPENAI_REALTIME_URL` may be a plain `ws://` emulator, so the socket is opened with `ws` 8 directly
 * (docs/protocols/openai-realtime.md#connection): same URL, same `Authorization` header, identical events.
 * Docs: https://developers.openai.com/docs/guides/realtime (GA interface),
 * https://platform.openai.com/docs/guides/realtime#beta-to-ga-migration (why no `OpenAI-Beta` header).
 */
import type { Config } from '../../config';
import { CallbridgeError } from '../../errors';
import type { Logger } from '../../observability/logger';
import { providerDeps, type ProviderDeps } from '../socket';
import type { CallContext, PreparedProvider, ProviderConnector, ProviderEvent, ProviderLeg } from '../types';
import { OpenAiLeg } from './leg';
import { buildSessionPlan } from './session-config';
import { OPENAI_REALTIME_DEFAULT_URL } from './wire';

/** Provider messages are small JSON events; a 4 MiB cap bounds a misbehaving peer. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Default deadline from dialling to `session.updated` (ms). */
const CONNECT_TIMEOUT_MS = 10_000;

/** Tunables, mainly for tests; every field has a production default (real sockets, the process clock). */
export interface OpenAiConnectorOptions extends Partial<ProviderDeps> {
  /** Deadline from dialling to a configured session (ms). Default 10,000. */
  connectTimeoutMs?: number;
}

/**
 * The Realtime URL for `cfg`: `OPENAI_REALTIME_URL` (any ws/wss URL) or
 * `wss://api.openai.com/v1/realtime`, plus `model=<OPENAI_REALTIME_MODEL>` unless the URL already
 * names a model (docs/protocols/openai-realtime.md#connection;
 * `buildRealtimeURL` in https://github.com/openai/openai-node/blob/main/src/realtime/internal-base.ts).
 */
export function realtimeUrl(cfg: Pick<Config, 'OPENAI_REALTIME_URL' | 'OPENAI_REALTIME_MODEL'>): string {
  const url = new URL(cfg.OPENAI_REALTIME_URL ?? OPENAI_REALTIME_DEFAULT_URL);
  if (!url.searchParams.has('model')) url.searchParams.set('model', cfg.OPENAI_REALTIME_MODEL);
  return url.toString();
}

/**
 * `createOpenAiConnector(cfg, log)` → ProviderConnector named 'openai'.
 *
 * - `prepare(ctx)` does no I/O (the socket is per call and short-lived, so it is opened in
 *   `connect`); it rejects with CallbridgeError 'auth' (CB_OPENAI_AUTH) when `OPENAI_API_KEY` is unset.
 * - `connect(ctx, onEvent)` dials with `Authorization: Bearer <OPENAI_API_KEY>` (no `OpenAI-Beta`
 *   header: GA), waits for `session.created`, sends the GA `session.update` (session-config.ts) and
 *   resolves with the leg on a `session.updated` that confirms the formats. Rejects with a
 *   CallbridgeError: 'auth' (HTTP 401/403, `invalid_api_key`, close 3000), 'connectivity' (refused,
 *   dropped, no answer within `connectTimeoutMs`), 'bad_request' (update rejected, formats not
 *   confirmed, beta shape), 'rate_limit' (HTTP 429), 'server' (HTTP 5xx).
 * - Events: `ready` (both formats: `audio/pcmu` ↔ μ-law 8 kHz for a μ-law carrier, else PCM16 24 kHz),
 *   then `audio` {payload, itemId}, `interruption`, `transcript` (user from input transcription,
 *   agent from `response.output_audio_transcript.done`), `tool_call` {id: call_id, name, args},
 *   `end` {reason: 'session_expired'}, `error` {fatal: true} on any close we did not ask for.
 */
export function createOpenAiConnector(cfg: Config, log: Logger, opts: OpenAiConnectorOptions = {}): ProviderConnector {
  const world = providerDeps(opts);
  return {
    name: 'openai',
    async prepare(): Promise<PreparedProvider> {
      const apiKey = cfg.OPENAI_API_KEY;
      if (!apiKey) throw new CallbridgeError('CB_OPENAI_AUTH', 'OPENAI_API_KEY is not set', 'auth');
      return { connect: (ctx, onEvent) => connectLeg(cfg, apiKey, log, world, ctx, onEvent, opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) };
    },
  };
}

async function connectLeg(
  cfg: Config,
  apiKey: string,
  root: Logger,
  { openSocket, clock }: ProviderDeps,
  ctx: CallContext,
  onEvent: (ev: ProviderEvent) => void,
  timeoutMs: number,
): Promise<ProviderLeg> {
  const log = root.child({ provider: 'openai', callSid: ctx.callSid });
  const plan = buildSessionPlan(ctx, cfg);
  const url = realtimeUrl(cfg);
  const started = clock.now();
  const ws = openSocket(url, { headers: { Authorization: `Bearer ${apiKey}` }, maxPayload: MAX_PAYLOAD_BYTES, handshakeTimeoutMs: timeoutMs });
  // The leg attaches 'error' (and every other listener) in this same tick.
  const leg = new OpenAiLeg(ws, { plan, firstMessage: ctx.firstMessage ?? cfg.FIRST_MESSAGE, timeoutMs, log, onEvent, clock });
  try {
    await leg.ready;
  } catch (err) {
    log.warn({ err: (err as Error).message, category: (err as CallbridgeError).category, ms: Math.round(clock.now() - started) }, 'openai connect failed');
    throw err;
  }
  log.info({ ms: Math.round(clock.now() - started), format: plan.wire.type }, 'openai session configured');
  return leg;
}

/**
 * The ElevenLabs Conversational AI provider: `prepare` fetches a signed URL over HTTPS while the
 * carrier webhook is being answered; `connect` opens the conversation socket (leg.ts).
 *
 * Signed URL: `GET {base}/v1/convai/conversation/get-signed-url?agent_id=…` with `xi-api-key`
 * → `{ "signed_url": "wss://…" }` (docs/protocols/elevenlabs.md#signed-url;
 * https://elevenlabs.io/docs/eleven-agents/api-reference/conversations/get-signed-url; SDK
 * `@elevenlabs/elevenlabs-js` 2.73.0 `conversationalAi.conversations.getSignedUrl`). The SDK is loaded
 * only when an ElevenLabs key is configured (its ~5,400 modules take ~100 MiB and about a second to
 * load), in the background as the connector is built, so an OpenAI-only deployment never pays for it
 * and the first call does not wait for it.
 */
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import type { Config } from '../../config';
import { CallbridgeError } from '../../errors';
import type { Logger } from '../../observability/logger';
import type { CallContext, PreparedProvider, ProviderConnector } from '../types';
import { encodeInitiation } from './codec';
import { statusError } from './close-errors';
import { openElevenLabsLeg, type ElevenLabsLegOptions } from './leg';
import { elevenLabsApiBase, type ElevenLabsRegion } from './regions';
import { providerDeps, type ProviderDeps } from '../socket';

/** Tunables, mainly for tests; every field has a production default (real sockets, the process clock). */
export interface ElevenLabsConnectorOptions extends Partial<ProviderDeps> {
  /** Signed-URL request timeout. Default 5 000 ms (the carrier webhook is waiting). */
  signedUrlTimeoutMs?: number;
  /** Host per ELEVENLABS_REGION. Default REGION_API_BASE (tests map regions to loopback emulators). */
  regionBases?: Readonly<Record<ElevenLabsRegion, string>>;
  /** Passed to the leg: metadata wait (default 10 000 ms), close wait (default 2 000 ms). */
  leg?: Pick<ElevenLabsLegOptions, 'metadataTimeoutMs' | 'closeTimeoutMs' | 'maxPayload' | 'maxBufferedBytes'>;
}

/**
 * Build the ElevenLabs connector (name 'elevenlabs') from config: `elevenLabsApiKey`,
 * `ELEVENLABS_AGENT_ID`, `ELEVENLABS_REGION` / `ELEVENLABS_API_BASE`, `SYSTEM_PROMPT`,
 * `FIRST_MESSAGE`, `BUSINESS_NAME`.
 *
 * - `prepare(ctx)` → a signed URL, or rejects with `CallbridgeError`: 401/403 'auth' (CB_EL_AUTH),
 *   404/422 and other 4xx 'bad_request', 429 'rate_limit', 5xx 'server', timeout/network 'connectivity'.
 *   The SDK's own retries are off: failover, not a 1–2 s backoff, is the answer while a caller waits.
 * - `connect(ctx, onEvent)` → a live leg once the conversation metadata arrived (see leg.ts).
 */
export function createElevenLabsConnector(cfg: Config, log: Logger, opts: ElevenLabsConnectorOptions = {}): ProviderConnector {
  const baseUrl = elevenLabsApiBase(cfg, opts.regionBases);
  // Created only with a key: the SDK throws without one, and an OpenAI-only deployment has none.
  let client: Promise<ElevenLabsClient> | undefined;
  const sdk = () =>
    (client ??= import('@elevenlabs/elevenlabs-js').then(
      ({ ElevenLabsClient }) =>
        new ElevenLabsClient({ apiKey: cfg.elevenLabsApiKey, baseUrl, maxRetries: 0, timeoutInSeconds: (opts.signedUrlTimeoutMs ?? 5000) / 1000 }),
    ));
  if (cfg.elevenLabsApiKey) sdk().catch((err: Error) => log.error({ err: err.message }, 'ElevenLabs SDK could not load'));
  const plog = log.child({ provider: 'elevenlabs' });
  const world = providerDeps(opts);

  return {
    name: 'elevenlabs',
    async prepare(ctx: CallContext): Promise<PreparedProvider> {
      const clog = plog.child({ callSid: ctx.callSid });
      const agentId = cfg.ELEVENLABS_AGENT_ID;
      if (!cfg.elevenLabsApiKey) throw new CallbridgeError('CB_EL_AUTH', 'ELEVENLABS_API_KEY is not set', 'auth');
      if (!agentId) throw new CallbridgeError('CB_EL_CONFIG', 'ELEVENLABS_AGENT_ID is not set', 'bad_request');
      const t0 = world.clock.now();
      let signedUrl: string;
      try {
        const res = await (await sdk()).conversationalAi.conversations.getSignedUrl({ agentId });
        signedUrl = res.signedUrl;
      } catch (err) {
        throw signedUrlError(err);
      }
      if (typeof signedUrl !== 'string' || !/^wss?:\/\//.test(signedUrl)) {
        throw new CallbridgeError('CB_EL_PROTOCOL', 'ElevenLabs signed URL response has no ws(s) signed_url', 'server');
      }
      clog.info({ ms: Math.round(world.clock.now() - t0) }, 'elevenlabs signed URL fetched');
      return {
        connect: (cctx, onEvent) =>
          openElevenLabsLeg({ ...opts.leg, ...world, signedUrl, initiation: initiationFor(cfg, cctx), log: plog.child({ callSid: cctx.callSid }) }, onEvent),
      };
    },
  };
}

/**
 * The first frame for this call (docs/protocols/elevenlabs.md#client-messages): prompt and first message overrides, and dynamic
 * variables `call_sid`, `caller_number`, `business_name` for `{{…}}` placeholders.
 */
export function initiationFor(cfg: Pick<Config, 'SYSTEM_PROMPT' | 'FIRST_MESSAGE' | 'BUSINESS_NAME'>, ctx: CallContext): string {
  return encodeInitiation({
    prompt: ctx.prompt ?? cfg.SYSTEM_PROMPT,
    firstMessage: ctx.firstMessage ?? cfg.FIRST_MESSAGE,
    dynamicVariables: { call_sid: ctx.callSid, caller_number: ctx.from ?? '', business_name: cfg.BUSINESS_NAME },
  });
}

/** SDK failure → `CallbridgeError` (ElevenLabsError carries `statusCode` and `body`; none = network). */
export function signedUrlError(err: unknown): CallbridgeError {
  const e = err as { name?: string; statusCode?: unknown; body?: unknown; message?: string };
  if (typeof e.statusCode === 'number') return statusError(e.statusCode, 'ElevenLabs signed URL request', detailOf(e.body));
  const timeout = e.name === 'ElevenLabsTimeoutError' || /timeout/i.test(e.message ?? '');
  return new CallbridgeError(
    timeout ? 'CB_EL_TIMEOUT' : 'CB_EL_CONNECTIVITY',
    `ElevenLabs signed URL request failed: ${e.message ?? String(err)}`,
    'connectivity',
    { cause: err },
  );
}

/** `detail` is a string or `{ message }` (https://github.com/elevenlabs/packages/blob/main/packages/client/src/utils/errors.ts), or FastAPI's list. */
function detailOf(body: unknown): string | undefined {
  const d = (body as { detail?: unknown } | null | undefined)?.detail;
  if (typeof d === 'string') return d.slice(0, 200);
  if (d && typeof d === 'object' && typeof (d as { message?: unknown }).message === 'string') return (d as { message: string }).message.slice(0, 200);
  if (Array.isArray(d)) return JSON.stringify(d).slice(0, 200);
  return undefined;
}

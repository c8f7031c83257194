/**
 * Exotel call control. There is no official Exotel Node SDK, so the v1 Connect API is called with
 * `fetch`; hang-up and transfer have no v1 REST request and are done the way the platform allows:
 * by closing the Voicebot stream so the flow moves to its next applet (docs/protocols/exotel.md#transfer-and-hang-up).
 *
 * - placeCall: `POST {base}/v1/Accounts/{EXOTEL_ACCOUNT_SID}/Calls/connect.json`, form-encoded,
 *   `Authorization: Basic base64(EXOTEL_API_KEY:EXOTEL_API_TOKEN)` (Node's fetch refuses credentials in
 *   the URL), `From` = the customer (dialled first), `CallerId` = EXOTEL_CALLER_ID, `Url` = the flow
 *   `http://my.exotel.com/{sid}/exoml/start_voice/{EXOTEL_APP_ID}` whose Voicebot applet requests
 *   `/outbound?carrier=exotel`; answer `{"Call":{"Sid":…}}`.
 *   https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow (docs/protocols/exotel.md#connect-api).
 * - hangup: close the stream; the flow's Hangup applet (or the Connect applet answering no number) ends the call.
 * - transfer: remember the destination for the CallSid, then close the stream; the Connect applet's
 *   dynamic URL (`GET /webhooks/exotel/connect`) answers it (https://support.exotel.com/support/solutions/articles/3000096873).
 * - sayAndHangup: callbridge has no speech of its own to play, so it closes the stream and the flow
 *   ends the call (a Greeting applet placed before Hangup in the flow can say goodbye).
 */
import type { Config } from '../../config';
import { CallbridgeError, type ErrorCategory } from '../../errors';
import type { CallControl, PlaceCallRequest } from '../types';
import { ExotelLiveCalls } from './live-calls';

/** WebSocket close code for our own end of a stream (RFC 6455 §7.4.1 normal closure). */
const CLOSE_NORMAL = 1000;

/** `https://{EXOTEL_SUBDOMAIN}` unless EXOTEL_API_BASE overrides it; no trailing slash. */
export function exotelApiBase(cfg: Pick<Config, 'EXOTEL_API_BASE' | 'EXOTEL_SUBDOMAIN'>): string {
  return (cfg.EXOTEL_API_BASE ?? `https://${cfg.EXOTEL_SUBDOMAIN}`).replace(/\/+$/, '');
}

/** The flow URL Exotel accepts as `Url` (only this form is allowed: https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow). */
export function exotelFlowUrl(accountSid: string, appId: string): string {
  return `http://my.exotel.com/${encodeURIComponent(accountSid)}/exoml/start_voice/${encodeURIComponent(appId)}`;
}

function categoryOf(status: number): ErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  return status >= 500 ? 'server' : 'bad_request';
}

/** `RestException.Message` or a top-level `Message` of an Exotel error body (nesting unverified; docs/protocols/exotel.md#connect-api). */
function errorMessage(body: unknown): string | undefined {
  const b = body as { RestException?: { Message?: unknown }; Message?: unknown } | null;
  const m = b?.RestException?.Message ?? b?.Message;
  return typeof m === 'string' ? m.slice(0, 200) : undefined;
}

/** The form of a Connect API call into the flow (https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow). */
export function connectForm(cfg: Config, req: PlaceCallRequest): URLSearchParams {
  const form = new URLSearchParams({
    From: req.to,
    CallerId: req.from ?? cfg.EXOTEL_CALLER_ID!,
    Url: exotelFlowUrl(cfg.EXOTEL_ACCOUNT_SID!, cfg.EXOTEL_APP_ID!),
    CallType: 'trans',
    StatusCallback: withToken(req.statusCallbackUrl, cfg.EXOTEL_WEBHOOK_TOKEN),
  });
  // The flow URL is fixed, so per-call options travel as CustomField, which Exotel passes to the
  // applet's dynamic-URL request and to status callbacks (https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow).
  const rid = new URL(req.answerUrl).searchParams.get('rid');
  if (rid) form.set('CustomField', rid.slice(0, 128));
  form.append('StatusCallbackEvents[]', 'answered');
  form.append('StatusCallbackEvents[]', 'terminal');
  return form;
}

function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

/**
 * Build the Exotel call control. `live` is shared with the media socket (which registers streams)
 * and the Connect-applet webhook (which reads transfers). `fetchImpl` defaults to global fetch.
 * placeCall throws CallbridgeError `CB_EXOTEL_CONFIG` ('bad_request') without credentials,
 * `CB_EXOTEL_REST` with the HTTP category on a refusal, 'connectivity' when Exotel is unreachable.
 */
export function createExotelCallControl(cfg: Config, live = new ExotelLiveCalls(), fetchImpl: typeof fetch = fetch): CallControl {
  return {
    async hangup(callSid) {
      return live.closeStream(callSid, CLOSE_NORMAL, 'hangup');
    },
    async transfer(callSid, to) {
      await live.setTransfer(callSid, to);
      if (!live.closeStream(callSid, CLOSE_NORMAL, 'transfer')) {
        throw new CallbridgeError('CB_EXOTEL_NOT_LIVE', `no live Exotel stream for ${callSid} on this instance`, 'application');
      }
    },
    async sayAndHangup(callSid) {
      live.closeStream(callSid, CLOSE_NORMAL, 'goodbye');
    },
    async placeCall(req) {
      if (!cfg.EXOTEL_ACCOUNT_SID || !cfg.EXOTEL_API_KEY || !cfg.EXOTEL_API_TOKEN || !cfg.EXOTEL_APP_ID || !(req.from ?? cfg.EXOTEL_CALLER_ID)) {
        throw new CallbridgeError(
          'CB_EXOTEL_CONFIG',
          'EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN, EXOTEL_APP_ID and EXOTEL_CALLER_ID are needed to place Exotel calls',
          'bad_request',
        );
      }
      const url = `${exotelApiBase(cfg)}/v1/Accounts/${encodeURIComponent(cfg.EXOTEL_ACCOUNT_SID)}/Calls/connect.json`;
      const auth = Buffer.from(`${cfg.EXOTEL_API_KEY}:${cfg.EXOTEL_API_TOKEN}`).toString('base64');
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body: connectForm(cfg, req),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw new CallbridgeError('CB_EXOTEL_REST', `Exotel call placement failed: ${(err as Error).message}`, 'connectivity', { cause: err });
      }
      const body: unknown = await res.json().catch(() => undefined);
      if (!res.ok) {
        throw new CallbridgeError(
          'CB_EXOTEL_REST',
          `Exotel call placement answered ${res.status}${errorMessage(body) ? `: ${errorMessage(body)}` : ''}`,
          categoryOf(res.status),
        );
      }
      const sid = (body as { Call?: { Sid?: unknown } } | undefined)?.Call?.Sid;
      if (typeof sid !== 'string' || !sid) throw new CallbridgeError('CB_EXOTEL_REST', 'Exotel call placement answer has no Call.Sid', 'server');
      return { callSid: sid };
    },
  };
}

/**
 * Twilio Calls REST through the official SDK: hang-up and transfer of a live call.
 * Source: https://www.twilio.com/docs/voice/api/call-resource (spec/twilio.md §6).
 * `TWILIO_API_BASE` points the SDK's `api` domain at another base (spec §6.6: `Domain.baseUrl`).
 */
import twilio from 'twilio';
import type { Config } from '../../config';
import { CallbridgeError } from '../../errors';
import { dialTwiml, sayAndHangupTwiml } from './twiml';

type TwilioClient = ReturnType<typeof twilio>;

/** Live-call control on Twilio. Errors are CallbridgeErrors; "already ended" is not an error. */
export interface TwilioCallControl {
  /** Ends the call (`Status=completed`). Resolves false when Twilio says it had already ended (20404). */
  hangup(callSid: string): Promise<boolean>;
  /** Replaces the call's TwiML with `<Dial>to</Dial>`; the media stream then gets `stop`. */
  transfer(callSid: string, to: string): Promise<void>;
  /** Replaces the call's TwiML with `<Say>message</Say><Hangup/>`: a polite end when the agent is unavailable. */
  sayAndHangup(callSid: string, message: string): Promise<void>;
}

function clientFor(cfg: Config): TwilioClient {
  if (!cfg.TWILIO_ACCOUNT_SID || !cfg.TWILIO_AUTH_TOKEN) {
    throw new CallbridgeError('CB_TWILIO_CONFIG', 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed for Twilio REST calls', 'application');
  }
  const client = twilio(cfg.TWILIO_ACCOUNT_SID, cfg.TWILIO_AUTH_TOKEN);
  if (cfg.TWILIO_API_BASE) client.api.baseUrl = cfg.TWILIO_API_BASE.replace(/\/+$/, '');
  return client;
}

function mapError(err: unknown, what: string): CallbridgeError {
  const e = err as { status?: number; code?: number; message?: string };
  const status = e.status ?? 0;
  const category = status === 401 || status === 403 ? 'auth' : status === 429 ? 'rate_limit' : status >= 500 ? 'server' : status >= 400 ? 'bad_request' : 'connectivity';
  return new CallbridgeError('CB_TWILIO_REST', `${what} failed: ${e.message ?? String(err)}${e.code ? ` (Twilio code ${e.code})` : ''}`, category, { cause: err });
}

/** Build the Twilio call-control client (created lazily so a missing account only fails when used). */
export function createTwilioCallControl(cfg: Config): TwilioCallControl {
  let client: TwilioClient | undefined;
  const get = () => (client ??= clientFor(cfg));
  return {
    async hangup(callSid) {
      try {
        await get().calls(callSid).update({ status: 'completed' });
        return true;
      } catch (err) {
        // 20404: the call already ended (spec §6.2; pipecat's Twilio serializer does the same).
        if ((err as { code?: number }).code === 20404 || (err as { status?: number }).status === 404) return false;
        throw mapError(err, 'Twilio hang-up');
      }
    },
    async transfer(callSid, to) {
      try {
        await get().calls(callSid).update({ twiml: dialTwiml(to) });
      } catch (err) {
        throw mapError(err, 'Twilio transfer');
      }
    },
    async sayAndHangup(callSid, message) {
      try {
        await get().calls(callSid).update({ twiml: sayAndHangupTwiml(message) });
      } catch (err) {
        throw mapError(err, 'Twilio say-and-hang-up');
      }
    },
  };
}

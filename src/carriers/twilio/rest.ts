/**
 * Twilio Calls REST through the official SDK: place an outbound call, hang up or transfer a live call.
 * Source: https://www.twilio.com/docs/voice/api/call-resource (docs/protocols/twilio.md#calls-rest).
 * `TWILIO_API_BASE` points the SDK's `api` domain at another base (`Domain.baseUrl`, read on every request:
 * https://github.com/twilio/twilio-node/blob/main/src/base/Domain.ts).
 */
import twilio from 'twilio';
import type { Config } from '../../config';
import type { CallControl } from '../types';
import { CallbridgeError, httpStatusCategory } from '../../errors';
import { dialTwiml, sayAndHangupTwiml } from './twiml';

type TwilioClient = ReturnType<typeof twilio>;

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
  const category = status >= 400 ? httpStatusCategory(status) : 'connectivity';
  return new CallbridgeError('CB_TWILIO_REST', `${what} failed: ${e.message ?? String(err)}${e.code ? ` (Twilio code ${e.code})` : ''}`, category, {
    cause: err,
  });
}

/** Build the Twilio call-control client (created lazily so a missing account only fails when used). */
export function createTwilioCallControl(cfg: Config): CallControl {
  let client: TwilioClient | undefined;
  const get = () => (client ??= clientFor(cfg));
  return {
    async hangup(callSid) {
      try {
        await get().calls(callSid).update({ status: 'completed' });
        return true;
      } catch (err) {
        // 20404: the call already ended (https://www.twilio.com/docs/api/errors/20404; pipecat's Twilio serializer does the same).
        if ((err as { code?: number }).code === 20404 || (err as { status?: number }).status === 404) return false;
        throw mapError(err, 'Twilio hang-up');
      }
    },
    async transfer(callSid, to) {
      try {
        await get()
          .calls(callSid)
          .update({ twiml: dialTwiml(to) });
      } catch (err) {
        throw mapError(err, 'Twilio transfer');
      }
    },
    async placeCall(req) {
      const from = req.from ?? cfg.TWILIO_PHONE_NUMBER;
      if (!from) throw new CallbridgeError('CB_TWILIO_CONFIG', 'TWILIO_PHONE_NUMBER (or a from number) is needed to place a call', 'application');
      try {
        // https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
        const call = await get().calls.create({
          to: req.to,
          from,
          url: req.answerUrl,
          method: 'POST',
          statusCallback: req.statusCallbackUrl,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        });
        return { callSid: call.sid };
      } catch (err) {
        throw mapError(err, 'Twilio call placement');
      }
    },
    async sayAndHangup(callSid, message) {
      try {
        await get()
          .calls(callSid)
          .update({ twiml: sayAndHangupTwiml(message) });
      } catch (err) {
        throw mapError(err, 'Twilio say-and-hang-up');
      }
    },
  };
}

/**
 * Twilio's rules for `WS /media-stream`: the upgrade carries `X-Twilio-Signature` over the stream URL
 * (403 when wrong, unless TWILIO_SKIP_SIGNATURE), and `start.customParameters.token` must be the token
 * the webhook put in the TwiML `<Parameter>`.
 * Sources: https://www.twilio.com/docs/usage/webhooks/webhooks-security (signed WebSocket requests),
 * https://www.twilio.com/docs/voice/twiml/stream#custom-parameters.
 */
import type { Config } from '../../config';
import type { Logger } from '../../observability/logger';
import type { CarrierDeps, CarrierStream } from '../types';
import { twilioCodec } from './codec';
import { upgradeSignatureOk } from './signature';

/** Build Twilio's stream rules. `claim` takes the admitted call by `callSid` and the `token` custom parameter. */
export function twilioStream<Call>(cfg: Config, log: Logger, claim: CarrierDeps<Call>['claim']): CarrierStream<Call> {
  return {
    name: 'twilio',
    checkUpgrade(req) {
      if (cfg.TWILIO_SKIP_SIGNATURE || upgradeSignatureOk(cfg.TWILIO_AUTH_TOKEN!, req.headers['x-twilio-signature'] as string | undefined, cfg.PUBLIC_URL)) {
        return undefined;
      }
      log.warn({ remote: req.socket.remoteAddress }, 'media-stream upgrade with a bad X-Twilio-Signature: 403');
      return { status: 403, text: 'Forbidden', reason: 'signature' };
    },
    codec: () => twilioCodec,
    claim: (ev) => claim(ev.callSid, ev.params.token, ev.format),
  };
}

/**
 * The Twilio carrier (registry entry): Media Streams over `WS /media-stream`, the voice and status
 * webhooks, and call control through the Calls REST API.
 * Sources: https://www.twilio.com/docs/voice/media-streams, https://www.twilio.com/docs/voice/api/call-resource.
 */
import { Router } from 'express';
import type { CarrierModule } from '../types';
import { createTwilioCallControl } from './rest';
import { twilioStatusRouter } from './status';
import { twilioStream } from './stream';
import { twilioWebhookRouter } from './webhooks';

export const twilioCarrier: CarrierModule = {
  name: 'twilio',
  create(deps) {
    const base = deps.cfg.PUBLIC_URL.replace(/\/+$/, '');
    return {
      name: 'twilio',
      stream: twilioStream(deps.cfg, deps.log, deps.claim),
      control: createTwilioCallControl(deps.cfg),
      routes: Router().use(twilioWebhookRouter(deps), twilioStatusRouter(deps)),
      answerUrl: (rid) => `${base}/outbound?rid=${rid}`,
      statusCallbackUrl: () => `${base}/webhooks/twilio/status`,
    };
  },
};

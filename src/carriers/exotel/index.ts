/**
 * The Exotel carrier (registry entry): the Voicebot applet's bidirectional stream, its dynamic-URL,
 * Connect-applet and status webhooks, and call control (Connect API to place calls; closing the stream
 * to hang up or transfer, since Exotel has no REST request for a live stream).
 * Sources: https://developer.exotel.com/docs/agentstream/stream-voicebot-applet,
 * https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow.
 */
import { Router } from 'express';
import type { CarrierStartEvent, CarrierModule } from '../types';
import { ExotelLiveCalls } from './live-calls';
import { createExotelCallControl } from './rest';
import { exotelStream } from './stream';
import { exotelWebhookRouter } from './webhooks';

/**
 * A call arriving on the static applet URL (EXOTEL_STREAM_TOKEN) is admitted when its `start` arrives,
 * since no dynamic-URL request came first: its provider set-up starts then.
 * Hang-up and transfer close the stream, so the control works without API credentials (only placeCall needs them, and says so).
 */
export const exotelCarrier: CarrierModule = {
  name: 'exotel',
  create(deps) {
    const live = new ExotelLiveCalls(deps.shared);
    const admitStatic = async (start: CarrierStartEvent) => {
      const a = await deps.admit({
        callSid: start.callSid,
        carrier: 'exotel',
        direction: start.params.direction === 'outbound' ? 'outbound' : 'inbound',
        from: start.from,
        to: start.to,
        carrierFormat: start.format,
      });
      if (!a.ok) {
        deps.log.warn({ callSid: start.callSid, carrier: 'exotel', reason: a.reason }, 'call refused');
        return undefined;
      }
      return deps.claim(start.callSid, a.token, start.format);
    };
    const base = deps.cfg.PUBLIC_URL.replace(/\/+$/, '');
    return {
      name: 'exotel',
      stream: exotelStream({ cfg: deps.cfg, claim: deps.claim, live, admitStatic }),
      control: createExotelCallControl(deps.cfg, live),
      routes: Router().use(exotelWebhookRouter({ ...deps, live })),
      answerUrl: (rid) => `${base}/outbound?carrier=exotel&rid=${rid}`,
      statusCallbackUrl: () => `${base}/webhooks/exotel/status`,
    };
  },
};

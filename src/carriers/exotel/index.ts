/**
 * The Exotel carrier as the server wires it: shared live-call state, the stream rules of the media
 * socket, the call control (Connect API + stream close) and the HTTP webhooks.
 */
import type { AdmissionDeps } from '../../app/call-admission';
import { admitCall } from '../../app/call-admission';
import type { CallControl, CarrierStartEvent, CarrierStream } from '../types';
import { ExotelLiveCalls } from './live-calls';
import { createExotelCallControl } from './rest';
import { exotelStream } from './stream';

export interface ExotelCarrier {
  live: ExotelLiveCalls;
  stream: CarrierStream;
  control: CallControl;
}

/**
 * Build the Exotel carrier. A call arriving on the static applet URL (EXOTEL_STREAM_TOKEN) is admitted
 * when its `start` arrives, since no dynamic-URL request came first: its provider set-up starts then.
 */
export function createExotelCarrier(deps: AdmissionDeps): ExotelCarrier {
  const live = new ExotelLiveCalls();
  const admitStatic = (start: CarrierStartEvent) => {
    const a = admitCall(deps, {
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
    return deps.pending.claim(start.callSid, a.token);
  };
  return {
    live,
    stream: exotelStream({ cfg: deps.cfg, pending: deps.pending, live, admitStatic }),
    control: createExotelCallControl(deps.cfg, live),
  };
}

/**
 * `POST /webhooks/twilio/status`: Twilio call-progress callbacks, signed with X-Twilio-Signature over
 * the StatusCallback URL (403 when wrong), applied to the carrier status book. Answers 204.
 * Sources: https://www.twilio.com/docs/voice/api/call-resource#statuscallback,
 * https://www.twilio.com/docs/voice/twiml#callstatus-values.
 */
import express, { Router } from 'express';
import type { CarrierDeps } from '../types';
import { signedTwilioForm } from './webhooks';

/** `POST /webhooks/twilio/status` → the status book (`deps.statuses`); 204, 403 when unsigned, 400 without CallSid/CallStatus. */
export function twilioStatusRouter(deps: CarrierDeps): Router {
  const { log, metrics, statuses: book } = deps;
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  r.post('/webhooks/twilio/status', form, (req, res) => {
    const body = signedTwilioForm(deps, req, res);
    if (!body) return;
    if (!body.CallSid || !body.CallStatus) {
      metrics.badMessagesTotal.inc({ source: 'twilio_webhook', reason: 'missing_field' });
      log.warn({ callSid: body.CallSid }, 'Twilio status callback without CallSid or CallStatus: 400');
      res.status(400).type('text/plain').send('CallSid and CallStatus are required');
      return;
    }
    const seq = Number(body.SequenceNumber);
    const duration = Number(body.CallDuration);
    const changed = book.apply(body.CallSid, {
      carrier: 'twilio',
      status: body.CallStatus,
      sequence: Number.isFinite(seq) ? seq : 0,
      durationS: body.CallDuration !== undefined && Number.isFinite(duration) ? duration : undefined,
      direction: body.Direction,
      from: body.From,
      to: body.To,
    });
    if (changed) metrics.statusCallbacksTotal.inc({ carrier: 'twilio', status: body.CallStatus });
    log.info({ callSid: body.CallSid, status: body.CallStatus, sequence: body.SequenceNumber, applied: changed }, 'status callback');
    res.status(204).end();
  });
  return r;
}

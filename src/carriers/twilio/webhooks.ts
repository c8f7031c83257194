/**
 * Twilio voice webhooks: `POST /inbound` (the number's Voice URL) and `POST /outbound` (the `Url` of
 * calls.create). The signature is checked against PUBLIC_URL + path (403 on failure), then the answer is
 * TwiML `<Connect><Stream>` with the per-call token, or `<Say>` + `<Hangup/>` when the call is refused.
 * Nothing is admitted (and no provider set-up starts) before the signature passed. A `?provider=` in the
 * URL pins the call's provider only when the request was signed (not with TWILIO_SKIP_SIGNATURE), since
 * Twilio signs the URL with its query; it never beats the kill switch (src/flags/precedence.ts).
 * Requests naming another carrier (`?carrier=exotel`) are left to that carrier's routes.
 * Sources: https://www.twilio.com/docs/usage/webhooks/voice-webhooks,
 * https://www.twilio.com/docs/usage/security#validating-requests, https://www.twilio.com/docs/voice/twiml/stream.
 */
import express, { Router } from 'express';
import { APOLOGY, BUSY } from '../../spoken';
import type { CarrierDeps } from '../types';
import { webhookSignatureOk, webhookUrl } from './signature';
import { connectStreamTwiml, sayAndHangupTwiml } from './twiml';

/** True when the request names no carrier, or Twilio. */
export const isTwilioRequest = (query: unknown) => {
  const c = (query as Record<string, unknown> | undefined)?.carrier;
  return c === undefined || c === 'twilio';
};

/** Twilio's form-encoded webhook body, after the signature check; undefined when it answered 403. */
export function signedTwilioForm(deps: Pick<CarrierDeps, 'cfg' | 'log'>, req: express.Request, res: express.Response): Record<string, string> | undefined {
  const { cfg, log } = deps;
  const body = (req.body ?? {}) as Record<string, string>;
  if (cfg.TWILIO_SKIP_SIGNATURE) return body;
  const url = webhookUrl(cfg.PUBLIC_URL, req.originalUrl);
  if (webhookSignatureOk(cfg.TWILIO_AUTH_TOKEN!, req.header('x-twilio-signature'), url, body)) return body;
  log.warn({ path: req.path, url }, 'bad X-Twilio-Signature: 403');
  res.status(403).type('text/plain').send('Twilio Request Validation Failed.');
  return undefined;
}

/** The voice webhook routes. Placed calls find their operator options by the `rid` query of `/outbound`. */
export function twilioWebhookRouter(deps: CarrierDeps): Router {
  const { cfg, log } = deps;
  const r = Router();
  if (cfg.TWILIO_SKIP_SIGNATURE) {
    log.warn('TWILIO_SKIP_SIGNATURE=true: Twilio webhook and media-stream signatures are NOT checked. Use only behind a local tunnel, never in production.');
  }
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  for (const path of ['/inbound', '/outbound'] as const) {
    r.post(path, form, async (req, res, next) => {
      if (!isTwilioRequest(req.query)) return next();
      const body = signedTwilioForm(deps, req, res);
      if (!body) return;
      const callSid = body.CallSid;
      if (!callSid) {
        deps.metrics.badMessagesTotal.inc({ source: 'twilio_webhook', reason: 'missing_call_sid' });
        log.warn({ path }, 'Twilio voice webhook without CallSid: 400');
        res.status(400).type('text/plain').send('CallSid is required');
        return;
      }
      const direction = path === '/outbound' ? 'outbound' : 'inbound';
      const q = req.query as Record<string, string | undefined>;
      const placed =
        direction === 'outbound' && q.rid
          ? await deps.placedCall(q.rid).catch((err: Error) => void log.warn({ callSid, err: err.message }, 'outbound call options unavailable'))
          : undefined;
      if (q.provider !== undefined && cfg.TWILIO_SKIP_SIGNATURE)
        log.warn({ callSid }, '?provider= ignored: the request is unsigned (TWILIO_SKIP_SIGNATURE=true)');
      const admission = await deps.admit({
        callSid,
        carrier: 'twilio',
        direction,
        from: body.From,
        to: body.To,
        requestedProvider: placed?.provider,
        urlProvider: cfg.TWILIO_SKIP_SIGNATURE ? undefined : q.provider,
        prompt: placed?.prompt,
        firstMessage: placed?.firstMessage,
      });
      res.type('text/xml');
      if (!admission.ok) {
        log.warn({ callSid, reason: admission.reason }, 'call refused');
        res.send(sayAndHangupTwiml(admission.reason === 'budget' ? APOLOGY : BUSY));
        return;
      }
      const caller = direction === 'inbound' ? body.From : body.To;
      res.send(connectStreamTwiml({ publicUrl: cfg.PUBLIC_URL, token: admission.token, direction, caller, from: body.From, to: body.To }));
    });
  }
  return r;
}

/**
 * Twilio voice webhooks: `POST /inbound` (number's Voice URL) and `POST /outbound` (the `Url` of
 * calls.create). Signature checked against PUBLIC_URL (403 on failure), then TwiML
 * `<Connect><Stream>` with the per-call token. Source: spec/twilio.md §1–2.
 */
import express, { Router } from 'express';
import { webhookSignatureOk, webhookUrl } from '../carriers/twilio/signature';
import { connectStreamTwiml, sayAndHangupTwiml } from '../carriers/twilio/twiml';
import { APOLOGY } from '../call/session';
import type { OutboundOptionsStore } from '../cluster/types';
import { admitCall, type AdmissionDeps } from './call-admission';

const BUSY = 'Sorry, all our lines are busy right now. Please call again in a few minutes. Goodbye.';

/** @param deps.outbound options of calls placed by `POST /api/calls`, found by the `rid` query of `/outbound`. */
export function twilioWebhookRouter(deps: AdmissionDeps & { outbound?: OutboundOptionsStore }): Router {
  const { cfg, log } = deps;
  const r = Router();
  if (cfg.TWILIO_SKIP_SIGNATURE) {
    log.warn('TWILIO_SKIP_SIGNATURE=true: Twilio webhook and media-stream signatures are NOT checked. Use only behind a local tunnel, never in production.');
  }
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  for (const path of ['/inbound', '/outbound'] as const) {
    r.post(path, form, async (req, res) => {
      const body = (req.body ?? {}) as Record<string, string>;
      if (!cfg.TWILIO_SKIP_SIGNATURE) {
        const url = webhookUrl(cfg.PUBLIC_URL, req.originalUrl);
        if (!webhookSignatureOk(cfg.TWILIO_AUTH_TOKEN!, req.header('x-twilio-signature'), url, body)) {
          log.warn({ path, url }, 'bad X-Twilio-Signature: 403');
          res.status(403).type('text/plain').send('Twilio Request Validation Failed.');
          return;
        }
      }
      const callSid = body.CallSid;
      if (!callSid) {
        res.status(400).type('text/plain').send('CallSid is required');
        return;
      }
      const direction = path === '/outbound' ? 'outbound' : 'inbound';
      const q = req.query as Record<string, string | undefined>;
      const placed =
        direction === 'outbound' && q.rid
          ? await deps.outbound?.take(q.rid).catch((err: Error) => void log.warn({ callSid, err: err.message }, 'outbound call options unavailable'))
          : undefined;
      const admission = admitCall(deps, {
        callSid,
        carrier: 'twilio',
        direction,
        from: body.From,
        to: body.To,
        requestedProvider: placed?.provider ?? (q.provider === 'openai' || q.provider === 'elevenlabs' ? q.provider : undefined),
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

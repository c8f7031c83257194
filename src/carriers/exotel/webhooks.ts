/**
 * Exotel HTTP endpoints (docs/protocols/exotel.md#call-set-up, #status-callback, #transfer-and-hang-up):
 * - `GET|POST /inbound?carrier=exotel`, `/outbound?carrier=exotel`: the Voicebot applet's dynamic-URL
 *   request → 200 `{"url":"wss://PUBLIC/media-stream?carrier=exotel&token=…&sample-rate=…"}`; the call is
 *   admitted (provider set-up starts now) and the token bound to its `CallSid`. Refused calls → 503.
 * - `GET /webhooks/exotel/connect?CallSid=…`: the Connect applet after the Voicebot applet → the pending
 *   transfer's destination (`numbers: [to]`) or `numbers: []` (the flow takes its no-answer branch).
 * - `POST /webhooks/exotel/status`: StatusCallback (JSON, form or query) → the carrier status book,
 *   idempotently; 200.
 * Exotel signs none of these: with EXOTEL_WEBHOOK_TOKEN set, every one of them requires `token=<EXOTEL_WEBHOOK_TOKEN>`
 * in the query (written into the applet URLs; callbridge adds it to the StatusCallback of calls it places),
 * compared in constant time: missing → 401, wrong → 403, before anything is admitted or any provider set-up starts.
 * A `?provider=` on the dynamic URL pins the call's provider only when that token is configured (and so
 * checked), and never over the kill switch (src/flags/precedence.ts).
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type Request } from 'express';
import type { CarrierDeps } from '../types';
import { secretEquals } from './auth';
import type { ExotelLiveCalls } from './live-calls';
import { exotelStreamUrl } from './stream-url';
import type { ExotelRate } from './wire';

export interface ExotelWebhookDeps extends CarrierDeps {
  live: ExotelLiveCalls;
}

/** Query, then form or JSON body: Exotel's request encodings are partly unverified (docs/protocols/exotel.md#call-set-up, #status-callback). */
function paramsOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (src: unknown) => {
    if (!src || typeof src !== 'object') return;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
      else if (Array.isArray(v) && typeof v[0] === 'string') out[k] = v[0];
    }
  };
  add(req.query);
  add(req.body);
  return out;
}

/** Exotel's `Direction` of an applet request → ours; the path decides when it is absent. */
function directionOf(path: string): 'inbound' | 'outbound' {
  return path === '/outbound' ? 'outbound' : 'inbound';
}

/**
 * The Connect applet's dynamic-URL answer (shape of Exotel's sample `handle_programmable_connect`:
 * https://github.com/exotel/Agent-Stream/blob/main/integrations/elevenlabs/exotel/bridge.py).
 */
export function connectAnswer(to: string | undefined, callerId: string | undefined): Record<string, unknown> {
  return {
    fetch_after_attempt: false,
    destination: { numbers: to ? [to] : [] },
    ...(callerId ? { outgoing_phone_number: callerId } : {}),
    record: false,
    max_ringing_duration: 45,
    max_conversation_duration: 3600,
    music_on_hold: { type: 'operator_tone' },
    parallel_ringing: { activate: false, max_parallel_attempts: 1 },
  };
}

/**
 * The EXOTEL_WEBHOOK_TOKEN check of one request: undefined when it passes (or no token is configured),
 * else the answer: 401 without `?token=`, 403 with a wrong one (constant-time compare).
 */
export function webhookTokenRefusal(expected: string | undefined, query: unknown): { status: 401 | 403; error: string } | undefined {
  if (!expected) return undefined;
  const raw = (query as Record<string, unknown> | undefined)?.token;
  const got = typeof raw === 'string' ? raw : Array.isArray(raw) && typeof raw[0] === 'string' ? raw[0] : undefined;
  if (got === undefined || got === '') return { status: 401, error: 'token required' };
  return secretEquals(got, expected) ? undefined : { status: 403, error: 'forbidden' };
}

export function exotelWebhookRouter(deps: ExotelWebhookDeps): Router {
  const { cfg, log, live } = deps;
  const r = Router();
  const bodies = [express.urlencoded({ extended: true, limit: '64kb' }), express.json({ limit: '64kb' })];
  /** The token check, before any body is read: answers 401/403, or passes on. */
  const authenticated: express.RequestHandler = (req, res, next) => {
    const refusal = webhookTokenRefusal(cfg.EXOTEL_WEBHOOK_TOKEN, req.query);
    if (!refusal) return next();
    log.warn({ path: req.path, status: refusal.status }, 'Exotel webhook without a valid EXOTEL_WEBHOOK_TOKEN: refused');
    res.status(refusal.status).json({ error: refusal.error });
  };
  /** `/inbound` and `/outbound` are shared with Twilio: only `?carrier=exotel` GET/POST requests are ours. */
  const exotelOnly: express.RequestHandler = (req, _res, next) =>
    req.query.carrier === 'exotel' && (req.method === 'GET' || req.method === 'POST') ? next() : next('route');

  for (const path of ['/inbound', '/outbound'] as const) {
    r.all(path, exotelOnly, authenticated, ...bodies, async (req, res) => {
      const p = paramsOf(req);
      const direction = directionOf(path);
      let callSid = p.CallSid ?? p.call_sid;
      const minted = !callSid;
      callSid ??= `cb-${randomBytes(16).toString('hex')}`;
      const placed = direction === 'outbound' && p.CustomField ? await deps.placedCall(p.CustomField).catch(() => undefined) : undefined;
      const caller = p.CallFrom ?? p.From;
      const exophone = p.CallTo ?? p.To;
      const rate: ExotelRate = cfg.EXOTEL_SAMPLE_RATE;
      const admission = await deps.admit({
        callSid,
        minted,
        carrier: 'exotel',
        direction,
        // Outbound: CallFrom is the dialled customer, CallTo our ExoPhone (https://support.exotel.com/support/solutions/articles/3000096873).
        from: direction === 'inbound' ? caller : exophone,
        to: direction === 'inbound' ? exophone : caller,
        carrierFormat: { encoding: 'pcm16le', sampleRate: rate },
        requestedProvider: placed?.provider,
        urlProvider: cfg.EXOTEL_WEBHOOK_TOKEN ? p.provider : undefined,
        prompt: placed?.prompt,
        firstMessage: placed?.firstMessage,
      });
      if (!admission.ok) {
        log.warn({ callSid, carrier: 'exotel', reason: admission.reason }, 'call refused');
        res.status(503).json({ error: admission.reason });
        return;
      }
      if (minted) log.warn({ callSid }, 'Exotel dynamic-URL request without CallSid: token issued for a minted id');
      res.status(200).json({ url: exotelStreamUrl(cfg, admission.token, rate) });
    });
  }

  r.get('/webhooks/exotel/connect', authenticated, async (req, res) => {
    const p = paramsOf(req);
    const callSid = p.CallSid ?? p.call_sid;
    const to = callSid ? await live.transferFor(callSid).catch(() => undefined) : undefined;
    log.info({ callSid, transfer: to !== undefined }, 'exotel connect applet asked for a destination');
    res.status(200).json(connectAnswer(to, cfg.EXOTEL_CALLER_ID));
  });

  r.all('/webhooks/exotel/status', authenticated, ...bodies, (req, res) => {
    const p = paramsOf(req);
    const callSid = p.CallSid;
    const event = p.EventType ?? 'terminal';
    // `answered` carries no final Status; it means the call is now in progress (https://developer.exotel.com/docs/voice-v1/api-reference/status-callback).
    const status = event === 'answered' ? 'in-progress' : p.Status;
    if (!callSid || !status) {
      deps.metrics.badMessagesTotal.inc({ source: 'exotel_webhook', reason: 'missing_field' });
      log.warn({ callSid }, 'Exotel status callback without CallSid or Status: 400');
      res.status(400).json({ error: 'CallSid and Status are required' });
      return;
    }
    const duration = Number(p.ConversationDuration);
    const applied = deps.statuses.apply(callSid, {
      carrier: 'exotel',
      status,
      sequence: event === 'answered' ? 1 : 2,
      durationS: Number.isFinite(duration) && p.ConversationDuration !== undefined ? duration : undefined,
      direction: p.Direction,
      from: p.From,
      to: p.To,
    });
    log.info({ callSid, status, event, applied }, 'exotel status callback');
    res.status(200).json({ ok: true });
  });
  return r;
}

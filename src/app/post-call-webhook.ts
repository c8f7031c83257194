/**
 * `POST /webhooks/elevenlabs/post-call` (docs/protocols/elevenlabs.md#post-call-webhook): checks the
 * `ElevenLabs-Signature` header over the raw body, then stores the event with its call.
 *
 * Header: `t=<unix seconds>,v0=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; events older than
 * 30 minutes are refused, as the official SDK does (`@elevenlabs/elevenlabs-js` 2.73.0
 * `wrapper/webhooks.js` `constructEvent`; https://elevenlabs.io/docs/eleven-api/resources/webhooks).
 * Unlike the SDK, the comparison is constant-time, any of several `v0` values may match, and a `t`
 * more than 30 minutes in the future is refused too (the SDK checks only the past).
 * A delivery whose signature was already accepted (a replay: same `t`, same body) is answered 200
 * `{ok: true, duplicate: true}` and not stored again; the replay cache holds each accepted signature
 * for the tolerance window (older ones are refused as stale anyway), at most REPLAY_CACHE_MAX entries.
 * Answers: 200 stored (also for a repeat), 401 missing/forged/stale/future signature or no secret
 * configured, 400 signed but not a post-call event (or nested deeper than MAX_JSON_DEPTH), 413 body over POST_CALL_MAX_BYTES.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Store } from '../store/types';

export const POST_CALL_PATH = '/webhooks/elevenlabs/post-call';
/** Oldest accepted signature timestamp (s), as `constructEvent` in the official SDK. */
export const SIGNATURE_TOLERANCE_S = 30 * 60;
/** Largest accepted body (bytes): `post_call_audio` carries the call's MP3 in base64. */
export const POST_CALL_MAX_BYTES = 50 * 1024 * 1024;
/** Accepted signatures remembered for replay detection. */
export const REPLAY_CACHE_MAX = 10_000;

export type SignatureCheck =
  { ok: true; timestamp: number; signature: string } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'future' | 'mismatch' };

/**
 * Check an `ElevenLabs-Signature` header against the raw request body.
 * @param nowMs current time (epoch ms); the header's `t` must be within `toleranceS` of it, either way.
 * @returns on success the `t` (unix s) and the matching `v0` (lower-case hex), the replay key.
 */
export function checkElevenLabsSignature(
  secret: string,
  header: string | undefined,
  rawBody: Buffer,
  nowMs = Date.now(),
  toleranceS = SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = header.split(',').map((p) => p.trim());
  const t = parts.find((p) => p.startsWith('t='))?.slice(2);
  const sigs = parts.filter((p) => p.startsWith('v0=')).map((p) => p.slice(3));
  if (!t || !/^\d+$/.test(t) || !sigs.length) return { ok: false, reason: 'malformed' };
  if (Number(t) * 1000 < nowMs - toleranceS * 1000) return { ok: false, reason: 'stale' };
  if (Number(t) * 1000 > nowMs + toleranceS * 1000) return { ok: false, reason: 'future' };
  const want = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  const match = sigs.some((s) => {
    const got = /^[0-9a-f]{64}$/i.test(s) ? Buffer.from(s, 'hex') : Buffer.alloc(0);
    return got.length === want.length && timingSafeEqual(got, want);
  });
  return match ? { ok: true, timestamp: Number(t), signature: want.toString('hex') } : { ok: false, reason: 'mismatch' };
}

/**
 * Signatures already accepted (stored), each until its `t` leaves the tolerance window; bounded
 * (the oldest entry goes first when full).
 */
class ReplayCache {
  private readonly until = new Map<string, number>();

  constructor(private readonly max = REPLAY_CACHE_MAX) {}

  /** True when `signature` was accepted before and has not yet left the window. */
  has(signature: string, nowMs: number): boolean {
    return (this.until.get(signature) ?? 0) > nowMs;
  }

  /** Remember `signature` until `expiresMs` (epoch ms), dropping expired entries and, when full, the oldest. */
  add(signature: string, expiresMs: number, nowMs: number): void {
    for (const [k, e] of this.until) {
      if (e > nowMs && this.until.size < this.max) break;
      this.until.delete(k);
    }
    this.until.set(signature, expiresMs);
  }
}

/** The fields callbridge reads; the rest of the payload is stored as sent (https://elevenlabs.io/docs/eleven-agents/workflows/post-call-webhooks). */
const PostCallEvent = z.object({
  type: z.string().min(1),
  event_timestamp: z.number().int().nonnegative(),
  data: z.looseObject({
    conversation_id: z.string().min(1),
    conversation_initiation_client_data: z.looseObject({ dynamic_variables: z.record(z.string(), z.unknown()).optional() }).nullish(),
  }),
});

export interface PostCallDeps {
  /** ELEVENLABS_WEBHOOK_SECRET; without it every request is refused. */
  secret?: string;
  store: Pick<Store, 'savePostCallEvent'>;
  log: Logger;
  /** Refused bodies are counted in `callbridge_bad_messages_total{source="post_call"}`. */
  metrics?: Pick<Metrics, 'badMessagesTotal'>;
  now?: () => number;
}

/**
 * Deepest array/object nesting a post-call body may have (ElevenLabs' events are about ten levels deep).
 * A signed body 12,000 levels deep passed JSON.parse and then overflowed the stack where it was
 * serialised for the store: a 500 instead of a 400.
 */
export const MAX_JSON_DEPTH = 100;

/** True when a parsed JSON value nests arrays/objects more than `max` levels; iterative, so the check itself cannot overflow. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Router for the post-call webhook; mount before any JSON body parser (it needs the raw bytes). */
export function postCallWebhookRouter(d: PostCallDeps): Router {
  const router = express.Router();
  const replays = new ReplayCache();
  let warned = false;
  router.post(POST_CALL_PATH, express.raw({ type: () => true, limit: POST_CALL_MAX_BYTES }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!d.secret) {
      if (!warned) d.log.warn('post-call webhook refused: ELEVENLABS_WEBHOOK_SECRET is not set');
      warned = true;
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const nowMs = (d.now ?? Date.now)();
    const check = checkElevenLabsSignature(d.secret, req.get('elevenlabs-signature'), raw, nowMs);
    if (!check.ok) {
      d.log.warn({ reason: check.reason }, 'post-call webhook: bad signature');
      res.status(401).json({ error: 'unauthorized', reason: check.reason });
      return;
    }
    if (replays.has(check.signature, nowMs)) {
      d.log.info('post-call webhook: replayed signature, already accepted');
      res.status(200).json({ ok: true, duplicate: true });
      return;
    }
    /** A signed body that is not a post-call event: one warning, one count, 400. */
    const refuse = (reason: 'not_json' | 'too_deep' | 'bad_shape', message: string) => {
      d.metrics?.badMessagesTotal.inc({ source: 'post_call', reason });
      d.log.warn({ reason, bytes: raw.length, message: message.slice(0, 300) }, 'post-call webhook: body refused');
      res.status(400).json({ error: 'bad_request', message });
    };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse('not_json', 'body is not JSON');
    }
    if (nestedDeeperThan(body, MAX_JSON_DEPTH)) return refuse('too_deep', `body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    const ev = PostCallEvent.safeParse(body);
    if (!ev.success) return refuse('bad_shape', ev.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const data = { ...ev.data.data };
    if (ev.data.type === 'post_call_audio') delete data.full_audio; // base64 MP3: megabytes, not kept in the table
    const callSid = ev.data.data.conversation_initiation_client_data?.dynamic_variables?.call_sid;
    await d.store.savePostCallEvent({
      conversation_id: ev.data.data.conversation_id,
      call_sid: typeof callSid === 'string' && callSid ? callSid : null,
      type: ev.data.type,
      event_timestamp: ev.data.event_timestamp,
      payload: { ...(body as Record<string, unknown>), data },
    });
    replays.add(check.signature, (check.timestamp + SIGNATURE_TOLERANCE_S) * 1000, nowMs);
    d.log.info({ conversationId: ev.data.data.conversation_id, type: ev.data.type }, 'post-call event stored');
    res.status(200).json({ ok: true });
  });
  return router;
}

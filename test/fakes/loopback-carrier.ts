/**
 * A tiny carrier that exists only in tests, registered through the same registry entry shape as
 * Twilio and Exotel (CarrierModule), to prove that a carrier is one module and one registry line.
 *
 * Wire (JSON text frames on `WS /media-stream?carrier=loopback`), PCM16 LE mono at 16 kHz:
 * - client → server: `{"kind":"hello","call":"<id>","token":"<token>","from":"+1…"}`, `{"kind":"voice","pcm":"<base64>"}`,
 *   `{"kind":"heard","name":"<marker>"}` (playback reached a marker), `{"kind":"bye"}`;
 * - server → client: `{"kind":"play","pcm":"<base64>"}`, `{"kind":"marker","name":"…"}`, `{"kind":"flush"}` (barge-in).
 * Webhook: `POST /inbound?carrier=loopback` with JSON `{call, from, to, provider?}` → 200 `{token}`, or 503 `{error}`.
 */
import express, { Router } from 'express';
import type { CarrierCodec, CarrierCommand, CarrierModule, ParseResult } from '../../src/carriers/types';

const FORMAT = { encoding: 'pcm16le', sampleRate: 16000 } as const;

const codec: CarrierCodec = {
  name: 'loopback',
  parse(raw, isBinary): ParseResult {
    if (isBinary) return { ok: false, reason: 'binary' };
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(raw.toString()) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'not_json' };
    }
    switch (msg.kind) {
      case 'hello':
        if (typeof msg.call !== 'string') return { ok: false, reason: 'bad_shape' };
        return {
          ok: true,
          event: {
            type: 'start',
            callSid: msg.call,
            streamSid: `lb-${msg.call}`,
            from: typeof msg.from === 'string' ? msg.from : undefined,
            direction: 'inbound',
            params: { token: String(msg.token ?? '') },
            format: FORMAT,
          },
        };
      case 'voice':
        return typeof msg.pcm === 'string'
          ? { ok: true, event: { type: 'audio', payload: Buffer.from(msg.pcm, 'base64') } }
          : { ok: false, reason: 'bad_shape' };
      case 'heard':
        return typeof msg.name === 'string' ? { ok: true, event: { type: 'mark', name: msg.name } } : { ok: false, reason: 'bad_shape' };
      case 'bye':
        return { ok: true, event: { type: 'stop', reason: 'bye' } };
      default:
        return { ok: false, reason: 'unknown_event' };
    }
  },
  serialize(cmd: CarrierCommand): string {
    if (cmd.type === 'audio') return JSON.stringify({ kind: 'play', pcm: cmd.payload.toString('base64') });
    if (cmd.type === 'mark') return JSON.stringify({ kind: 'marker', name: cmd.name });
    return JSON.stringify({ kind: 'flush' });
  },
};

/** The registry entry. Hang-up closes the stream; this carrier cannot transfer or place calls. */
export const loopbackCarrier: CarrierModule = {
  name: 'loopback',
  create(deps) {
    const live = new Map<string, (code: number, reason: string) => void>();
    const unsupported = async (): Promise<never> => {
      throw new Error('the loopback carrier cannot do that');
    };
    const routes = Router().post('/inbound', express.json(), async (req, res, next) => {
      if (req.query.carrier !== 'loopback') return next();
      const b = req.body as { call: string; from?: string; to?: string; provider?: string };
      const a = await deps.admit({
        callSid: b.call,
        carrier: 'loopback',
        direction: 'inbound',
        from: b.from,
        to: b.to,
        carrierFormat: FORMAT,
        requestedProvider: b.provider,
      });
      if (a.ok) res.json({ token: a.token, provider: a.provider });
      else res.status(503).json({ error: a.reason });
    });
    return {
      name: 'loopback',
      stream: {
        name: 'loopback',
        checkUpgrade: () => undefined,
        codec: () => codec,
        claim: (start) => deps.claim(start.callSid, start.params.token, start.format),
        attached(callSid, close) {
          live.set(callSid, close);
          return () => live.delete(callSid);
        },
      },
      control: {
        async hangup(callSid) {
          const close = live.get(callSid);
          close?.(1000, 'hangup');
          return close !== undefined;
        },
        transfer: unsupported,
        sayAndHangup: async (callSid) => void live.get(callSid)?.(1000, 'goodbye'),
        placeCall: unsupported,
      },
      routes,
      answerUrl: (rid) => `${deps.cfg.PUBLIC_URL}/outbound?carrier=loopback&rid=${rid}`,
      statusCallbackUrl: () => `${deps.cfg.PUBLIC_URL}/webhooks/loopback/status`,
    };
  },
};

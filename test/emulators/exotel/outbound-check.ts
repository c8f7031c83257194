/**
 * Checks one callbridge → Exotel WebSocket frame the way the emulator models Exotel
 * (docs/protocols/exotel.md#stream-messages, #audio-and-chunking; https://developer.exotel.com/docs/agentstream/stream-voicebot-applet):
 * only JSON text frames `media`, `mark`, `clear`;
 * `stream_sid` optional but, when present, the active one; media payloads canonical base64 PCM16 whose
 * length is a multiple of 320 bytes and at most 100 000 bytes. Chunks under 3 200 bytes are flagged,
 * not refused (Exotel's own samples send 1 600-byte frames that work).
 */
import { isCanonicalBase64 } from '../twilio/outbound-check';

export type ExotelOutboundMessage =
  | { event: 'media'; stream_sid?: string; streamSid?: string; media: { payload: string } }
  | { event: 'mark'; stream_sid?: string; streamSid?: string; mark: { name: string } }
  | { event: 'clear'; stream_sid?: string; streamSid?: string };

/** A protocol problem in what the server sent: `error` dropped it, `note` only flags it. */
export interface ExotelViolation {
  severity: 'error' | 'note';
  reason: string;
  /** Wall ms since `start` was sent. */
  atMs: number;
  raw: string;
}

export type ExotelCheck = { ok: true; msg: ExotelOutboundMessage; notes: string[]; payloadBytes?: number } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validate one frame; `streamSid` is the active stream id (undefined before `start`). */
export function checkExotelFrame(data: string, isBinary: boolean, streamSid: string | undefined): ExotelCheck {
  if (isBinary) return { ok: false, reason: 'binary frame (JSON text frames only)' };
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(v)) return { ok: false, reason: 'not a JSON object' };
  if (v.event !== 'media' && v.event !== 'mark' && v.event !== 'clear') return { ok: false, reason: `unknown event ${JSON.stringify(v.event)}` };
  const notes: string[] = [];
  const sid = v.stream_sid ?? v.streamSid;
  if ('streamSid' in v) notes.push('camelCase streamSid instead of stream_sid');
  if (sid !== undefined && sid !== streamSid) return { ok: false, reason: `stream_sid ${String(sid)} is not the active stream` };
  if (v.event === 'clear') return { ok: true, msg: v as ExotelOutboundMessage, notes };
  if (v.event === 'mark') {
    if (!isObject(v.mark) || typeof v.mark.name !== 'string') return { ok: false, reason: 'mark without mark.name' };
    return { ok: true, msg: v as ExotelOutboundMessage, notes };
  }
  if (!isObject(v.media) || typeof v.media.payload !== 'string') return { ok: false, reason: 'media without media.payload' };
  const payload = v.media.payload;
  if (!isCanonicalBase64(payload)) return { ok: false, reason: 'media.payload is not canonical base64' };
  const n = Buffer.byteLength(payload, 'base64');
  if (n % 320 !== 0) return { ok: false, reason: `media chunk of ${n} bytes is not a multiple of 320 (gaps)` };
  if (n > 100_000) return { ok: false, reason: `media chunk of ${n} bytes exceeds 100 KB (timeouts)` };
  if (n < 3200) notes.push(`media chunk of ${n} bytes is under 3.2 KB`);
  return { ok: true, msg: v as ExotelOutboundMessage, notes, payloadBytes: n };
}

/**
 * Exotel Voicebot stream codec: wire JSON ⇄ CarrierEvent / CarrierCommand. Pure: no sockets, no timers.
 *
 * In: `connected`, `start`, `media`, `dtmf`, `mark`, `stop` (and `closed`, treated like `stop`), in any
 * of the spellings of docs/protocols/exotel.md#spellings. Out: `media`, `mark`, `clear` with snake_case `stream_sid`
 * (docs/protocols/exotel.md#stream-messages). Audio is PCM16 little-endian mono at the stream's `sample_rate` (docs/protocols/exotel.md#audio-and-chunking).
 * Sources: https://developer.exotel.com/docs/agentstream/websocket-protocol,
 * https://developer.exotel.com/docs/agentstream/stream-voicebot-applet.
 */
import type { AudioFormat } from '../../audio/format';
import { jsonString, parseJsonFrame } from '../json-frame';
import type { CarrierCodec, CarrierCommand, CarrierEvent, OutboundChunking, ParseResult } from '../types';
import {
  child,
  EXOTEL_CHUNK_ALIGN_BYTES,
  EXOTEL_MAX_CHUNK_BYTES,
  EXOTEL_MIN_CHUNK_BYTES,
  field,
  isObject,
  parseRate,
  text,
  type ExotelRate,
  type WireObject,
} from './wire';

/**
 * Exotel's outbound media rules as data: payloads in multiples of 320 bytes, at least 3.2 KB, at most 100 KB, sent at
 * about real time (an unpaced burst is reported to end the call; Exotel's samples keep ~0.9 chunk ahead, we allow 300 ms)
 * (https://developer.exotel.com/docs/agentstream/stream-voicebot-applet; docs/protocols/exotel.md#audio-and-chunking);
 * `clear` lets the chunk playing finish (docs/protocols/exotel.md#marks-clear-and-stop).
 */
export const EXOTEL_CHUNKING: OutboundChunking = {
  alignBytes: EXOTEL_CHUNK_ALIGN_BYTES,
  minBytes: EXOTEL_MIN_CHUNK_BYTES,
  maxBytes: EXOTEL_MAX_CHUNK_BYTES,
  leadMs: 300,
  clearFinishesChunk: true,
};

const bad = (reason: Extract<ParseResult, { ok: false }>['reason']): ParseResult => ({ ok: false, reason });
const ok = (event: CarrierEvent): ParseResult => ({ ok: true, event });

/** `media_format.encoding` values that all mean PCM16LE (Exotel's pages disagree: docs/protocols/exotel.md#stream-messages). */
const PCM_ENCODINGS = new Set(['audio/x-raw', 'raw', 'linear16', 'slin', 'audio/l16', 'pcm', 'pcm16', 's16le']);

/** Custom parameters as strings (numbers accepted), any casing of the key `custom_parameters`. */
function paramsOf(start: WireObject | undefined): Record<string, string> {
  const raw = child(start, 'custom_parameters');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  return out;
}

/**
 * `start` → CarrierEvent. The call SID is required (the per-call token is bound to it); a missing
 * stream id, an unsupported rate or a non-PCM encoding label become `warnings`, never a refusal.
 */
function parseStart(msg: WireObject, fallbackRate: ExotelRate): ParseResult {
  const start = child(msg, 'start');
  const callSid = text(start, 'call_sid') ?? text(msg, 'call_sid');
  if (!start || !callSid) return bad('bad_shape');
  const warnings: string[] = [];
  const streamSid = text(start, 'stream_sid') ?? text(msg, 'stream_sid') ?? '';
  if (!streamSid) warnings.push('start has no stream_sid: outbound messages are sent without one');
  const mf = child(start, 'media_format');
  const rateText = text(mf, 'sample_rate');
  let rate = parseRate(rateText);
  if (!rate) {
    warnings.push(
      `start.media_format.sample_rate ${JSON.stringify(rateText ?? null)} is not 8000, 16000 or 24000 Hz: using ${fallbackRate} Hz from the stream URL`,
    );
    rate = fallbackRate;
  } else if (rate !== fallbackRate) {
    warnings.push(`start.media_format.sample_rate ${rate} Hz differs from the stream URL's sample-rate ${fallbackRate} Hz: using ${rate} Hz`);
  }
  const encoding = text(mf, 'encoding');
  if (encoding !== undefined && !PCM_ENCODINGS.has(encoding.toLowerCase())) {
    // Exotel's pages disagree on the default encoding (docs/protocols/exotel.md#audio-and-chunking): Voicebot audio is PCM16LE
    // whatever the label says; log what arrived.
    warnings.push(`start.media_format.encoding ${JSON.stringify(encoding)} is not a PCM label: treating the audio as PCM16LE`);
  }
  const params = paramsOf(start);
  const format: AudioFormat = { encoding: 'pcm16le', sampleRate: rate };
  return ok({
    type: 'start',
    callSid,
    streamSid,
    accountSid: text(start, 'account_sid'),
    from: text(start, 'from'),
    to: text(start, 'to'),
    direction: params.direction === 'outbound' ? 'outbound' : 'inbound',
    params,
    format,
    ...(warnings.length ? { warnings } : {}),
    chunking: EXOTEL_CHUNKING,
  });
}

/** Non-media messages (rare). */
function parseControl(event: string, msg: WireObject, fallbackRate: ExotelRate): ParseResult {
  switch (event) {
    case 'connected':
      return ok({ type: 'connected' });
    case 'start':
      return parseStart(msg, fallbackRate);
    case 'mark': {
      const name = text(child(msg, 'mark'), 'name');
      return name ? ok({ type: 'mark', name }) : bad('bad_shape');
    }
    case 'dtmf': {
      const digit = text(child(msg, 'dtmf'), 'digit');
      return digit ? ok({ type: 'dtmf', digit }) : bad('bad_shape');
    }
    case 'stop':
    case 'closed': // Exotel's sample code handles an inbound `closed` like `stop` (docs/protocols/exotel.md#spellings)
      return ok({ type: 'stop', reason: text(child(msg, 'stop'), 'reason') ?? event });
    default:
      return bad('unknown_event');
  }
}

/** `media` → audio; hot path, narrowed by hand (no schema validation per frame). Odd-length PCM is dropped to keep sample alignment. */
function parseMedia(msg: WireObject): ParseResult {
  const media = field(msg, 'media');
  if (!isObject(media)) return bad('bad_shape');
  const p = field(media, 'payload');
  if (typeof p !== 'string') return bad('bad_shape');
  const payload = Buffer.from(p, 'base64');
  if (payload.length % 2 !== 0) return bad('odd_length');
  // Only a string or number is read: Number() of a JSON object or array can throw (`{"toString":""}` has no callable conversion).
  const t = field(media, 'timestamp');
  const ts = typeof t === 'string' || typeof t === 'number' ? Number(t) : NaN;
  return ok({ type: 'audio', payload, timestampMs: Number.isFinite(ts) ? ts : undefined });
}

/**
 * The Exotel codec for one stream. `fallbackRate` is the `sample-rate` the stream URL asked for
 * (Hz); it is used when `start.media_format.sample_rate` is missing or unsupported.
 * `parse` never throws; `serialize` emits exactly the fields of https://developer.exotel.com/docs/agentstream/websocket-protocol, omitting `stream_sid`
 * only when `start` carried none (Exotel documents it as not required).
 */
export function createExotelCodec(fallbackRate: ExotelRate = 8000): CarrierCodec {
  return {
    name: 'exotel',
    parse(raw, isBinary) {
      const frame = parseJsonFrame(raw, isBinary);
      if (!frame.ok) return bad(frame.reason);
      const ev = field(frame.msg, 'event');
      if (typeof ev !== 'string') return bad('bad_shape');
      const event = ev.toLowerCase();
      return event === 'media' ? parseMedia(frame.msg) : parseControl(event, frame.msg, fallbackRate);
    },
    serialize(cmd: CarrierCommand, streamSid: string): string {
      // Templates, not JSON.stringify of an object per frame: the same fields and order (base64 needs no escaping).
      const sidField = streamSid ? `,"stream_sid":${jsonString(streamSid)}` : '';
      switch (cmd.type) {
        case 'audio':
          return `{"event":"media"${sidField},"media":{"payload":"${cmd.payload.toString('base64')}"}}`;
        case 'mark':
          return `{"event":"mark"${sidField},"mark":{"name":${jsonString(cmd.name)}}}`;
        case 'clear':
          return `{"event":"clear"${sidField}}`;
      }
    },
  };
}

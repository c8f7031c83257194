/**
 * Twilio Media Streams codec: wire JSON ⇄ CarrierEvent / CarrierCommand. Pure: no sockets, no timers.
 * Source: https://www.twilio.com/docs/voice/media-streams/websocket-messages (docs/protocols/twilio.md#stream-messages, #audio).
 */
import { MULAW_8K } from '../../audio/format';
import { jsonString, parseJsonFrame } from '../json-frame';
import type { CarrierCodec, CarrierCommand, CarrierEvent, ParseResult } from '../types';
import { TwilioConnected, TwilioDtmf, TwilioMark, TwilioStart, TwilioStop } from './wire';

const bad = (reason: Extract<ParseResult, { ok: false }>['reason']): ParseResult => ({ ok: false, reason });
const ok = (event: CarrierEvent): ParseResult => ({ ok: true, event });

function parseControl(msg: { event?: unknown }): ParseResult {
  switch (msg.event) {
    case 'connected':
      return TwilioConnected.safeParse(msg).success ? ok({ type: 'connected' }) : bad('bad_shape');
    case 'start': {
      const r = TwilioStart.safeParse(msg);
      if (!r.success) return bad('bad_shape');
      const s = r.data.start;
      // Twilio streams are always μ-law 8 kHz mono (https://www.twilio.com/docs/voice/media-streams/websocket-messages#start-message, mediaFormat).
      if (s.mediaFormat.encoding !== 'audio/x-mulaw' || s.mediaFormat.sampleRate !== 8000) return bad('bad_shape');
      const p = s.customParameters;
      return ok({
        type: 'start',
        callSid: s.callSid,
        streamSid: s.streamSid,
        accountSid: s.accountSid,
        direction: p.direction === 'outbound' ? 'outbound' : 'inbound',
        from: p.from,
        to: p.to,
        params: p,
        format: MULAW_8K,
      });
    }
    case 'mark': {
      const r = TwilioMark.safeParse(msg);
      return r.success ? ok({ type: 'mark', name: r.data.mark.name }) : bad('bad_shape');
    }
    case 'dtmf': {
      const r = TwilioDtmf.safeParse(msg);
      return r.success ? ok({ type: 'dtmf', digit: r.data.dtmf.digit }) : bad('bad_shape');
    }
    case 'stop': {
      const r = TwilioStop.safeParse(msg);
      return r.success ? ok({ type: 'stop' }) : bad('bad_shape');
    }
    default:
      return bad('unknown_event');
  }
}

/**
 * A caller `media` frame exactly as Twilio writes it (fields in Twilio's order, digits as strings, plain base64,
 * no escapes; https://www.twilio.com/docs/voice/media-streams/websocket-messages#media-message): read by one
 * anchored regex instead of JSON.parse, as the hot path's 50 frames a second per call. Anything else takes the
 * general path, which reads the same values from this shape.
 */
const CANONICAL_MEDIA =
  /^\{"event":"media","sequenceNumber":"\d{1,15}","media":\{"track":"[a-z_]{1,20}","chunk":"\d{1,15}","timestamp":"(\d{1,15})","payload":"([A-Za-z0-9+/]*={0,2})"\},"streamSid":"\w{1,64}"\}$/;

/**
 * The echo of one of our marks as Twilio writes it (https://www.twilio.com/docs/voice/media-streams/websocket-messages#mark-message:
 * `event`, `sequenceNumber`, `streamSid`, `mark.name`), a plain name as callbridge makes them: one every agent chunk, read
 * without JSON.parse and schema validation. Anything else (escapes, another order) takes the general path.
 */
const CANONICAL_MARK = /^\{"event":"mark","sequenceNumber":"\d{1,15}","streamSid":"\w{1,64}","mark":\{"name":"([\w.:-]{1,64})"\}\}$/;
const MARK_PREFIX = '{"event":"mark"';

/** The Twilio codec. `parse` never throws; `serialize` emits exactly the fields Twilio accepts (docs/protocols/twilio.md#stream-messages). */
export const twilioCodec: CarrierCodec = {
  name: 'twilio',

  parse(raw, isBinary) {
    if (!isBinary) {
      // latin1 keeps every byte one char: a frame with non-ASCII bytes cannot match and is decoded as UTF-8 below.
      const text = typeof raw === 'string' ? raw : raw.toString('latin1');
      const fast = CANONICAL_MEDIA.exec(text);
      if (fast) return ok({ type: 'audio', payload: Buffer.from(fast[2]!, 'base64'), timestampMs: Number(fast[1]) });
      const mark = text.startsWith(MARK_PREFIX) ? CANONICAL_MARK.exec(text) : null;
      if (mark) return ok({ type: 'mark', name: mark[1]! });
    }
    // Twilio sends JSON text frames only; a binary frame is a protocol fault (error 31950 on its side).
    const frame = parseJsonFrame(raw, isBinary);
    if (!frame.ok) return bad(frame.reason);
    const m = frame.msg as { event?: unknown; media?: { payload?: unknown; timestamp?: unknown } };
    if (m.event === 'media') {
      const p = m.media?.payload;
      if (typeof p !== 'string') return bad('bad_shape');
      // Only a string or number is read: Number() of a JSON object or array can throw (`{"toString":""}` has no callable conversion).
      const t = m.media?.timestamp;
      const ts = typeof t === 'string' || typeof t === 'number' ? Number(t) : NaN;
      return ok({ type: 'audio', payload: Buffer.from(p, 'base64'), timestampMs: Number.isFinite(ts) ? ts : undefined });
    }
    return parseControl(m);
  },

  /**
   * String templates instead of JSON.stringify of an object per frame: exactly the fields and order of TwilioOutbound
   * (base64 needs no escaping; SID and mark name are quoted by jsonString).
   */
  serialize(cmd: CarrierCommand, streamSid: string): string {
    const sid = jsonString(streamSid);
    switch (cmd.type) {
      case 'audio':
        return `{"event":"media","streamSid":${sid},"media":{"payload":"${cmd.payload.toString('base64')}"}}`;
      case 'mark':
        return `{"event":"mark","streamSid":${sid},"mark":{"name":${jsonString(cmd.name)}}}`;
      case 'clear':
        return `{"event":"clear","streamSid":${sid}}`;
    }
  },
};

/**
 * Checks one callbridge → Twilio WebSocket frame the way Twilio does (docs/protocols/twilio.md#stream-messages;
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages):
 * only JSON text frames with exactly the fields of `media`, `mark` or `clear` and the active `streamSid`.
 * Codes: 31950 binary frame (https://www.twilio.com/docs/api/errors/31950); 31951 anything else malformed
 * (https://www.twilio.com/docs/api/errors/31951). Invalid messages are dropped (unverified: Twilio does not say).
 */

/** A valid outbound message, exactly as Twilio accepts it. */
export type OutboundMessage =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

/** A protocol problem the emulator noticed in what the server sent. */
export interface Violation {
  /** 31950 binary frame, 31951 malformed message or flagged payload, 31931 buffer over 10 minutes. */
  code: 31950 | 31951 | 31931;
  reason: string;
  /** True when the message was discarded (false: flagged only, e.g. a RIFF header played as noise). */
  dropped: boolean;
  /** Ms since `start` was sent (wall clock). */
  atMs: number;
  /** The offending frame, truncated to 200 characters. */
  raw: string;
}

export type CheckResult = { ok: true; msg: OutboundMessage; flags: string[] } | { ok: false; code: 31950 | 31951; reason: string };

const CANONICAL_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALLOWED: Record<string, { top: string[]; inner?: [string, string[]] }> = {
  media: { top: ['event', 'streamSid', 'media'], inner: ['media', ['payload']] },
  mark: { top: ['event', 'streamSid', 'mark'], inner: ['mark', ['name']] },
  clear: { top: ['event', 'streamSid'] },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `s` is base64 in canonical form (standard alphabet, padded, no whitespace, round-trips). */
export function isCanonicalBase64(s: string): boolean {
  return CANONICAL_B64.test(s) && Buffer.from(s, 'base64').toString('base64') === s;
}

/** File headers that must never appear in a μ-law payload (raw audio only: docs/protocols/twilio.md#audio). */
export function fileHeaderOf(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 4).toString('latin1');
  if (head === 'RIFF') return 'RIFF';
  if (head.startsWith('ID3')) return 'ID3';
  return undefined;
}

/**
 * Validate one frame received from the server.
 * @param streamSid the active stream SID (`MZ…`); undefined before `start` was sent.
 * @returns the typed message plus non-fatal flags, or the Twilio debugger code and reason.
 */
export function checkOutboundFrame(data: string, isBinary: boolean, streamSid: string | undefined): CheckResult {
  if (isBinary) return { ok: false, code: 31950, reason: 'binary frame (Twilio accepts JSON text frames only)' };
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return { ok: false, code: 31951, reason: 'not JSON' };
  }
  if (!isObject(v)) return { ok: false, code: 31951, reason: 'not a JSON object' };
  const event = v.event;
  if (typeof event !== 'string' || !ALLOWED[event]) return { ok: false, code: 31951, reason: `unknown event ${JSON.stringify(event)}` };
  if ('stream_sid' in v) return { ok: false, code: 31951, reason: 'stream_sid (snake_case) instead of streamSid' };
  if (typeof v.streamSid !== 'string') return { ok: false, code: 31951, reason: 'missing streamSid' };
  if (v.streamSid !== streamSid) return { ok: false, code: 31951, reason: `streamSid ${v.streamSid} is not the active stream` };
  const rule = ALLOWED[event]!;
  const extra = Object.keys(v).filter((k) => !rule.top.includes(k));
  if (extra.length) return { ok: false, code: 31951, reason: `extra fields on ${event}: ${extra.join(', ')}` };
  const flags: string[] = [];
  if (rule.inner) {
    const [key, fields] = rule.inner;
    const inner = v[key];
    if (!isObject(inner)) return { ok: false, code: 31951, reason: `missing ${key} object` };
    const innerExtra = Object.keys(inner).filter((k) => !fields.includes(k));
    if (innerExtra.length) return { ok: false, code: 31951, reason: `extra fields in ${key}: ${innerExtra.join(', ')}` };
    const field = fields[0]!;
    if (typeof inner[field] !== 'string') return { ok: false, code: 31951, reason: `missing ${key}.${field}` };
    if (event === 'media') {
      const payload = inner.payload as string;
      if (!isCanonicalBase64(payload)) return { ok: false, code: 31951, reason: 'media.payload is not canonical base64' };
      const header = fileHeaderOf(Buffer.from(payload, 'base64'));
      if (header) flags.push(`media.payload starts with a ${header} file header (plays as noise)`);
    }
  }
  return { ok: true, msg: v as OutboundMessage, flags };
}

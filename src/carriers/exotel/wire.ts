/**
 * Exotel Voicebot ("AgentStream") stream wire, spelled as on the wire, plus the chunk-size rules.
 *
 * Sources (see docs/protocols/exotel.md#stream-messages, #audio-and-chunking):
 * - https://developer.exotel.com/docs/agentstream/websocket-protocol (events, values as strings)
 * - https://developer.exotel.com/docs/agentstream/stream-voicebot-applet (same keys, some values numbers;
 *   outbound chunk rules: multiples of 320 bytes, 3.2 KB minimum, 100 KB maximum)
 * Spellings seen in the wild (docs/protocols/exotel.md#spellings): `stream_sid`/`streamSid`, `call_sid`/`callSid`,
 * `custom_parameters`/`customParameters`, `media_format`/`mediaFormat`, `sequence_number`/
 * `sequenceNumber`, `Event`, `Payload`. Every lookup here tries snake_case, then camelCase, then
 * PascalCase, so no message is rejected for its casing.
 */

/** One JSON object from the wire (any casing). */
export type WireObject = Record<string, unknown>;

/** callbridge → Exotel: exactly these three messages, always `stream_sid` in snake_case (https://developer.exotel.com/docs/agentstream/websocket-protocol). */
export type ExotelOutbound =
  | { event: 'media'; stream_sid?: string; media: { payload: string } }
  | { event: 'mark'; stream_sid?: string; mark: { name: string } }
  | { event: 'clear'; stream_sid?: string };

/** Sample rates Exotel streams at (Hz), chosen with `sample-rate` on the stream URL (https://developer.exotel.com/docs/agentstream/stream-voicebot-applet). */
export const EXOTEL_RATES = [8000, 16000, 24000] as const;
export type ExotelRate = (typeof EXOTEL_RATES)[number];

/** Outbound media payloads must be a multiple of this many bytes (https://developer.exotel.com/docs/agentstream/stream-voicebot-applet). */
export const EXOTEL_CHUNK_ALIGN_BYTES = 320;
/**
 * Smallest outbound chunk Exotel asks for (bytes; 200 ms at 8 kHz, 100 ms at 16 kHz)
 * (https://developer.exotel.com/docs/agentstream/stream-voicebot-applet; docs/protocols/exotel.md#audio-and-chunking).
 */
export const EXOTEL_MIN_CHUNK_BYTES = 3200;
/** Largest 320-multiple under both readings of "100 KB" (100 000 and 102 400 bytes) (docs/protocols/exotel.md#audio-and-chunking). */
export const EXOTEL_MAX_CHUNK_BYTES = 99_840;

/** `snake_case` → `camelCase`. */
function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** `snake_case` → `PascalCase` (Exotel's samples read `Event`, `Payload`). */
function pascal(key: string): string {
  const c = camel(key);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of `key` (given in snake_case) in `obj`, trying snake_case, camelCase, PascalCase. */
export function field(obj: WireObject | undefined, key: string): unknown {
  if (!obj) return undefined;
  if (key in obj) return obj[key];
  const c = camel(key);
  if (c in obj) return obj[c];
  const p = pascal(key);
  return p in obj ? obj[p] : undefined;
}

/** A string or number field as a string (Exotel sends `"8000"` or `8000`); undefined otherwise. */
export function text(obj: WireObject | undefined, key: string): string | undefined {
  const v = field(obj, key);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A nested object field (any casing), or undefined. */
export function child(obj: WireObject | undefined, key: string): WireObject | undefined {
  const v = field(obj, key);
  return isObject(v) ? v : undefined;
}

/**
 * Parse a sample rate as Exotel writes it: `"8000"`, `8000`, `"16000Hz"`, `"16 kHz"` (docs/protocols/exotel.md#spellings;
 * suffixes seen in https://github.com/exotel/Agent-Stream/blob/main/integrations/elevenlabs/exotel/bridge.py). Returns undefined for anything that is
 * not 8000, 16000 or 24000 Hz.
 */
export function parseRate(v: string | undefined): ExotelRate | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:(k)?hz)?\s*$/i.exec(v);
  if (!m) return undefined;
  const hz = Number(m[1]) * (m[2] ? 1000 : 1);
  return (EXOTEL_RATES as readonly number[]).includes(hz) ? (hz as ExotelRate) : undefined;
}

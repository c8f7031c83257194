/**
 * OpenAI Realtime emulator, part 1 of 4: the GA session config (defaults, partial `session.update`
 * with validation) and the audio codecs the emulator speaks. Facts: docs/protocols/openai-realtime.md#session-configuration,
 * #audio-formats, #emulator; types from `openai` 6.49.0 `resources/realtime/realtime.d.ts`.
 */
import type { RealtimeAudioFormats, RealtimeError, RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { mulawToSamples, samplesToMulaw } from '../../src/audio/g711';

/** Server VAD as the session holds it (GA ServerVad with every field filled). */
export interface EmuTurnDetection {
  type: 'server_vad' | 'semantic_vad';
  threshold: number;
  prefix_padding_ms: number;
  silence_duration_ms: number;
  idle_timeout_ms: number | null;
  create_response: boolean;
  interrupt_response: boolean;
}

/**
 * The full effective session, as `session.created` / `session.updated` carry it
 * (https://platform.openai.com/docs/api-reference/realtime-server-events/session/updated).
 */
export interface EmuSession {
  type: 'realtime';
  object: 'realtime.session';
  id: string;
  model: string;
  output_modalities: Array<'text' | 'audio'>;
  instructions: string;
  expires_at: number;
  tools: unknown[];
  tool_choice: unknown;
  max_output_tokens: number | 'inf';
  tracing: null;
  truncation: 'auto';
  audio: {
    input: {
      format: RealtimeAudioFormats;
      transcription: { model?: string; language?: string; prompt?: string } | null;
      noise_reduction: { type?: string } | null;
      turn_detection: EmuTurnDetection | null;
    };
    output: { format: RealtimeAudioFormats; voice: string; speed: number };
  };
}

export const PCM24: RealtimeAudioFormats = { type: 'audio/pcm', rate: 24000 };

/** GA defaults (docs/protocols/openai-realtime.md#session-configuration): PCM 24 kHz both ways, server VAD 0.5/300/500, transcription off. */
export function defaultSession(id: string, model: string, capMs: number): EmuSession {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: '',
    expires_at: Math.floor((Date.now() + capMs) / 1000),
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    audio: {
      input: {
        format: { ...PCM24 },
        transcription: null,
        noise_reduction: null,
        turn_detection: {
          type: 'server_vad',
          threshold: 0.5,
          prefix_padding_ms: 300,
          silence_duration_ms: 500,
          idle_timeout_ms: null,
          create_response: true,
          interrupt_response: true,
        },
      },
      output: { format: { ...PCM24 }, voice: 'marin', speed: 1 },
    },
  };
}

/** Beta-only `session` fields a GA update must not carry (docs/protocols/openai-realtime.md#ga-and-beta). */
const BETA_FIELDS = [
  'input_audio_format',
  'output_audio_format',
  'turn_detection',
  'voice',
  'modalities',
  'input_audio_transcription',
  'input_audio_noise_reduction',
  'temperature',
  'max_response_output_tokens',
];
const FORMAT_TYPES = ['audio/pcm', 'audio/pcmu', 'audio/pcma'];

export type UpdateError = Pick<RealtimeError, 'type' | 'code' | 'message' | 'param'>;

const invalid = (code: string, param: string, message: string): UpdateError => ({ type: 'invalid_request_error', code, param, message });

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkFormat(f: unknown, param: string): UpdateError | null {
  if (!isObj(f) || typeof f.type !== 'string' || !FORMAT_TYPES.includes(f.type)) {
    return invalid(
      'invalid_value',
      `${param}.type`,
      `Invalid value: '${isObj(f) ? String(f.type) : String(f)}'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.`,
    );
  }
  if (f.type === 'audio/pcm' && f.rate !== undefined && f.rate !== 24000)
    return invalid('invalid_value', `${param}.rate`, 'Only a 24kHz sample rate is supported.');
  return null;
}

/**
 * Apply a partial GA `session.update` to `s` in place: only present fields change
 * (https://platform.openai.com/docs/api-reference/realtime-client-events/session/update). Returns
 * the error to send instead (session untouched) for a missing `session.type`, beta-only fields,
 * unknown formats, or a voice change after the first audio output (`voiceLocked`).
 */
export function applySessionUpdate(s: EmuSession, session: unknown, voiceLocked: boolean): UpdateError | null {
  if (!isObj(session)) return invalid('missing_required_parameter', 'session', "Missing required parameter: 'session'.");
  for (const f of BETA_FIELDS) if (f in session) return invalid('unknown_parameter', `session.${f}`, `Unknown parameter: 'session.${f}'.`);
  if (session.type === undefined) return invalid('missing_required_parameter', 'session.type', "Missing required parameter: 'session.type'.");
  if (session.type !== 'realtime')
    return invalid('invalid_value', 'session.type', `Invalid value: '${String(session.type)}'. The emulator serves 'realtime' sessions only.`);
  const audio = isObj(session.audio) ? session.audio : {};
  const input = isObj(audio.input) ? audio.input : {};
  const output = isObj(audio.output) ? audio.output : {};
  if (input.format !== undefined) {
    const e = checkFormat(input.format, 'session.audio.input.format');
    if (e) return e;
  }
  if (output.format !== undefined) {
    const e = checkFormat(output.format, 'session.audio.output.format');
    if (e) return e;
  }
  if (output.voice !== undefined && output.voice !== s.audio.output.voice && voiceLocked) {
    return invalid('cannot_update_voice', 'session.audio.output.voice', "Cannot update a conversation's voice if assistant audio is present.");
  }
  const td = input.turn_detection;
  if (td !== undefined && td !== null && (!isObj(td) || (td.type !== 'server_vad' && td.type !== 'semantic_vad'))) {
    return invalid('invalid_value', 'session.audio.input.turn_detection.type', "Invalid value. Supported values are: 'server_vad' and 'semantic_vad'.");
  }
  const mods = session.output_modalities;
  if (mods !== undefined && (!Array.isArray(mods) || mods.length !== 1 || (mods[0] !== 'audio' && mods[0] !== 'text'))) {
    return invalid('invalid_value', 'session.output_modalities', "output_modalities must be ['audio'] or ['text'].");
  }

  if (typeof session.instructions === 'string') s.instructions = session.instructions;
  if (mods) s.output_modalities = mods as EmuSession['output_modalities'];
  if (Array.isArray(session.tools)) s.tools = session.tools;
  if (session.tool_choice !== undefined) s.tool_choice = session.tool_choice;
  if (session.max_output_tokens !== undefined) s.max_output_tokens = session.max_output_tokens as EmuSession['max_output_tokens'];
  if (input.format !== undefined) s.audio.input.format = normFormat(input.format as RealtimeAudioFormats);
  if (output.format !== undefined) s.audio.output.format = normFormat(output.format as RealtimeAudioFormats);
  if (input.transcription !== undefined) s.audio.input.transcription = input.transcription as EmuSession['audio']['input']['transcription'];
  if (input.noise_reduction !== undefined) s.audio.input.noise_reduction = input.noise_reduction as EmuSession['audio']['input']['noise_reduction'];
  if (td === null) s.audio.input.turn_detection = null;
  else if (isObj(td)) {
    s.audio.input.turn_detection = {
      type: td.type as EmuTurnDetection['type'],
      threshold: typeof td.threshold === 'number' ? td.threshold : 0.5,
      prefix_padding_ms: typeof td.prefix_padding_ms === 'number' ? td.prefix_padding_ms : 300,
      silence_duration_ms: typeof td.silence_duration_ms === 'number' ? td.silence_duration_ms : 500,
      idle_timeout_ms: typeof td.idle_timeout_ms === 'number' ? td.idle_timeout_ms : null,
      create_response: td.create_response !== false,
      interrupt_response: td.interrupt_response !== false,
    };
  }
  if (typeof output.voice === 'string') s.audio.output.voice = output.voice;
  if (typeof output.speed === 'number') s.audio.output.speed = output.speed;
  return null;
}

function normFormat(f: RealtimeAudioFormats): RealtimeAudioFormats {
  return f.type === 'audio/pcm' ? { type: 'audio/pcm', rate: 24000 } : { type: f.type };
}

/** The session as the SDK's GA type (`id`, `object`, `expires_at` are extra, as observed on the wire). */
export function asWireSession(s: EmuSession): RealtimeSessionCreateRequest {
  return structuredClone(s) as unknown as RealtimeSessionCreateRequest;
}

// ---- audio ----

/** Bytes per ms of a GA format (docs/protocols/openai-realtime.md#audio-formats). */
export function formatBytesPerMs(f: RealtimeAudioFormats): number {
  return f.type === 'audio/pcm' ? 48 : 8;
}

/** Appended bytes → PCM16 samples at the format's rate (for the VAD). */
export function decodeInput(buf: Buffer, f: RealtimeAudioFormats): { samples: Int16Array; rate: number } {
  if (f.type === 'audio/pcmu') return { samples: mulawToSamples(buf), rate: 8000 };
  if (f.type === 'audio/pcma') return { samples: alawToSamples(buf), rate: 8000 };
  const n = buf.length >> 1;
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(i * 2);
  return { samples, rate: 24000 };
}

/**
 * An 8 kHz fixture clip in the session's output format: μ-law/A-law bytes, or PCM16 LE 24 kHz by
 * linear interpolation ×3 (good enough for a test double; the bridge never sees its spectrum).
 */
export function encodeClip(samples8k: Int16Array, f: RealtimeAudioFormats): Buffer {
  if (f.type === 'audio/pcmu') return samplesToMulaw(samples8k);
  if (f.type === 'audio/pcma') return samplesToAlaw(samples8k);
  const out = Buffer.alloc(samples8k.length * 3 * 2);
  for (let i = 0; i < samples8k.length; i++) {
    const a = samples8k[i]!;
    const b = samples8k[i + 1] ?? a;
    for (let k = 0; k < 3; k++) out.writeInt16LE(Math.round(a + ((b - a) * k) / 3), (i * 3 + k) * 2);
  }
  return out;
}

// G.711 A-law (ITU-T G.711), only for the emulator's `audio/pcma` support.
function alawToSamples(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length);
  for (let i = 0; i < buf.length; i++) {
    const a = buf[i]! ^ 0x55;
    const seg = (a & 0x70) >> 4;
    let t = (a & 0x0f) << 4;
    t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
    out[i] = a & 0x80 ? t : -t;
  }
  return out;
}

function samplesToAlaw(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) {
    let pcm = samples[i]! >> 3;
    let mask = 0xd5;
    if (pcm < 0) {
      mask = 0x55;
      pcm = -pcm - 1;
    }
    let seg = 0;
    for (let end = 0x1f; seg < 8 && pcm > end; end = (end << 1) | 1) seg++;
    const aval = seg >= 8 ? 0x7f : (seg << 4) | (seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f);
    out[i] = aval ^ mask;
  }
  return out;
}

/** The GA client event types (https://platform.openai.com/docs/api-reference/realtime-client-events); any other `type` is an `invalid_request_error`. */
export const CLIENT_TYPES = new Set([
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'output_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
]);

/** A client event's envelope, or the `invalid_request_error` the real service answers for it. */
export type ParsedClientEvent =
  { ok: true; msg: Obj; type: string; eventId: string | null } | { ok: false; code: string; message: string; param: string | null; eventId: string | null };

/** Parse one client text frame: JSON object, `type` present and a known client event type. */
export function parseClientEvent(text: string): ParsedClientEvent {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    const message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)";
    return { ok: false, code: 'invalid_json', message, param: null, eventId: null };
  }
  if (!isObj(msg)) return { ok: false, code: 'invalid_json', message: 'Expected an object.', param: null, eventId: null };
  const eventId = typeof msg.event_id === 'string' ? msg.event_id : null;
  const type = msg.type;
  if (typeof type !== 'string')
    return { ok: false, code: 'missing_required_parameter', message: "Missing required parameter: 'type'.", param: 'type', eventId };
  if (!CLIENT_TYPES.has(type)) {
    const message = `Invalid value: '${type}'. Supported values are: ${[...CLIENT_TYPES].map((t) => `'${t}'`).join(', ')}.`;
    return { ok: false, code: 'invalid_value', message, param: 'type', eventId };
  }
  return { ok: true, msg, type, eventId };
}

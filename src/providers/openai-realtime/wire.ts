/**
 * OpenAI Realtime (GA) wire types and the audio-format mapping for the callbridge adapter.
 *
 * Every message the adapter builds or reads is typed with the `openai` 6.49.0 GA declarations
 * (`resources/realtime/realtime.d.ts`; source https://github.com/openai/openai-node/blob/main/src/resources/realtime/realtime.ts), so a misspelt field
 * fails to compile. Control events that arrive rarely are validated with zod schemas whose output is
 * checked against the SDK types; the hot `response.output_audio.delta` is narrowed by hand.
 */
import { z } from 'zod';
import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  RealtimeAudioFormats,
  RealtimeError,
  RealtimeErrorEvent,
  RealtimeSessionCreateRequest,
  ResponseAudioTranscriptDoneEvent,
  ResponseDoneEvent,
  ResponseFunctionCallArgumentsDoneEvent,
} from 'openai/resources/realtime/realtime';
import type { AudioFormat } from '../../audio/format';
import type { InputAudioBufferAppendEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime';

export type {
  ConversationItemCreateEvent,
  ConversationItemTruncateEvent,
  InputAudioBufferAppendEvent,
  RealtimeAudioFormats,
  RealtimeClientEvent,
  RealtimeError,
  RealtimeErrorEvent,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
  ResponseAudioDeltaEvent,
  ResponseCreateEvent,
  ResponseDoneEvent,
  ResponseFunctionCallArgumentsDoneEvent,
  SessionUpdateEvent,
} from 'openai/resources/realtime/realtime';

/** Default GA endpoint (docs/protocols/openai-realtime.md#connection). */
export const OPENAI_REALTIME_DEFAULT_URL = 'wss://api.openai.com/v1/realtime';

/** GA `audio/pcmu`: G.711 μ-law 8 kHz, 8 bytes/ms (docs/protocols/openai-realtime.md#audio-formats). */
export const WIRE_PCMU: RealtimeAudioFormats.AudioPCMU = { type: 'audio/pcmu' };
/** GA `audio/pcm`: PCM16 little-endian 24 kHz mono, 48 bytes/ms; 24 kHz is the only rate (docs/protocols/openai-realtime.md#audio-formats). */
export const WIRE_PCM24: RealtimeAudioFormats.AudioPCM = { type: 'audio/pcm', rate: 24000 };

/**
 * The GA wire format callbridge asks for, given the carrier's native format: μ-law 8 kHz passes
 * through as `audio/pcmu` (Twilio path, no transcoding); anything else is sent as PCM16 24 kHz and the
 * session converts (docs/protocols/openai-realtime.md#audio-formats).
 */
export function wireFormatFor(carrier: AudioFormat): RealtimeAudioFormats {
  return carrier.encoding === 'mulaw' && carrier.sampleRate === 8000 ? WIRE_PCMU : WIRE_PCM24;
}

/** The callbridge descriptor of a GA wire format; `null` for a missing or unknown one. */
export function audioFormatOf(w: RealtimeAudioFormats | undefined | null): AudioFormat | null {
  switch (w?.type) {
    case 'audio/pcmu':
      return { encoding: 'mulaw', sampleRate: 8000 };
    case 'audio/pcma':
      return { encoding: 'alaw', sampleRate: 8000 };
    case 'audio/pcm':
      // `rate` may be omitted; 24 kHz is the only rate the API accepts (GA type RealtimeAudioFormats.AudioPCM).
      return w.rate === undefined || w.rate === 24000 ? { encoding: 'pcm16le', sampleRate: 24000 } : null;
    default:
      return null;
  }
}

/** True when two GA wire formats describe the same bytes. */
export function sameWireFormat(a: RealtimeAudioFormats | undefined | null, b: RealtimeAudioFormats | undefined | null): boolean {
  const fa = audioFormatOf(a);
  const fb = audioFormatOf(b);
  return fa !== null && fb !== null && fa.encoding === fb.encoding && fa.sampleRate === fb.sampleRate;
}

// ---- zod schemas for rare control events (the hot path is narrowed by hand); names checked against the SDK types ----

/** Compile-time guard: `true` only when every key of `S` is also a key of the SDK type `T`. */
type NamesIn<S, T> = [Exclude<keyof S, keyof T>] extends [never] ? true : false;
const names = <_ extends true>(): void => undefined;

const WireFormatSchema = z.object({ type: z.enum(['audio/pcm', 'audio/pcmu', 'audio/pcma']).optional(), rate: z.number().optional() });
const SessionAudioSchema = z.object({
  input: z.object({ format: WireFormatSchema.optional() }).optional(),
  output: z.object({ format: WireFormatSchema.optional() }).optional(),
});

/** `session.created` / `session.updated`: only what the adapter checks (the negotiated formats). */
export const SessionEventSchema = z.object({
  type: z.enum(['session.created', 'session.updated']),
  session: z.object({ type: z.string().optional(), audio: SessionAudioSchema.optional() }),
});
type SessionAudio = z.infer<typeof SessionAudioSchema>;
names<NamesIn<z.infer<typeof SessionEventSchema>['session'], RealtimeSessionCreateRequest>>();
names<NamesIn<SessionAudio, NonNullable<RealtimeSessionCreateRequest['audio']>>>();
names<NamesIn<NonNullable<SessionAudio['input']>, NonNullable<NonNullable<RealtimeSessionCreateRequest['audio']>['input']>>>();
names<NamesIn<z.infer<typeof WireFormatSchema>, RealtimeAudioFormats.AudioPCM>>();

export const ErrorEventSchema: z.ZodType<
  Pick<RealtimeErrorEvent, 'type'> & { error: Pick<RealtimeError, 'type' | 'message' | 'code' | 'param' | 'event_id'> }
> = z.object({
  type: z.literal('error'),
  error: z.object({
    type: z.string().catch('unknown'),
    message: z.string().catch(''),
    code: z.string().nullish(),
    param: z.string().nullish(),
    event_id: z.string().nullish(),
  }),
});

export const FunctionCallDoneSchema: z.ZodType<
  Pick<ResponseFunctionCallArgumentsDoneEvent, 'type' | 'call_id' | 'name' | 'arguments' | 'response_id' | 'item_id'>
> = z.object({
  type: z.literal('response.function_call_arguments.done'),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  response_id: z.string(),
  item_id: z.string(),
});

/** `response.created` / `response.done`: id, status and the function calls listed in `output[]`. */
export const ResponseEventSchema = z.object({
  type: z.enum(['response.created', 'response.done']),
  response: z.object({
    id: z.string(),
    status: z.enum(['completed', 'cancelled', 'failed', 'incomplete', 'in_progress']).optional(),
    status_details: z.object({ type: z.string().optional(), reason: z.string().optional() }).nullish(),
    output: z.array(z.object({ type: z.string(), call_id: z.string().optional() })).nullish(),
  }),
});
export type ResponseEvent = z.infer<typeof ResponseEventSchema>;
names<NamesIn<ResponseEvent['response'], NonNullable<ResponseDoneEvent['response']>>>();
names<NamesIn<NonNullable<ResponseEvent['response']['status_details']>, NonNullable<NonNullable<ResponseDoneEvent['response']>['status_details']>>>();

export const UserTranscriptSchema: z.ZodType<Pick<ConversationItemInputAudioTranscriptionCompletedEvent, 'type' | 'item_id' | 'transcript'>> = z.object({
  type: z.literal('conversation.item.input_audio_transcription.completed'),
  item_id: z.string(),
  transcript: z.string(),
});

export const AgentTranscriptSchema: z.ZodType<Pick<ResponseAudioTranscriptDoneEvent, 'type' | 'item_id' | 'response_id' | 'transcript'>> = z.object({
  type: z.literal('response.output_audio_transcript.done'),
  item_id: z.string(),
  response_id: z.string(),
  transcript: z.string(),
});

/**
 * Server events the leg reads nothing from (progress and bookkeeping: docs/protocols/openai-realtime.md#server-events), each
 * checked against the SDK's `RealtimeServerEvent` union. A `type` neither here nor read by the leg is rejected as unknown.
 */
export const BOOKKEEPING_EVENTS: ReadonlySet<string> = new Set<RealtimeServerEvent['type']>([
  'input_audio_buffer.speech_stopped',
  'input_audio_buffer.committed',
  'input_audio_buffer.cleared',
  'input_audio_buffer.timeout_triggered',
  'conversation.item.added',
  'conversation.item.done',
  'conversation.item.created',
  'conversation.item.deleted',
  'conversation.item.retrieved',
  'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.segment',
  'conversation.item.input_audio_transcription.failed',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.output_audio.done',
  'response.output_audio_transcript.delta',
  'response.output_text.delta',
  'response.output_text.done',
  'response.function_call_arguments.delta',
  'rate_limits.updated',
]);

const APPEND_TYPE: InputAudioBufferAppendEvent['type'] = 'input_audio_buffer.append';
const APPEND_AUDIO: keyof InputAudioBufferAppendEvent = 'audio';
const APPEND_HEAD = `{"type":"${APPEND_TYPE}","${APPEND_AUDIO}":"`;

/**
 * `input_audio_buffer.append` of `payload` (bytes in the session's input format) built by concatenation: base64 needs no
 * JSON escaping, and this runs 50 times a second per call
 * (https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/append).
 */
export function encodeAppend(payload: Buffer): string {
  return APPEND_HEAD + payload.toString('base64') + '"}';
}

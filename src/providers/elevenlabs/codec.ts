/**
 * ElevenLabs ConvAI messages ⇄ narrowed values, with no sockets or state.
 *
 * `readServerMessage` runs for every frame (agent audio arrives dozens of times a second), so it
 * narrows by hand instead of schema-validating; field names are checked at compile time through
 * the `wire.ts` aliases. It never throws: malformed input comes back as a `reject` with its reason
 * (`null` from `parseServerMessage`), a known type callbridge ignores as `{ kind: 'other' }`.
 * Wire facts: docs/protocols/elevenlabs.md#client-messages, #server-events
 * (https://elevenlabs.io/docs/eleven-agents/api-reference/eleven-agents/websocket).
 */
import type {
  ElAgentResponseCorrectionMessage,
  ElAgentResponseMessage,
  ElAgentToolResponseMessage,
  ElAudioMessage,
  ElClientToolCallMessage,
  ElClientToolResultMessage,
  ElErrorMessage,
  ElInitiationMessage,
  ElInterruptionMessage,
  ElMetadataMessage,
  ElPingMessage,
  ElPongMessage,
  ElUserTranscriptMessage,
} from './wire';
import { EL_IGNORED_TYPES } from './wire';
import type { RejectReason } from '../rejects';

/** A server message reduced to what the leg acts on. `eventId` values are the wire's `event_id`. */
export type ElInbound =
  | { kind: 'metadata'; conversationId: string; outputFormat: unknown; inputFormat: unknown }
  | { kind: 'audio'; base64: string; eventId: number }
  | { kind: 'ping'; eventId: number }
  | { kind: 'interruption'; eventId: number }
  | { kind: 'user_transcript'; text: string; eventId?: number }
  | { kind: 'agent_response'; text: string; eventId?: number }
  | { kind: 'agent_response_correction'; text: string; original?: string; eventId?: number }
  | { kind: 'client_tool_call'; id: string; name: string; params: Record<string, unknown> }
  | { kind: 'agent_tool_response'; name: string; id?: string; isError?: boolean }
  | { kind: 'error'; code?: number; errorType?: string; message?: string }
  /** A well-formed message of a type callbridge ignores (vad_score, tentative_*, …: `EL_IGNORED_TYPES`). */
  | { kind: 'other'; type: string };

/** A message the leg drops: not JSON, not an object with a `type`, an unknown `type`, or a known one missing a required field. */
export type ElReject = { kind: 'reject'; reason: Extract<RejectReason, 'not_json' | 'unknown_type' | 'bad_shape'>; type?: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const optInt = (v: unknown): number | undefined => (isInt(v) ? v : undefined);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const NOT_JSON: ElReject = { kind: 'reject', reason: 'not_json' };
const NO_TYPE: ElReject = { kind: 'reject', reason: 'bad_shape' };
const shape = (type: string): ElReject => ({ kind: 'reject', reason: 'bad_shape', type });

/**
 * Read one text frame from the server.
 * @returns the narrowed message, or a reject: `not_json` (not JSON, or not a JSON object), `bad_shape` (no string `type`,
 *   or a known type whose required fields are missing or mistyped), `unknown_type` (neither read nor in `EL_IGNORED_TYPES`).
 */
export function readServerMessage(text: string): ElInbound | ElReject {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
  if (!isObj(raw)) return NOT_JSON;
  if (typeof raw.type !== 'string') return NO_TYPE;
  const type = raw.type;
  switch (type) {
    case 'audio': {
      // Hot path: agent audio, checked field by field.
      const ev = (raw as Partial<ElAudioMessage>).audio_event as unknown;
      if (!isObj(ev)) return shape(type);
      const { audio_base_64: b64, event_id: id } = ev as Partial<ElAudioMessage['audio_event']>;
      return typeof b64 === 'string' && isInt(id) ? { kind: 'audio', base64: b64, eventId: id } : shape(type);
    }
    case 'ping': {
      const ev = (raw as Partial<ElPingMessage>).ping_event as unknown;
      const id = isObj(ev) ? (ev as Partial<ElPingMessage['ping_event']>).event_id : undefined;
      return isInt(id) ? { kind: 'ping', eventId: id } : shape(type);
    }
    case 'conversation_initiation_metadata': {
      const ev = (raw as Partial<ElMetadataMessage>).conversation_initiation_metadata_event as unknown;
      if (!isObj(ev)) return shape(type);
      const m = ev as Partial<ElMetadataMessage['conversation_initiation_metadata_event']>;
      if (typeof m.conversation_id !== 'string') return shape(type);
      return { kind: 'metadata', conversationId: m.conversation_id, outputFormat: m.agent_output_audio_format, inputFormat: m.user_input_audio_format };
    }
    case 'interruption': {
      const ev = (raw as Partial<ElInterruptionMessage>).interruption_event as unknown;
      const id = isObj(ev) ? (ev as Partial<ElInterruptionMessage['interruption_event']>).event_id : undefined;
      return isInt(id) ? { kind: 'interruption', eventId: id } : shape(type);
    }
    case 'user_transcript': {
      const ev = (raw as Partial<ElUserTranscriptMessage>).user_transcription_event as unknown;
      if (!isObj(ev)) return shape(type);
      const u = ev as Partial<ElUserTranscriptMessage['user_transcription_event']>;
      return typeof u.user_transcript === 'string' ? { kind: 'user_transcript', text: u.user_transcript, eventId: optInt(u.event_id) } : shape(type);
    }
    case 'agent_response': {
      const ev = (raw as Partial<ElAgentResponseMessage>).agent_response_event as unknown;
      if (!isObj(ev)) return shape(type);
      const a = ev as Partial<ElAgentResponseMessage['agent_response_event']>;
      return typeof a.agent_response === 'string' ? { kind: 'agent_response', text: a.agent_response, eventId: optInt(a.event_id) } : shape(type);
    }
    case 'agent_response_correction': {
      const ev = (raw as Partial<ElAgentResponseCorrectionMessage>).agent_response_correction_event as unknown;
      if (!isObj(ev)) return shape(type);
      const c = ev as Partial<ElAgentResponseCorrectionMessage['agent_response_correction_event']>;
      if (typeof c.corrected_agent_response !== 'string') return shape(type);
      return { kind: 'agent_response_correction', text: c.corrected_agent_response, original: optStr(c.original_agent_response), eventId: optInt(c.event_id) };
    }
    case 'client_tool_call': {
      const ev = (raw as Partial<ElClientToolCallMessage>).client_tool_call as unknown;
      if (!isObj(ev)) return shape(type);
      const t = ev as Partial<ElClientToolCallMessage['client_tool_call']>;
      if (typeof t.tool_call_id !== 'string' || typeof t.tool_name !== 'string') return shape(type);
      return { kind: 'client_tool_call', id: t.tool_call_id, name: t.tool_name, params: isObj(t.parameters) ? t.parameters : {} };
    }
    case 'agent_tool_response': {
      const ev = (raw as Partial<ElAgentToolResponseMessage>).agent_tool_response as unknown;
      if (!isObj(ev)) return shape(type);
      const t = ev as Partial<ElAgentToolResponseMessage['agent_tool_response']>;
      if (typeof t.tool_name !== 'string') return shape(type);
      return { kind: 'agent_tool_response', name: t.tool_name, id: optStr(t.tool_call_id), isError: typeof t.is_error === 'boolean' ? t.is_error : undefined };
    }
    case 'error': {
      const ev = (raw as Partial<ElErrorMessage>).error_event as unknown;
      const e = (isObj(ev) ? ev : {}) as Partial<ElErrorMessage['error_event']>;
      return { kind: 'error', code: optInt(e.code), errorType: optStr(e.error_type), message: optStr(e.message) };
    }
    default:
      return EL_IGNORED_TYPES.has(type) ? { kind: 'other', type } : { kind: 'reject', reason: 'unknown_type', type };
  }
}

/** `readServerMessage`, with `null` for every reject. */
export function parseServerMessage(text: string): ElInbound | null {
  const m = readServerMessage(text);
  return m.kind === 'reject' ? null : m;
}

/**
 * `{"user_audio_chunk":"<base64>"}` built by concatenation: base64 needs no JSON escaping, and this
 * runs 50 times a second per call. The one client message without a `type`
 * (https://github.com/elevenlabs/packages/blob/main/packages/types/schemas/agent.asyncapi.yaml).
 */
export function encodeUserAudio(payload: Buffer): string {
  return '{"user_audio_chunk":"' + payload.toString('base64') + '"}';
}

/** `{"type":"pong","event_id":N}`: echo of `ping_event.event_id` (https://elevenlabs.io/docs/eleven-agents/customization/events/client-events). */
export function encodePong(eventId: number): string {
  const msg: ElPongMessage = { type: 'pong', event_id: eventId };
  return JSON.stringify(msg);
}

/** `client_tool_result`; `result` must be a string (https://github.com/elevenlabs/packages/blob/main/packages/client/src/BaseConversation.ts). */
export function encodeToolResult(toolCallId: string, result: string, isError: boolean): string {
  const msg: ElClientToolResultMessage = { type: 'client_tool_result', tool_call_id: toolCallId, result, is_error: isError };
  return JSON.stringify(msg);
}

/** What callbridge overrides per call (docs/protocols/elevenlabs.md#client-messages). */
export interface InitiationInput {
  prompt: string;
  firstMessage: string;
  dynamicVariables: Record<string, string>;
  userId?: string;
}

/** The first client frame: `conversation_initiation_client_data` with overrides (docs/protocols/elevenlabs.md#conversation-socket, #client-messages). */
export function encodeInitiation(input: InitiationInput): string {
  const msg: ElInitiationMessage = {
    type: 'conversation_initiation_client_data',
    conversation_config_override: { agent: { prompt: { prompt: input.prompt }, first_message: input.firstMessage } },
    dynamic_variables: input.dynamicVariables,
    ...(input.userId !== undefined ? { user_id: input.userId } : {}),
  };
  return JSON.stringify(msg);
}

/**
 * Builds the GA `session.update` and the greeting events for one call (docs/protocols/openai-realtime.md#session-configuration, #client-events).
 */
import type { AudioFormat } from '../../audio/format';
import type { Config } from '../../config';
import type { CallContext } from '../types';
import {
  audioFormatOf,
  sameWireFormat,
  wireFormatFor,
  type ConversationItemCreateEvent,
  type RealtimeAudioFormats,
  type ResponseCreateEvent,
  type SessionUpdateEvent,
} from './wire';

/** Server VAD as callbridge runs it on phone lines (docs/protocols/openai-realtime.md#turn-detection; GA type RealtimeAudioInputTurnDetection.ServerVad). */
export const TURN_DETECTION = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  create_response: true,
  interrupt_response: true,
} as const;

/** Input transcription model: fills the caller side of the transcript (https://platform.openai.com/docs/guides/realtime-conversations). */
export const TRANSCRIPTION_MODEL = 'gpt-4o-mini-transcribe';

/** What the adapter asks of the session, and the formats it expects back. */
export interface SessionPlan {
  update: SessionUpdateEvent;
  /** GA wire format asked for both directions. */
  wire: RealtimeAudioFormats;
  /** The same as a callbridge descriptor (what `sendAudio` takes and `audio` events carry). */
  format: AudioFormat;
}

/**
 * The GA `session.update` for a call: `type:'realtime'`, audio only, instructions from the call
 * (else `SYSTEM_PROMPT`), `audio/pcmu` both ways for a μ-law 8 kHz carrier (else `audio/pcm` 24 kHz),
 * input transcription, server VAD, `OPENAI_VOICE`, and the tool registry as function tools.
 * Source: https://platform.openai.com/docs/api-reference/realtime-client-events/session/update (docs/protocols/openai-realtime.md#session-configuration);
 * GA types `SessionUpdateEvent`, `RealtimeSessionCreateRequest` (https://github.com/openai/openai-node/blob/main/src/resources/realtime/realtime.ts).
 */
export function buildSessionPlan(ctx: CallContext, cfg: Config): SessionPlan {
  const wire = wireFormatFor(ctx.carrierFormat);
  const format = audioFormatOf(wire)!;
  const update: SessionUpdateEvent = {
    type: 'session.update',
    session: {
      type: 'realtime',
      output_modalities: ['audio'],
      instructions: ctx.prompt ?? cfg.SYSTEM_PROMPT,
      audio: {
        input: { format: wire, transcription: { model: TRANSCRIPTION_MODEL }, turn_detection: { ...TURN_DETECTION } },
        output: { format: wire, voice: cfg.OPENAI_VOICE },
      },
      tools: ctx.tools.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters })),
      tool_choice: 'auto',
    },
  };
  return { update, wire, format };
}

/**
 * True when a `session.updated` payload confirms the formats of `plan` in both directions
 * (docs/protocols/openai-realtime.md#session-configuration: the formats are checked in `session.updated`).
 */
export function confirmsFormats(
  audio: { input?: { format?: RealtimeAudioFormats }; output?: { format?: RealtimeAudioFormats } } | undefined,
  plan: SessionPlan,
): boolean {
  return sameWireFormat(audio?.input?.format, plan.wire) && sameWireFormat(audio?.output?.format, plan.wire);
}

/**
 * The greeting: a user `input_text` item asking for the first message, then `response.create`
 * (`sendInitialConversationItem` in https://github.com/twilio-samples/speech-assistant-openai-realtime-api-node/blob/main/index.js).
 * Empty text → no events.
 */
export function greetingEvents(firstMessage: string): [ConversationItemCreateEvent, ResponseCreateEvent] | [] {
  if (!firstMessage.trim()) return [];
  return [
    {
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `Greet the caller with: ${firstMessage}` }] },
    },
    { type: 'response.create' },
  ];
}

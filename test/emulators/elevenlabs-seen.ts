/**
 * What the ElevenLabs emulator observed, for assertions (docs/protocols/elevenlabs.md#emulator).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ElInitiationMessage } from '../../src/providers/elevenlabs/wire';

export interface ToolResultSeen {
  tool_call_id: string;
  result: string;
  is_error: boolean;
  /** ms from the `client_tool_call` to its result; -1 for an unknown id. */
  ms: number;
  known: boolean;
}

export interface InterruptionSeen {
  /** `interruption_event.event_id` sent (greater than the turn's id). */
  eventId: number;
  /** `event_id` of the agent turn that was cut. */
  turnEventId: number;
  /** Agent audio of that turn already sent, in ms and bytes, and the turn's full length in ms. */
  sentAudioMs: number;
  sentBytes: number;
  totalAudioMs: number;
  /** `corrected_agent_response`: the share of the text matching the audio sent. */
  correctedText: string;
}

export interface ElevenLabsSeen {
  requests: { method: string; path: string; query: Record<string, string>; headers: IncomingHttpHeaders; status: number }[];
  upgrades: { path: string; query: Record<string, string>; protocol?: string; accepted: boolean; reason?: string }[];
  inits: ElInitiationMessage[];
  /** Initiation messages after the first one (a client bug). */
  secondInits: number;
  conversations: { conversationId: string; inputFormat: string; outputFormat: string }[];
  /** `user_audio_chunk` messages and their decoded bytes (all, and before metadata). */
  chunks: number;
  audioBytes: number;
  chunksBeforeMetadata: number;
  bytesBeforeMetadata: number;
  /** Caller speech detected by the VAD. */
  speechStarts: number;
  userTranscripts: string[];
  agentResponses: { eventId: number; text: string }[];
  pingsSent: number;
  pongs: { matched: number; late: number; missing: number[]; unknown: number[] };
  toolCalls: { tool_call_id: string; tool_name: string; parameters: Record<string, unknown> }[];
  toolResults: ToolResultSeen[];
  toolTimeouts: string[];
  interruptions: InterruptionSeen[];
  /** Socket closes: code received, and which side started the close. */
  closes: { code: number; reason: string; by: 'client' | 'server' }[];
  /** `error` events the emulator sent. */
  errors: { code: number; error_type: string; message: string }[];
  /** Other valid client messages (`contextual_update`, `user_activity`, …), by type. */
  otherMessages: string[];
}

export function emptySeen(): ElevenLabsSeen {
  return {
    requests: [],
    upgrades: [],
    inits: [],
    secondInits: 0,
    conversations: [],
    chunks: 0,
    audioBytes: 0,
    chunksBeforeMetadata: 0,
    bytesBeforeMetadata: 0,
    speechStarts: 0,
    userTranscripts: [],
    agentResponses: [],
    pingsSent: 0,
    pongs: { matched: 0, late: 0, missing: [], unknown: [] },
    toolCalls: [],
    toolResults: [],
    toolTimeouts: [],
    interruptions: [],
    closes: [],
    errors: [],
    otherMessages: [],
  };
}

/**
 * What one emulated ElevenLabs conversation does (resolved from the emulator's options), and the
 * error type the real service sends before each close code (docs/protocols/elevenlabs.md#close-codes-and-errors).
 */
import type { ElErrorType, ElevenLabsAudioFormat } from '../../src/providers/elevenlabs/wire';
import type { AgentScript } from './agent-script';
import type { VadOptions } from './vad';

/** Per-conversation behaviour (resolved from the emulator options). */
export interface ConversationOptions {
  conversationId: string;
  inputFormat: ElevenLabsAudioFormat;
  outputFormat: ElevenLabsAudioFormat;
  /** Playout pace multiple (1 = real time). */
  speed: number;
  pingIntervalMs: number;
  script: AgentScript;
  /** Agent audio per `audio` message, in ms of audio. */
  chunkMs: number;
  /** Wait for `conversation_initiation_client_data` before starting anyway. */
  initWaitMs: number;
  metadataDelayMs: number;
  /** After metadata: close with `closeCode` (1006 = drop the TCP socket, no close frame). */
  closeAfterMs?: number;
  closeCode: number;
  maxDurationMs?: number;
  receiveTimeoutMs: number;
  toolTimeoutMs: number;
  /** Speak the next scripted reply after a client tool result. */
  replyAfterTool: boolean;
  /** Overrides the agent's security settings allow (docs/protocols/elevenlabs.md#client-messages). */
  allowOverrides: { prompt: boolean; firstMessage: boolean; language: boolean; voice: boolean };
  vad: Partial<Omit<VadOptions, 'sampleRate'>>;
}

export const ERROR_TYPE_FOR_CODE: Record<number, ElErrorType> = {
  1000: 'max_duration_exceeded',
  1002: 'llm_error',
  1008: 'invalid_message',
  1011: 'unknown_websocket_crash',
};

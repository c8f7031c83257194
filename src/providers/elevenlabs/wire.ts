/**
 * ElevenLabs Conversational AI WebSocket wire types: aliases over `@elevenlabs/types` 0.23.0
 * (`generated/types/asyncapi-types.ts`, generated from the AsyncAPI contract), so a misspelt
 * snake_case field fails to compile. Types only: `import type` is erased, so the ESM-only package
 * never loads at run time. Wire facts: docs/protocols/elevenlabs.md#client-messages, #server-events.
 */
import type {
  AgentResponse,
  AgentResponseCorrection,
  AgentToolResponseMessage,
  Audio,
  ClientToolCallMessage,
  ClientToolResult,
  ConversationInitiation,
  ConversationInitiationMetadataEventAgentOutputAudioFormat,
  ConversationMetadata,
  ErrorEvent,
  ErrorEventErrorType,
  ErrorMessage,
  Interruption,
  Ping,
  Pong,
  UserAudio,
  UserTranscript,
} from '@elevenlabs/types';

/** `ulaw_8000`, `pcm_16000`, … (the same seven values for input and output). */
export type ElevenLabsAudioFormat = ConversationInitiationMetadataEventAgentOutputAudioFormat;

// Server → client (https://elevenlabs.io/docs/eleven-agents/customization/events/client-events).
export type ElMetadataMessage = ConversationMetadata;
export type ElAudioMessage = Audio;
export type ElAgentResponseMessage = AgentResponse;
export type ElAgentResponseCorrectionMessage = AgentResponseCorrection;
export type ElUserTranscriptMessage = UserTranscript;
export type ElInterruptionMessage = Interruption;
export type ElPingMessage = Ping;
export type ElClientToolCallMessage = ClientToolCallMessage;
export type ElAgentToolResponseMessage = AgentToolResponseMessage;
export type ElErrorMessage = ErrorMessage;
export type ElErrorEvent = ErrorEvent;
export type ElErrorType = ErrorEventErrorType;

// Client → server (https://elevenlabs.io/docs/eleven-agents/customization/events/client-to-server-events).
export type ElUserAudioMessage = UserAudio;
export type ElPongMessage = Pong;
export type ElClientToolResultMessage = ClientToolResult;
export type ElInitiationMessage = ConversationInitiation;

/** Every server message callbridge reads, discriminated by `type`. */
export type ElServerMessage =
  | ElMetadataMessage
  | ElAudioMessage
  | ElAgentResponseMessage
  | ElAgentResponseCorrectionMessage
  | ElUserTranscriptMessage
  | ElInterruptionMessage
  | ElPingMessage
  | ElClientToolCallMessage
  | ElAgentToolResponseMessage
  | ElErrorMessage;

/** Every client message callbridge sends. */
export type ElClientMessage = ElUserAudioMessage | ElPongMessage | ElClientToolResultMessage | ElInitiationMessage;

/** WebSocket close codes the server uses (docs/protocols/elevenlabs.md#close-codes-and-errors; AsyncAPI `WebSocketCloseCode`). */
export const EL_CLOSE = { normal: 1000, operational: 1002, contract: 1008, crash: 1011 } as const;

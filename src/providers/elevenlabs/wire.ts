/**
 * ElevenLabs Conversational AI WebSocket wire types: aliases over `@elevenlabs/types` 0.23.0
 * (`generated/types/asyncapi-types.ts`, generated from the AsyncAPI contract), so a misspelt
 * snake_case field fails to compile. Types only: `import type` is erased, so the ESM-only package
 * never loads at run time. Wire facts: docs/protocols/elevenlabs.md#client-messages, #server-events.
 */
import type {
  AgentChatResponsePart,
  AgentReasoningResponsePart,
  AgentResponse,
  AgentResponseCorrection,
  AgentToolRequestMessage,
  AgentToolResponseFullPayloadMessage,
  AgentToolResponseMessage,
  AgentTyping,
  AsrInitiationMetadata,
  Audio,
  ClientToolCallMessage,
  ClientToolResult,
  ConversationInitiation,
  ConversationInitiationMetadataEventAgentOutputAudioFormat,
  ContextUsage,
  ConversationMetadata,
  ErrorEvent,
  ErrorEventErrorType,
  ErrorMessage,
  ExternalAgentConnected,
  ExternalAgentDisconnected,
  GuardrailTriggered,
  InternalTentativeAgentResponse,
  InternalTurnProbability,
  Interruption,
  McpConnectionStatusMessage,
  McpToolCall,
  Ping,
  Pong,
  RichContentMessage,
  TentativeUserTranscript,
  UserAudio,
  UserTranscript,
  VadScore,
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

/**
 * Server events callbridge reads nothing from, each `type` checked against `@elevenlabs/types` (AsyncAPI contract):
 * well-formed and ignored. A `type` neither here nor among those the codec reads is rejected as unknown.
 */
export const EL_IGNORED_TYPES: ReadonlySet<string> = new Set<
  (
    | TentativeUserTranscript
    | AgentChatResponsePart
    | AgentReasoningResponsePart
    | RichContentMessage
    | AgentToolRequestMessage
    | AgentToolResponseFullPayloadMessage
    | McpToolCall
    | McpConnectionStatusMessage
    | VadScore
    | ContextUsage
    | AsrInitiationMetadata
    | GuardrailTriggered
    | InternalTurnProbability
    | InternalTentativeAgentResponse
    | AgentTyping
    | ExternalAgentConnected
    | ExternalAgentDisconnected
  )['type']
>([
  'tentative_user_transcript',
  'agent_chat_response_part',
  'agent_reasoning_response_part',
  'rich_content',
  'agent_tool_request',
  'agent_tool_response_full_payload',
  'mcp_tool_call',
  'mcp_connection_status',
  'vad_score',
  'context_usage',
  'asr_initiation_metadata',
  'guardrail_triggered',
  'internal_turn_probability',
  'internal_tentative_agent_response',
  'agent_typing',
  'external_agent_connected',
  'external_agent_disconnected',
]);

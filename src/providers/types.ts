/**
 * The provider seam: a voice AI provider's wire ⇄ these events. See README.md "Architecture".
 */
import type { AudioFormat } from '../audio/format';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { CallIdentity, ProviderName } from '../identity';
import type { RejectSink } from './rejects';
import type { ProviderDeps } from './socket';

/** What a provider leg reports to the session. */
export type ProviderEvent =
  /** Formats negotiated: `inputFormat` is what `sendAudio` must receive, `outputFormat` what `audio` carries. */
  | { type: 'ready'; inputFormat: AudioFormat; outputFormat: AudioFormat; conversationId?: string }
  /** Agent audio in `outputFormat`; `itemId` groups one agent utterance (OpenAI item / ElevenLabs event id). */
  | { type: 'audio'; payload: Buffer; itemId?: string }
  /** The caller barged in: clear carrier playback now and drop queued agent audio. */
  | { type: 'interruption' }
  /**
   * A finished transcript turn. `correction` replaces the text of the latest agent turn (what the
   * caller actually heard) and marks it interrupted. `itemId` (agent turns) matches the `audio`
   * events of the same utterance, so the turn is placed where its audio started.
   */
  | { type: 'transcript'; role: 'user' | 'agent'; text: string; correction?: boolean; itemId?: string }
  | { type: 'tool_call'; id: string; name: string; args: unknown }
  /** The provider ended the conversation normally (agent hung up, max duration). */
  | { type: 'end'; reason: string }
  | { type: 'error'; error: Error; fatal: boolean };

/** Everything a provider needs to know about the call it serves. */
export interface CallContext extends CallIdentity {
  /** System prompt / first message for this call (config defaults or per-call overrides). */
  prompt?: string;
  firstMessage?: string;
  /** The carrier's native audio format, so the provider can pick a matching one when it can. */
  carrierFormat: AudioFormat;
  /** Tools the agent may call (same registry for every provider). */
  tools: ToolSpec[];
}

/** A tool the agent can call: `parameters` is a JSON Schema object. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A live connection to a provider for one call. */
export interface ProviderLeg {
  readonly name: ProviderName;
  /** `truncate`: provider accepts "the caller heard only N ms" after a barge-in (OpenAI). */
  readonly caps: { truncate: boolean };
  /** Caller audio in the `inputFormat` announced by `ready`. Buffered until ready. */
  sendAudio(payload: Buffer): void;
  /** Answer a tool call: `output` is a string (JSON or a sentence); `isError` flags a failure. */
  sendToolResult(callId: string, output: string, isError: boolean): void;
  /** After a barge-in: the agent item `itemId` was heard for `playedMs` ms only. */
  truncate?(itemId: string, playedMs: number): void;
  /** Every provider message this leg drops as malformed from now on goes to `sink` (./rejects.ts); those already dropped at once, summed. */
  watchRejects?(sink: RejectSink): void;
  /** Close the provider socket (idempotent). Resolves when closed. */
  close(reason: string): Promise<void>;
}

/**
 * Opens a provider leg. `prepare` does any HTTP set-up (signed URL) and may run while the carrier
 * webhook is being answered; `connect` opens the socket. Errors are `CallbridgeError`s.
 */
export interface ProviderConnector {
  readonly name: ProviderName;
  prepare(ctx: CallContext): Promise<PreparedProvider>;
}

export interface PreparedProvider {
  connect(ctx: CallContext, onEvent: (ev: ProviderEvent) => void): Promise<ProviderLeg>;
}

/** A registry entry (src/providers/index.ts): one per provider folder. */
export interface ProviderModule {
  readonly name: ProviderName;
  /** Build this provider's connector for a server; `deps` (sockets, clock) default to the real ones. */
  connector(cfg: Config, log: Logger, deps?: Partial<ProviderDeps>): ProviderConnector;
  /** The settings this provider lacks to take calls (variable names, e.g. `OPENAI_API_KEY`); empty when ready. */
  missingConfig(cfg: Config): string[];
}

/**
 * One ElevenLabs Conversational AI WebSocket for one call: the `ProviderLeg` the session drives.
 *
 * Lifecycle (docs/protocols/elevenlabs.md#conversation-socket): open the signed URL verbatim, send
 * `conversation_initiation_client_data` first, wait for `conversation_initiation_metadata` (always the first
 * server message: https://github.com/elevenlabs/packages/blob/main/packages/client/src/utils/WebSocketConnection.ts),
 * then stream. Barge-in follows the official client's rule (docs/protocols/elevenlabs.md#interruption,
 * https://github.com/elevenlabs/packages/blob/main/packages/client/src/VoiceConversation.ts): audio whose `event_id`
 * is below the last `interruption_event.event_id` is dropped. Close codes per
 * docs/protocols/elevenlabs.md#close-codes-and-errors (AsyncAPI `WebSocketCloseCode`): 1000 = the agent ended;
 * anything else is a provider failure.
 */
import { HeldAudio } from '../../audio/held-audio';
import type { Clock, Timer } from '../../clock';
import { CallbridgeError } from '../../errors';
import type { Logger } from '../../observability/logger';
import type { AudioFormat } from '../../audio/format';
import { decodeAudioPayload } from '../audio-payload';
import { Liveness, type LivenessOptions } from '../liveness';
import { SOCKET_CLOSED, SOCKET_CONNECTING, SOCKET_OPEN, type ProviderDeps, type ProviderSocket } from '../socket';
import type { ProviderEvent, ProviderLeg } from '../types';
import { Rejects, type RejectSink } from '../rejects';
import { encodePong, encodeToolResult, encodeUserAudio, readServerMessage, type ElInbound, type ElReject } from './codec';
import { closeError, upgradeError } from './close-errors';
import { DEFAULT_INPUT_FORMAT, fromElevenLabsFormat } from './formats';

/** `openSocket` and `clock` (ProviderDeps) are how the leg reaches the world: fakes in unit tests. */
export interface ElevenLabsLegOptions extends ProviderDeps {
  /** The `signed_url` exactly as the REST call returned it (never rewritten, docs/protocols/elevenlabs.md#hosts-and-regions). */
  signedUrl: string;
  /** The encoded `conversation_initiation_client_data` frame, sent on open. */
  initiation: string;
  log: Logger;
  /** Wait for `conversation_initiation_metadata` after starting to connect. Default 10 000 ms. */
  metadataTimeoutMs?: number;
  /** Wait for the server's close frame after `close()` before terminating. Default 2 000 ms. */
  closeTimeoutMs?: number;
  /** Largest server frame accepted (bytes). Default 1 MiB. */
  maxPayload?: number;
  /** Caller audio is dropped while more than this many bytes wait in the socket. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Stall watchdog once the conversation has started (../liveness.ts); ElevenLabs pings every few seconds. */
  liveness?: LivenessOptions;
}

type State = 'connecting' | 'ready' | 'closed';

/** Caller audio kept until metadata names the input format (docs/protocols/elevenlabs.md#conversation-socket): ~16 s of μ-law. */
const MAX_EARLY_BYTES = 128 * 1024;
/** ws rejects close reasons over 123 bytes (RFC 6455 §5.5). */
const MAX_CLOSE_REASON = 120;

/**
 * Open a leg and resolve once `conversation_initiation_metadata` has arrived. `onEvent` then gets
 * `ready` (formats, `conversationId`) just after the promise resolves, so the session already holds
 * the leg; events that arrive in between are held and delivered after `ready`, in order.
 * @throws CallbridgeError — 'auth' (upgrade 401/403, close 1008), 'connectivity' (refused, dropped,
 *   metadata timeout), 'server' (1002/1011, 5xx), 'bad_request' (unsupported audio format, contract errors).
 */
export function openElevenLabsLeg(opts: ElevenLabsLegOptions, onEvent: (ev: ProviderEvent) => void): Promise<ProviderLeg> {
  return new ElevenLabsLeg(opts, onEvent).opened;
}

class ElevenLabsLeg implements ProviderLeg {
  readonly name = 'elevenlabs' as const;
  /** ElevenLabs tracks what was spoken itself: there is no truncate message (docs/protocols/elevenlabs.md#interruption). */
  readonly caps = { truncate: false };
  readonly opened: Promise<ProviderLeg>;

  private readonly ws: ProviderSocket;
  private readonly log: Logger;
  private readonly clock: Clock;
  private state: State = 'connecting';
  /** Set by `close()`: nothing is emitted afterwards. */
  private silenced = false;
  private closing?: Promise<void>;
  private settle!: { resolve: (leg: ProviderLeg) => void; reject: (err: CallbridgeError) => void };
  private metadataTimer?: Timer;
  private readonly early = new HeldAudio(MAX_EARLY_BYTES);
  /** Events held between metadata and the deferred `ready`; `null` once delivered. */
  private held: ProviderEvent[] | null = null;
  private lastInterruptId = 0;
  private lastError?: { code?: number; errorType?: string; message?: string };
  private upgradeStatus?: number;
  private socketError?: Error;
  private readonly rejects: Rejects;
  private droppedChunks = 0;
  private liveness?: Liveness;
  private outputFormat?: AudioFormat;

  constructor(
    private readonly opts: ElevenLabsLegOptions,
    private readonly onEvent: (ev: ProviderEvent) => void,
  ) {
    this.log = opts.log;
    this.clock = opts.clock;
    this.rejects = new Rejects(opts.log, 'elevenlabs');
    this.opened = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    const ws = opts.openSocket(opts.signedUrl, { maxPayload: opts.maxPayload ?? 1024 * 1024 });
    this.ws = ws;
    ws.on('error', (err) => {
      // Always followed by 'close' (ws guarantees it); the close handler decides what it means.
      this.socketError = err;
      this.log.warn({ err: err.message }, 'elevenlabs socket error');
    });
    ws.on('unexpected-response', (_req, res) => {
      this.upgradeStatus = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => ws.send(opts.initiation));
    ws.on('message', (data, isBinary) => {
      this.liveness?.seen();
      if (isBinary) return this.rejects.reject('binary', 'binary frame');
      this.onMessage(readServerMessage(data.toString()));
    });
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    this.metadataTimer = this.clock.setTimeout(() => this.metadataTimeout(), opts.metadataTimeoutMs ?? 10_000);
  }

  sendAudio(payload: Buffer): void {
    if (this.state === 'ready') {
      const ws = this.ws;
      if (ws.readyState !== SOCKET_OPEN) return;
      if (ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 1024 * 1024)) {
        if (this.droppedChunks++ === 0) this.log.warn({ bufferedAmount: ws.bufferedAmount }, 'elevenlabs socket backlog: dropping caller audio');
        return;
      }
      ws.send(encodeUserAudio(payload));
      return;
    }
    if (this.state !== 'connecting') return;
    this.early.hold(payload);
  }

  watchRejects(sink: RejectSink): void {
    this.rejects.watch(sink);
  }

  sendToolResult(callId: string, output: string, isError: boolean): void {
    if (this.state !== 'ready' || this.ws.readyState !== SOCKET_OPEN) {
      this.log.warn({ toolCallId: callId }, 'tool result after the elevenlabs socket closed');
      return;
    }
    this.ws.send(encodeToolResult(callId, output, isError));
  }

  close(reason: string): Promise<void> {
    if (this.closing) return this.closing;
    this.silenced = true;
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    this.clock.clearTimeout(this.metadataTimer);
    this.liveness?.stop();
    const ws = this.ws;
    this.closing = new Promise<void>((resolve) => {
      if (ws.readyState === SOCKET_CLOSED) return resolve();
      const cap = this.clock.setTimeout(() => ws.terminate(), this.opts.closeTimeoutMs ?? 2000);
      ws.once('close', () => {
        this.clock.clearTimeout(cap);
        resolve();
      });
      if (ws.readyState === SOCKET_OPEN) ws.close(1000, Buffer.from(reason).subarray(0, MAX_CLOSE_REASON).toString());
      else if (ws.readyState === SOCKET_CONNECTING) ws.terminate();
    });
    if (wasConnecting) this.settle.reject(new CallbridgeError('CB_EL_CLOSED', 'ElevenLabs leg closed before the conversation started', 'connectivity'));
    return this.closing;
  }

  private emit(ev: ProviderEvent): void {
    if (this.silenced) return;
    if (this.held) {
      this.held.push(ev);
      return;
    }
    try {
      this.onEvent(ev);
    } catch (err) {
      this.log.error({ err: (err as Error).message, type: ev.type }, 'provider event handler threw');
    }
  }

  private deliverHeld(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const ev of held) this.emit(ev);
  }

  private onMessage(m: ElInbound | ElReject): void {
    switch (m.kind) {
      case 'reject':
        return this.rejects.reject(m.reason, m.type === undefined ? m.reason : `type ${m.type.slice(0, 64)}`);
      case 'audio':
        // Official client rule (docs/protocols/elevenlabs.md#interruption): play only audio with event_id ≥ the last interruption's.
        if (this.state !== 'ready' || m.eventId < this.lastInterruptId) return;
        return this.onAudio(m.base64, m.eventId);
      case 'ping':
        if (this.ws.readyState === SOCKET_OPEN) this.ws.send(encodePong(m.eventId));
        return;
      case 'metadata':
        return this.onMetadata(m);
      case 'error':
        this.lastError = { code: m.code, errorType: m.errorType, message: m.message };
        this.log.warn({ code: m.code, errorType: m.errorType, msg: m.message }, 'elevenlabs error event');
        return;
      default:
        break;
    }
    if (this.state !== 'ready') {
      if (this.state === 'connecting') this.log.warn({ kind: m.kind }, 'elevenlabs message before conversation metadata ignored');
      else this.log.debug({ kind: m.kind }, 'elevenlabs message after the leg closed ignored');
      return;
    }
    switch (m.kind) {
      case 'interruption':
        this.lastInterruptId = m.eventId;
        this.emit({ type: 'interruption' });
        return;
      case 'user_transcript':
        this.emit({ type: 'transcript', role: 'user', text: m.text });
        return;
      case 'agent_response':
        this.emit({ type: 'transcript', role: 'agent', text: m.text, ...itemOf(m.eventId) });
        return;
      case 'agent_response_correction':
        this.emit({ type: 'transcript', role: 'agent', text: m.text, correction: true, ...itemOf(m.eventId) });
        return;
      case 'client_tool_call':
        this.emit({ type: 'tool_call', id: m.id, name: m.name, args: m.params });
        return;
      case 'agent_tool_response':
        if (m.name === 'end_call') this.log.info({ toolCallId: m.id }, 'elevenlabs agent is ending the call (end_call)');
        else this.log.debug({ tool: m.name, isError: m.isError }, 'elevenlabs server tool response');
        return;
      case 'other':
        this.log.debug({ type: m.type }, 'elevenlabs event ignored');
        return;
    }
  }

  private onMetadata(m: Extract<ElInbound, { kind: 'metadata' }>): void {
    if (this.state !== 'connecting') {
      this.log.debug('duplicate conversation metadata ignored');
      return;
    }
    this.clock.clearTimeout(this.metadataTimer);
    const outputFormat = fromElevenLabsFormat(m.outputFormat);
    const inputFormat = fromElevenLabsFormat(m.inputFormat ?? DEFAULT_INPUT_FORMAT);
    if (!outputFormat || !inputFormat) {
      this.failConnect(
        new CallbridgeError(
          'CB_EL_FORMAT',
          `ElevenLabs agent audio format unsupported on calls (output ${String(m.outputFormat)}, input ${String(m.inputFormat)}); ` +
            'use ulaw_8000 or pcm_8000/16000/24000',
          'bad_request',
        ),
      );
      return;
    }
    this.state = 'ready';
    this.outputFormat = outputFormat;
    this.liveness = new Liveness(this.clock, this.ws, (quietMs) => this.stalled(quietMs), this.opts.liveness);
    this.held = [{ type: 'ready', inputFormat, outputFormat, conversationId: m.conversationId }];
    this.log.info({ conversationId: m.conversationId, output: m.outputFormat, input: m.inputFormat }, 'elevenlabs conversation started');
    for (const chunk of this.early.take()) this.sendAudio(chunk);
    this.settle.resolve(this);
    setImmediate(() => this.deliverHeld());
  }

  /** Audio that does not fit the metadata's `agent_output_audio_format` is dropped and counted (./audio-payload.ts). */
  private onAudio(base64: string, eventId: number): void {
    const payload = decodeAudioPayload(base64, this.outputFormat!);
    if (typeof payload === 'string') return this.rejects.reject('bad_audio', `audio chunk: ${payload}`);
    this.emit({ type: 'audio', payload, itemId: String(eventId) });
  }

  private metadataTimeout(): void {
    if (this.state !== 'connecting') return;
    this.failConnect(new CallbridgeError('CB_EL_TIMEOUT', 'ElevenLabs sent no conversation metadata in time', 'connectivity'));
  }

  /** Reject `connect()` and drop the socket without emitting anything. */
  private failConnect(err: CallbridgeError): void {
    this.state = 'closed';
    this.silenced = true;
    this.clock.clearTimeout(this.metadataTimer);
    this.settle.reject(err);
    this.closing = new Promise<void>((resolve) => {
      if (this.ws.readyState === SOCKET_CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }

  /** The watchdog heard nothing, not even a pong: a provider failure (failover or apology), and the socket is dropped. */
  private stalled(quietMs: number): void {
    if (this.state !== 'ready' || this.silenced) return;
    this.log.warn({ quietMs }, 'elevenlabs socket stalled: no message or pong');
    this.emit({ type: 'error', error: new CallbridgeError('CB_EL_STALLED', `ElevenLabs sent nothing for ${quietMs} ms`, 'connectivity'), fatal: true });
    this.silenced = true;
    this.state = 'closed';
    this.ws.terminate();
  }

  private onClose(code: number, reason: string): void {
    this.clock.clearTimeout(this.metadataTimer);
    this.liveness?.stop();
    const was = this.state;
    this.state = 'closed';
    if (this.silenced) return;
    const ctx = { code, reason, lastError: this.lastError, socketError: this.socketError };
    if (was === 'connecting') {
      this.silenced = true;
      this.settle.reject(this.upgradeStatus !== undefined ? upgradeError(this.upgradeStatus) : closeError(ctx, true));
      return;
    }
    this.log.info({ code, reason, errorType: this.lastError?.errorType }, 'elevenlabs socket closed by the server');
    if (code === 1000) this.emit({ type: 'end', reason: this.lastError?.errorType ?? 'agent_ended' });
    else this.emit({ type: 'error', error: closeError(ctx, false), fatal: true });
  }
}

function itemOf(eventId: number | undefined): { itemId?: string } {
  return eventId === undefined ? {} : { itemId: String(eventId) };
}

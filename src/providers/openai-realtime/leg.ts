/**
 * One call's OpenAI Realtime (GA) WebSocket: handshake (session.created → session.update →
 * session.updated), caller audio in, agent audio out, barge-in truncation and function calls.
 * Wire facts: docs/protocols/openai-realtime.md (#event-order, #client-events, #server-events, #barge-in-and-truncation,
 * #function-calls, #errors-and-limits); types from `openai` 6.49.0 `resources/realtime/realtime.d.ts`;
 * https://platform.openai.com/docs/guides/realtime-conversations (truncation, function calling).
 */
import { bytesPerMs } from '../../audio/format';
import { HeldAudio } from '../../audio/held-audio';
import type { Clock, Timer } from '../../clock';
import { CallbridgeError } from '../../errors';
import type { Logger } from '../../observability/logger';
import { decodeAudioPayload } from '../audio-payload';
import { Liveness, type LivenessOptions } from '../liveness';
import { Rejects, type RejectSink } from '../rejects';
import { SOCKET_CLOSED, SOCKET_CONNECTING, SOCKET_OPEN, type ProviderSocket, type SocketData } from '../socket';
import type { ProviderEvent, ProviderLeg } from '../types';
import { closeError, serverError, socketError, timeoutError, upgradeError } from './errors';
import { confirmsFormats, greetingEvents, type SessionPlan } from './session-config';
import { functionCallOutput, ToolTurns } from './tool-turns';
import {
  AgentTranscriptSchema,
  BOOKKEEPING_EVENTS,
  encodeAppend,
  ErrorEventSchema,
  FunctionCallDoneSchema,
  ResponseEventSchema,
  SessionEventSchema,
  UserTranscriptSchema,
  type RealtimeClientEvent,
  type RealtimeError,
  type RealtimeServerEvent,
} from './wire';

/** Caller audio held while the session is being configured (bytes); the oldest is dropped first. */
const MAX_EARLY_BYTES = 512 * 1024;
/** Outbound backlog above which caller frames are dropped instead of queued (bytes). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Longest wait for the server's close frame before the socket is destroyed (ms). */
const CLOSE_CAP_MS = 2000;
/** Per-item / per-response memory kept for late deltas and truncates. */
const MAX_TRACKED = 64;

type State = 'handshake' | 'configured' | 'ready' | 'closing' | 'closed';

export interface LegOptions {
  plan: SessionPlan;
  /** Greeting text (`''` → no greeting). */
  firstMessage: string;
  /** Handshake deadline (ms) from socket creation to `session.updated`. */
  timeoutMs: number;
  log: Logger;
  onEvent: (ev: ProviderEvent) => void;
  /** Handshake deadline and close cap run on this clock. */
  clock: Clock;
  /** Stall watchdog once ready (../liveness.ts): OpenAI is quiet while the caller is, so it pings. */
  liveness?: LivenessOptions;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as K);
}

/**
 * A `ProviderLeg` over an already-created client socket (`ws`, or a fake in unit tests). Construct it in the same tick as the
 * socket (its listeners include `'error'`), then await `ready`: it resolves on a `session.updated` that confirms the planned
 * formats and rejects with a CallbridgeError otherwise ('auth' for HTTP 401/403 or `invalid_api_key`/close 3000, 'connectivity'
 * for refused sockets, closes and the deadline, 'bad_request' for rejected updates or format mismatches). The `ready`
 * ProviderEvent, the flush of early caller audio and the greeting follow on the next macrotask, once the caller holds the leg.
 * Messages it drops as malformed go to `watchRejects` (../rejects.ts).
 */
export class OpenAiLeg implements ProviderLeg {
  readonly name = 'openai' as const;
  readonly caps = { truncate: true };
  /** Resolves when the session is configured; rejects with a CallbridgeError. */
  readonly ready: Promise<void>;

  private state: State = 'handshake';
  private resolveReady!: () => void;
  private rejectReady!: (err: CallbridgeError) => void;
  private readonly timer: Timer;
  private httpStatus?: number;
  private lastError?: Pick<RealtimeError, 'type' | 'code' | 'message' | 'param'>;
  private expired = false;
  private readonly early = new HeldAudio(MAX_EARLY_BYTES);
  private droppedFrames = 0;
  private readonly rejects: Rejects;
  private readonly badShape = (type: string): void => this.rejects.reject('bad_shape', `type ${type}`);
  /** Bytes of agent audio forwarded per item (docs/protocols/openai-realtime.md#barge-in-and-truncation). */
  private readonly sentBytes = new Map<string, number>();
  /** Responses whose later deltas are dropped (cancelled or barged in: docs/protocols/openai-realtime.md#barge-in-and-truncation). */
  private readonly droppedResponses = new Map<string, true>();
  private readonly cutItems = new Map<string, true>();
  private activeResponse?: string;
  private createRequested = false;
  private createOwed = false;
  private readonly tools = new ToolTurns();
  private closing?: Promise<void>;
  private readonly bytesPerMs: number;
  private liveness?: Liveness;

  constructor(
    private readonly ws: ProviderSocket,
    private readonly opts: LegOptions,
  ) {
    this.bytesPerMs = bytesPerMs(opts.plan.format);
    this.rejects = new Rejects(opts.log, 'openai');
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined); // the connector awaits it; never an unhandled rejection
    this.timer = opts.clock.setTimeout(
      () => this.fail(timeoutError(opts.timeoutMs, this.state === 'handshake' ? 'session.created/session.updated' : 'start')),
      opts.timeoutMs,
    );
    ws.on('error', (err) => this.onSocketError(err));
    ws.on('unexpected-response', (_req, res) => {
      this.httpStatus = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  // ---- ProviderLeg ----

  /** Caller audio in the negotiated input format → `input_audio_buffer.append` (./wire.ts `encodeAppend`). */
  sendAudio(payload: Buffer): void {
    if (this.state === 'handshake' || this.state === 'configured') return this.early.hold(payload);
    if (this.state !== 'ready') return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      if (this.droppedFrames++ % 50 === 0)
        this.opts.log.warn({ dropped: this.droppedFrames, buffered: this.ws.bufferedAmount }, 'openai socket backlogged; dropping caller audio');
      return;
    }
    if (this.ws.readyState === SOCKET_OPEN) this.ws.send(encodeAppend(payload));
  }

  watchRejects(sink: RejectSink): void {
    this.rejects.watch(sink);
  }

  /**
   * `conversation.item.create` `function_call_output`; `isError` wraps a non-JSON output as
   * `{"error": output}` (no error flag exists on the item: docs/protocols/openai-realtime.md#function-calls). After every call of that
   * response is answered and its `response.done` arrived, one `response.create` follows.
   */
  sendToolResult(callId: string, output: string, isError: boolean): void {
    if (this.state !== 'ready') return;
    this.send(functionCallOutput(callId, output, isError));
    this.tools.answered(callId);
    this.maybeCreateResponse();
  }

  /**
   * `conversation.item.truncate` at `playedMs` (rounded, clamped to [0, ms forwarded for the item]: the server
   * errors on an overshoot, https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/truncate).
   * Later deltas of the item are dropped.
   */
  truncate(itemId: string, playedMs: number): void {
    if (this.state !== 'ready') return;
    const bytes = this.sentBytes.get(itemId);
    if (bytes === undefined) {
      this.opts.log.debug({ itemId }, 'truncate of an item with no audio sent: skipped');
      return;
    }
    remember(this.cutItems, itemId, true);
    const sentMs = Math.floor(bytes / this.bytesPerMs);
    const ms = Math.min(sentMs, Math.max(0, Math.round(Number.isFinite(playedMs) ? playedMs : 0)));
    this.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: ms });
  }

  /** Close with 1000 (idempotent); resolves once closed, destroying the socket after 2 s. No events after. */
  close(reason: string): Promise<void> {
    if (this.closing) return this.closing;
    const wasHandshake = this.state === 'handshake' || this.state === 'configured';
    this.state = 'closing';
    this.opts.clock.clearTimeout(this.timer);
    this.liveness?.stop();
    if (wasHandshake) this.rejectReady(new CallbridgeError('CB_OPENAI_CLOSED', `closed before ready: ${reason}`, 'application'));
    this.closing = new Promise<void>((resolve) => {
      if (this.ws.readyState === SOCKET_CLOSED) return resolve();
      const cap = this.opts.clock.setTimeout(() => this.ws.terminate(), CLOSE_CAP_MS);
      this.ws.once('close', () => {
        this.opts.clock.clearTimeout(cap);
        resolve();
      });
      if (this.ws.readyState === SOCKET_CONNECTING) this.ws.terminate();
      else this.ws.close(1000, Buffer.from(reason).subarray(0, 120).toString());
    }).then(() => {
      this.state = 'closed';
    });
    return this.closing;
  }

  // ---- socket events ----

  private send(ev: RealtimeClientEvent): void {
    if (this.ws.readyState === SOCKET_OPEN) this.ws.send(JSON.stringify(ev));
  }

  private emit(ev: ProviderEvent): void {
    if (this.state === 'ready') this.opts.onEvent(ev);
  }

  private fail(err: CallbridgeError): void {
    if (this.state !== 'handshake' && this.state !== 'configured') return;
    this.state = 'closed';
    this.opts.clock.clearTimeout(this.timer);
    this.rejectReady(err);
    this.ws.terminate();
  }

  private onSocketError(err: Error): void {
    if (this.state === 'handshake' || this.state === 'configured') {
      this.fail(this.httpStatus !== undefined ? upgradeError(this.httpStatus) : socketError(err));
    } else {
      this.opts.log.warn({ err: err.message }, 'openai socket error');
    }
  }

  private onClose(code: number, reason: string): void {
    this.opts.clock.clearTimeout(this.timer);
    this.liveness?.stop();
    if (this.state === 'handshake' || this.state === 'configured') {
      this.fail(this.httpStatus !== undefined ? upgradeError(this.httpStatus) : closeError(code, reason, this.lastError));
      return;
    }
    if (this.state !== 'ready') return; // closing/closed: our own close
    this.opts.log.warn({ code, reason, lastError: this.lastError?.code }, 'openai closed the session');
    if (this.expired) this.opts.onEvent({ type: 'end', reason: 'session_expired' });
    else this.opts.onEvent({ type: 'error', error: closeError(code, reason, this.lastError), fatal: true });
    this.state = 'closed';
  }

  private onMessage(data: SocketData, isBinary: boolean): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.liveness?.seen();
    let msg: unknown;
    try {
      msg = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
    } catch {
      return this.rejects.reject('not_json', 'not JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.rejects.reject('not_json', 'not a JSON object');
    if (typeof (msg as { type?: unknown }).type !== 'string') return this.rejects.reject('bad_shape', 'no type');
    const ev = msg as RealtimeServerEvent;
    // Hot path first, narrowed by hand (no schema validation per audio delta).
    if (ev.type === 'response.output_audio.delta') return this.onAudioDelta(ev.delta, ev.item_id, ev.response_id);
    switch (ev.type) {
      case 'session.created':
      case 'session.updated':
        return this.onSession(msg);
      case 'error':
        return this.onError(msg);
      case 'input_audio_buffer.speech_started':
        // Server VAD barge-in trigger (docs/protocols/openai-realtime.md#barge-in-and-truncation): with interrupt_response the server cancels
        // the active response itself; deltas still in flight are dropped here.
        if (this.activeResponse) remember(this.droppedResponses, this.activeResponse, true);
        return this.emit({ type: 'interruption' });
      case 'response.created':
      case 'response.done':
        return this.onResponse(msg);
      case 'response.function_call_arguments.done':
        return this.onFunctionCall(msg);
      case 'conversation.item.input_audio_transcription.completed': {
        const t = UserTranscriptSchema.safeParse(msg);
        if (t.success) this.emit({ type: 'transcript', role: 'user', text: t.data.transcript });
        else this.badShape(ev.type);
        return;
      }
      case 'response.output_audio_transcript.done': {
        const t = AgentTranscriptSchema.safeParse(msg);
        if (t.success) this.emit({ type: 'transcript', role: 'agent', text: t.data.transcript, itemId: t.data.item_id });
        else this.badShape(ev.type);
        return;
      }
      case 'conversation.item.truncated':
        this.opts.log.debug({ itemId: ev.item_id, audioEndMs: ev.audio_end_ms }, 'openai truncated item');
        return;
      default:
        if (!BOOKKEEPING_EVENTS.has(ev.type)) this.rejects.reject('unknown_type', `type ${String(ev.type).slice(0, 64)}`);
    }
  }

  private onAudioDelta(delta: unknown, itemId: unknown, responseId: unknown): void {
    if (typeof delta !== 'string' || typeof itemId !== 'string') return this.badShape('response.output_audio.delta');
    if (this.state !== 'ready') return;
    if ((typeof responseId === 'string' && this.droppedResponses.has(responseId)) || this.cutItems.has(itemId)) return;
    const payload = decodeAudioPayload(delta, this.opts.plan.format);
    if (typeof payload === 'string') return this.rejects.reject('bad_audio', `audio delta: ${payload}`);
    remember(this.sentBytes, itemId, (this.sentBytes.get(itemId) ?? 0) + payload.length);
    this.opts.onEvent({ type: 'audio', payload, itemId });
  }

  private onSession(msg: unknown): void {
    const s = SessionEventSchema.safeParse(msg);
    if (!s.success) return this.badShape('session');
    if (s.data.type === 'session.created') {
      if (this.state === 'handshake') this.send(this.opts.plan.update);
      return;
    }
    if (this.state !== 'handshake') return; // later updates: nothing asked, nothing to check
    if (!confirmsFormats(s.data.session.audio as Parameters<typeof confirmsFormats>[0], this.opts.plan)) {
      const got = `${s.data.session.audio?.input?.format?.type}/${s.data.session.audio?.output?.format?.type}`;
      this.fail(
        new CallbridgeError('CB_OPENAI_FORMAT', `OpenAI Realtime did not accept ${this.opts.plan.wire.type} audio (session.updated has ${got})`, 'bad_request'),
      );
      return;
    }
    this.state = 'configured';
    this.opts.clock.clearTimeout(this.timer);
    this.resolveReady();
    setImmediate(() => this.start());
  }

  /** After connect() resolved: announce ready, flush early caller audio, greet (docs/protocols/openai-realtime.md#event-order, #client-events). */
  private start(): void {
    if (this.state !== 'configured') return;
    this.state = 'ready';
    this.liveness = new Liveness(this.opts.clock, this.ws, (quietMs) => this.stalled(quietMs), this.opts.liveness);
    const f = this.opts.plan.format;
    this.opts.onEvent({ type: 'ready', inputFormat: f, outputFormat: f });
    for (const chunk of this.early.take()) this.sendAudio(chunk);
    const greet = greetingEvents(this.opts.firstMessage);
    for (const ev of greet) this.send(ev);
    if (greet.length) this.createRequested = true;
  }

  /** The watchdog heard nothing, not even a pong: a provider failure (failover or apology), and the socket is dropped. */
  private stalled(quietMs: number): void {
    if (this.state !== 'ready') return;
    this.opts.log.warn({ quietMs }, 'openai socket stalled: no event or pong');
    this.opts.onEvent({ type: 'error', error: new CallbridgeError('CB_OPENAI_STALLED', `OpenAI sent nothing for ${quietMs} ms`, 'connectivity'), fatal: true });
    this.state = 'closed';
    this.ws.terminate();
  }

  private onError(msg: unknown): void {
    const e = ErrorEventSchema.safeParse(msg);
    if (!e.success) this.badShape('error');
    const err = e.success ? e.data.error : { type: 'unknown', message: 'unreadable error event', code: null, param: null };
    this.lastError = err;
    if (this.state === 'handshake' || this.state === 'configured') {
      this.fail(serverError(err));
      return;
    }
    if (err.code === 'session_expired') this.expired = true;
    if (err.code === 'conversation_already_has_active_response') this.createRequested = false;
    this.opts.log.warn({ code: err.code, errType: err.type, param: err.param, msg: err.message }, 'openai error event');
  }

  private onResponse(msg: unknown): void {
    const r = ResponseEventSchema.safeParse(msg);
    if (!r.success) return this.badShape('response');
    const { id, status, output } = r.data.response;
    if (r.data.type === 'response.created') {
      this.activeResponse = id;
      this.createRequested = false;
      return;
    }
    if (this.activeResponse === id) this.activeResponse = undefined;
    if (status === 'cancelled' || status === 'failed') remember(this.droppedResponses, id, true);
    if (status === 'failed') this.opts.log.warn({ responseId: id, details: r.data.response.status_details }, 'openai response failed');
    const callIds = (output ?? []).flatMap((o) => (o.type === 'function_call' && o.call_id ? [o.call_id] : []));
    this.tools.responseDone(id, callIds);
    this.maybeCreateResponse();
  }

  private onFunctionCall(msg: unknown): void {
    const f = FunctionCallDoneSchema.safeParse(msg);
    if (!f.success) return this.badShape('response.function_call_arguments.done');
    const { call_id, name, arguments: raw, response_id } = f.data;
    this.tools.called(response_id, call_id);
    let args: unknown = raw;
    try {
      args = JSON.parse(raw);
    } catch {
      this.opts.log.warn({ tool: name }, 'openai function arguments are not JSON; passing the raw string');
    }
    this.emit({ type: 'tool_call', id: call_id, name, args });
  }

  /** One `response.create` once tool outputs are complete, never while a response is active (docs/protocols/openai-realtime.md#function-calls). */
  private maybeCreateResponse(): void {
    if (this.tools.takeDue()) this.createOwed = true;
    if (!this.createOwed || this.activeResponse !== undefined || this.createRequested) return;
    this.createOwed = false;
    this.createRequested = true;
    this.send({ type: 'response.create' });
  }
}

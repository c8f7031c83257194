/**
 * One emulated ElevenLabs conversation on an accepted WebSocket: metadata first, a paced greeting,
 * energy VAD on caller audio, scripted transcripts and replies, barge-in with `interruption` and
 * `agent_response_correction`, pings, client tools, and the real service's endings and rejections
 * (docs/protocols/elevenlabs.md#conversation-socket to #close-codes-and-errors, and #emulator;
 * https://elevenlabs.io/docs/eleven-agents/customization/events/client-events).
 */
import type { WebSocket } from 'ws';
import type { ElErrorType, ElInitiationMessage } from '../../src/providers/elevenlabs/wire';
import { cutText, pick, type AgentTurn } from './agent-script';
import { decodeCallerAudio, encodeAgentAudio, formatInfo } from './elevenlabs-audio';
import type { ElevenLabsSeen, ToolResultSeen } from './elevenlabs-seen';
import { ERROR_TYPE_FOR_CODE, type ConversationOptions } from './elevenlabs-conversation-options';
import { EnergyVad } from './vad';
import { stallSocket } from './stall';

export type { ConversationOptions };
export { cutText };

interface Playing {
  eventId: number;
  text: string;
  audio: Buffer;
  sentBytes: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
}

type Json = Record<string, unknown>;

export class EmulatedConversation {
  /** Resolves when the socket has closed and every timer is cleared. */
  readonly done: Promise<void>;
  private nextEventId = 0;
  private started = false;
  private gotInit = false;
  private initWait?: NodeJS.Timeout;
  private ended = false;
  private serverClosing = false;
  private firstMessage: string | undefined;
  private dynamicVariables: Record<string, unknown> = {};
  private readonly vad: EnergyVad;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pingTimer?: NodeJS.Timeout;
  private receiveTimer?: NodeJS.Timeout;
  private playing: Playing | null = null;
  private playoutWaiters: (() => void)[] = [];
  private userTurnId = 0;
  private userTurns = 0;
  private replies = 0;
  private pendingReply?: NodeJS.Timeout;
  private lastRttMs: number | null = null;
  private readonly pings = new Map<number, number>();
  private readonly tools = new Map<string, { t0: number; resolve: (r: ToolResultSeen) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly ws: WebSocket,
    private readonly o: ConversationOptions,
    private readonly seen: ElevenLabsSeen,
  ) {
    this.vad = new EnergyVad({ sampleRate: formatInfo(o.inputFormat).sampleRate, ...o.vad });
    this.done = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.ended = true;
        seen.closes.push({ code, reason: reason.toString(), by: this.serverClosing ? 'server' : 'client' });
        const now = Date.now();
        for (const [id, at] of this.pings) if (now - at > o.pingIntervalMs) seen.pongs.missing.push(id);
        for (const t of this.timers) clearTimeout(t);
        clearInterval(this.pingTimer);
        clearTimeout(this.receiveTimer);
        for (const p of this.tools.values()) {
          clearTimeout(p.timer);
          p.reject(new Error('conversation closed before the client_tool_result'));
        }
        this.tools.clear();
        if (this.playing?.timer) clearTimeout(this.playing.timer);
        this.finishPlayout();
        resolve();
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => this.onMessage(data.toString(), isBinary));
    this.initWait = this.later(o.initWaitMs, () => this.start());
    this.touch();
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Send any message (or raw text) as the server would. */
  send(msg: Json | string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Send `error{code, error_type}` then close with `code` (docs/protocols/elevenlabs.md#close-codes-and-errors). */
  fail(code: number, errorType: ElErrorType, message: string): void {
    if (this.ended || this.serverClosing) return;
    this.seen.errors.push({ code, error_type: errorType, message });
    this.send({ type: 'error', error_event: { code, message, error_type: errorType } });
    this.closeWith(code, errorType);
  }

  closeWith(code: number, reason = ''): void {
    if (this.ended || this.serverClosing) return;
    if (code === 1006) return this.drop();
    this.serverClosing = true;
    this.ws.close(code, reason);
  }

  /** Fault: hang with the connection up (no audio, no pings, nothing read: ./stall.ts). */
  stall(): void {
    clearInterval(this.pingTimer);
    stallSocket(this.ws);
  }

  /** Drop the TCP connection at once (no close frame: the client sees 1006). */
  drop(): void {
    if (this.ended) return;
    this.serverClosing = true;
    this.ws.terminate();
  }

  /** Resolves once no agent audio is sent or still playing out. */
  playout(): Promise<void> {
    return this.playing ? new Promise((r) => this.playoutWaiters.push(r)) : Promise.resolve();
  }

  /** Agent-side hang-up: finish the audio, report the `end_call` system tool, close 1000 (docs/protocols/elevenlabs.md#client-tools). */
  async hangUp(): Promise<void> {
    await this.playout();
    if (this.ended) return;
    this.send({
      type: 'agent_tool_response',
      agent_tool_response: {
        tool_name: 'end_call',
        tool_call_id: `sys_${this.nextEventId + 1}`,
        tool_type: 'system',
        is_error: false,
        is_called: true,
        event_id: this.id(),
      },
    });
    this.closeWith(1000, 'agent ended the call');
    await this.done;
  }

  /**
   * Scripted `client_tool_call` (https://elevenlabs.io/docs/eleven-agents/customization/tools/client-tools);
   * resolves with the matching `client_tool_result`.
   */
  callTool(name: string, parameters: Record<string, unknown>): Promise<ToolResultSeen> {
    const toolCallId = `toolu_${Math.random().toString(36).slice(2, 12)}`;
    this.seen.toolCalls.push({ tool_call_id: toolCallId, tool_name: name, parameters });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.tools.delete(toolCallId);
        this.seen.toolTimeouts.push(toolCallId);
        reject(new Error(`no client_tool_result for ${toolCallId} within ${this.o.toolTimeoutMs} ms`));
      }, this.o.toolTimeoutMs);
      this.tools.set(toolCallId, { t0: Date.now(), resolve, reject, timer });
      this.send({ type: 'client_tool_call', client_tool_call: { tool_name: name, tool_call_id: toolCallId, parameters, event_id: this.id() } });
    });
  }

  private id(): number {
    return ++this.nextEventId;
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.ended) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** No client input for `receiveTimeoutMs` → 1002 `transport_receive_timeout` (docs/protocols/elevenlabs.md#close-codes-and-errors). */
  private touch(): void {
    clearTimeout(this.receiveTimer);
    this.receiveTimer = setTimeout(() => this.fail(1002, 'transport_receive_timeout', 'No user input received'), this.o.receiveTimeoutMs);
  }

  private onMessage(text: string, isBinary: boolean): void {
    if (this.ended || this.serverClosing) return;
    this.touch();
    if (isBinary) return this.fail(1008, 'invalid_message', 'Binary frames are not supported');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.fail(1008, 'invalid_message', 'Invalid message received');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.fail(1008, 'invalid_message', 'Invalid message received');
    const m = msg as Json;
    if ('user_audio_chunk' in m) {
      if (typeof m.user_audio_chunk !== 'string') return this.fail(1008, 'invalid_message', 'user_audio_chunk must be a base64 string');
      return this.onAudio(Buffer.from(m.user_audio_chunk, 'base64'));
    }
    switch (m.type) {
      case 'conversation_initiation_client_data':
        return this.onInit(m as unknown as ElInitiationMessage);
      case 'pong':
        if (typeof m.event_id !== 'number') return this.fail(1008, 'missing_fields', 'pong requires event_id');
        return this.onPong(m.event_id);
      case 'client_tool_result':
        if (typeof m.tool_call_id !== 'string' || typeof m.result !== 'string' || typeof m.is_error !== 'boolean') {
          return this.fail(1008, 'missing_fields', 'client_tool_result requires tool_call_id, result (string) and is_error');
        }
        return this.onToolResult(m.tool_call_id, m.result, m.is_error);
      case 'contextual_update':
      case 'user_message':
      case 'user_activity':
      case 'feedback':
        this.seen.otherMessages.push(m.type);
        return;
      default:
        return this.fail(1008, 'invalid_message', `Unknown message type ${String(m.type)}`);
    }
  }

  private onInit(init: ElInitiationMessage): void {
    if (this.gotInit) {
      this.seen.secondInits++;
      return;
    }
    this.gotInit = true;
    clearTimeout(this.initWait);
    this.seen.inits.push(init);
    const agent = init.conversation_config_override?.agent;
    const tts = init.conversation_config_override?.tts;
    const allow = this.o.allowOverrides;
    const forbidden = [
      agent?.prompt?.prompt !== undefined && !allow.prompt && 'agent.prompt.prompt',
      agent?.first_message !== undefined && !allow.firstMessage && 'agent.first_message',
      agent?.language !== undefined && !allow.language && 'agent.language',
      tts?.voice_id !== undefined && !allow.voice && 'tts.voice_id',
    ].filter(Boolean);
    if (forbidden.length) return this.fail(1008, 'override_error', `Override for field ${forbidden.join(', ')} is not allowed by config`);
    this.firstMessage = agent?.first_message;
    this.dynamicVariables = init.dynamic_variables ?? {};
    this.later(this.o.metadataDelayMs, () => this.start());
  }

  /** Metadata first, then timers and the greeting (docs/protocols/elevenlabs.md#conversation-socket). */
  private start(): void {
    if (this.started) return;
    this.started = true;
    const { conversationId, outputFormat, inputFormat } = this.o;
    this.seen.conversations.push({ conversationId, inputFormat, outputFormat });
    this.send({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: {
        conversation_id: conversationId,
        agent_output_audio_format: outputFormat,
        user_input_audio_format: inputFormat,
      },
    });
    this.pingTimer = setInterval(() => this.ping(), this.o.pingIntervalMs);
    if (this.o.maxDurationMs !== undefined)
      this.later(this.o.maxDurationMs, () => this.fail(1000, 'max_duration_exceeded', 'Maximum conversation duration exceeded'));
    if (this.o.closeAfterMs !== undefined) {
      const code = this.o.closeCode;
      this.later(this.o.closeAfterMs, () =>
        code === 1000 || code === 1006 ? this.closeWith(code) : this.fail(code, ERROR_TYPE_FOR_CODE[code] ?? 'unknown', 'Injected failure'),
      );
    }
    const greeting = this.firstMessage ?? this.o.script.greeting.text;
    if (greeting !== '') this.speak(this.o.script.greeting, this.fill(greeting));
  }

  private fill(text: string): string {
    return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name: string) => (name in this.dynamicVariables ? String(this.dynamicVariables[name]) : all));
  }

  private ping(): void {
    const id = this.id();
    this.pings.set(id, Date.now());
    this.seen.pingsSent++;
    this.send({ type: 'ping', ping_event: { event_id: id, ping_ms: this.lastRttMs } });
  }

  private onPong(id: number): void {
    const at = this.pings.get(id);
    if (at === undefined) return void this.seen.pongs.unknown.push(id);
    this.pings.delete(id);
    this.lastRttMs = Date.now() - at;
    this.seen.pongs.matched++;
    if (this.lastRttMs > this.o.pingIntervalMs) this.seen.pongs.late++;
  }

  private onToolResult(id: string, result: string, isError: boolean): void {
    const p = this.tools.get(id);
    const r: ToolResultSeen = { tool_call_id: id, result, is_error: isError, ms: p ? Date.now() - p.t0 : -1, known: !!p };
    this.seen.toolResults.push(r);
    if (!p) return;
    clearTimeout(p.timer);
    this.tools.delete(id);
    p.resolve(r);
    if (this.o.replyAfterTool) this.reply();
  }

  private onAudio(buf: Buffer): void {
    this.seen.chunks++;
    this.seen.audioBytes += buf.length;
    if (!this.started) {
      this.seen.chunksBeforeMetadata++;
      this.seen.bytesBeforeMetadata += buf.length;
      return;
    }
    for (const ev of this.vad.push(decodeCallerAudio(buf, this.o.inputFormat))) {
      if (ev.type === 'speech_start') this.onSpeechStart();
      else this.onSpeechEnd();
    }
  }

  /** Caller started talking: a barge-in if agent audio is still sent or playing (docs/protocols/elevenlabs.md#interruption). */
  private onSpeechStart(): void {
    this.seen.speechStarts++;
    clearTimeout(this.pendingReply);
    const p = this.playing;
    if (!p) {
      this.userTurnId = this.id();
      return;
    }
    if (p.timer) clearTimeout(p.timer);
    this.finishPlayout();
    const eventId = this.id();
    this.userTurnId = eventId;
    const share = p.sentBytes / p.audio.length;
    const correctedText = cutText(p.text, share);
    const bpm = formatInfo(this.o.outputFormat).bytesPerMs;
    this.seen.interruptions.push({
      eventId,
      turnEventId: p.eventId,
      sentAudioMs: p.sentBytes / bpm,
      sentBytes: p.sentBytes,
      totalAudioMs: p.audio.length / bpm,
      correctedText,
    });
    this.send({ type: 'interruption', interruption_event: { event_id: eventId } });
    this.send({
      type: 'agent_response_correction',
      agent_response_correction_event: { original_agent_response: p.text, corrected_agent_response: correctedText, event_id: p.eventId },
    });
  }

  /** End of caller turn: scripted `user_transcript` with the turn's id, then the reply (item 8). */
  private onSpeechEnd(): void {
    const text = pick(this.o.script.userTranscripts, this.userTurns++);
    this.seen.userTranscripts.push(text);
    this.send({ type: 'user_transcript', user_transcription_event: { user_transcript: text, event_id: this.userTurnId } });
    this.pendingReply = this.later(200 / this.o.speed, () => this.reply());
  }

  private reply(): void {
    const turn = pick(this.o.script.replies, this.replies++);
    this.speak(turn, turn.text);
  }

  /** `agent_response` then `audio` chunks with the same `event_id`, paced at `speed` (item 6). */
  private speak(turn: AgentTurn, text: string): void {
    if (this.playing?.timer) clearTimeout(this.playing.timer);
    const eventId = this.id();
    this.seen.agentResponses.push({ eventId, text });
    this.send({ type: 'agent_response', agent_response_event: { agent_response: text, event_id: eventId } });
    const p: Playing = { eventId, text, audio: encodeAgentAudio(turn.samples, this.o.outputFormat), sentBytes: 0, startedAt: Date.now() };
    this.playing = p;
    this.sendChunk(p, 0);
  }

  private sendChunk(p: Playing, i: number): void {
    if (this.ended || this.playing !== p) return;
    const bpm = formatInfo(this.o.outputFormat).bytesPerMs;
    const chunkBytes = Math.round(this.o.chunkMs * bpm);
    const at = i * chunkBytes;
    if (at >= p.audio.length) {
      // All sent: still "playing" until its play-out time has passed.
      const endAt = p.startedAt + p.audio.length / bpm / this.o.speed;
      p.timer = setTimeout(() => this.playing === p && this.finishPlayout(), Math.max(0, endAt - Date.now()));
      return;
    }
    const chunk = p.audio.subarray(at, at + chunkBytes);
    p.sentBytes += chunk.length;
    this.send({ type: 'audio', audio_event: { audio_base_64: chunk.toString('base64'), event_id: p.eventId } });
    const due = p.startedAt + ((i + 1) * this.o.chunkMs) / this.o.speed;
    p.timer = setTimeout(() => this.sendChunk(p, i + 1), Math.max(0, due - Date.now()));
  }

  private finishPlayout(): void {
    this.playing = null;
    const waiters = this.playoutWaiters;
    this.playoutWaiters = [];
    for (const w of waiters) w();
  }
}

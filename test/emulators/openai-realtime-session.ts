/**
 * OpenAI Realtime emulator, part 3 of 4: one GA session on one socket (docs/protocols/openai-realtime.md#emulator):
 * config, appended audio through an energy VAD on the appended-audio clock, user items
 * and transcription, responses, barge-in cancellation, truncation, tool round trips, the session cap.
 */
import type { RealtimeError, RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type WebSocket from 'ws';
import { EnergyVad } from './vad';
import { pick } from './agent-script';
import {
  applySessionUpdate,
  asWireSession,
  decodeInput,
  defaultSession,
  encodeClip,
  formatBytesPerMs,
  isObj,
  parseClientEvent,
  type Obj,
  type EmuSession,
} from './openai-realtime-config';
import { ResponseRun, type ResponsePlan } from './openai-realtime-response';
import type { EmulatorShared } from './openai-realtime';

interface Item {
  id: string;
  type: 'message' | 'function_call' | 'function_call_output';
  role?: string;
  audioMs: () => number;
}

/** A tool call the test asked for, resolved with the bridge's `function_call_output`. */
export interface ToolCallResult {
  callId: string;
  output: string;
}

export class EmulatedSession {
  readonly session: EmuSession;
  private readonly items = new Map<string, Item>();
  private lastItemId: string | null = null;
  private active?: ResponseRun;
  private vad?: EnergyVad;
  private vadBaseMs = 0;
  private appendedMs = 0;
  private speechItemId?: string;
  private userTurns = 0;
  private greeted = false;
  private voiceLocked = false;
  private readonly toolQueue: Array<{ name: string; args: unknown; callId: string }> = [];
  private readonly toolWaiters = new Map<string, (r: ToolCallResult) => void>();
  private readonly knownCalls = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly conversationId: string;
  closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly shared: EmulatorShared,
    model: string,
  ) {
    this.session = defaultSession(shared.newId('sess'), model, shared.opts.sessionCapMs);
    this.conversationId = shared.newId('conv');
    ws.on('message', (data, isBinary) => this.onMessage(isBinary ? '\u0000binary' : data.toString()));
    ws.on('close', () => this.dispose());
  }

  /** `session.created` first (optionally delayed), then the cap and drop timers (docs/protocols/openai-realtime.md#connection, #errors-and-limits). */
  start(): void {
    const { delaySessionCreatedMs = 0, dropAfterMs, sessionCapMs } = this.shared.opts;
    this.later(delaySessionCreatedMs, () => this.send({ type: 'session.created', event_id: this.id('event'), session: asWireSession(this.session) }));
    this.later(sessionCapMs, () => {
      const minutes = Math.round(sessionCapMs / 60000);
      this.sendError(
        { type: 'invalid_request_error', code: 'session_expired', message: `Your session hit the maximum duration of ${minutes} minutes.`, param: null },
        null,
      );
      this.shared.closeSocket(this.ws, 1001, 'session expired');
    });
    if (dropAfterMs !== undefined) this.later(dropAfterMs, () => this.shared.dropSocket(this.ws));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  private dispose(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.active?.cancel('client_cancelled');
    this.active = undefined;
  }

  private id(prefix: string): string {
    return this.shared.newId(prefix);
  }

  private send(ev: RealtimeServerEvent): void {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(ev));
  }

  private sendError(error: Pick<RealtimeError, 'type' | 'code' | 'message' | 'param'>, clientEventId: string | null): void {
    const e: RealtimeError = { ...error, event_id: clientEventId };
    this.shared.seen.errors.push(e);
    this.send({ type: 'error', event_id: this.id('event'), error: e });
    this.shared.changed();
  }

  private invalid(code: string, message: string, param: string | null, eventId: string | null): void {
    this.sendError({ type: 'invalid_request_error', code, message, param }, eventId);
  }

  private onMessage(text: string): void {
    const parsed = parseClientEvent(text);
    if (!parsed.ok) return this.invalid(parsed.code, parsed.message, parsed.param, parsed.eventId);
    const { msg, type, eventId } = parsed;
    this.shared.seen.clientEvents.push(type);
    switch (type) {
      case 'session.update':
        return this.onSessionUpdate(msg, eventId);
      case 'input_audio_buffer.append':
        if (typeof msg.audio !== 'string') return this.invalid('missing_required_parameter', "Missing required parameter: 'audio'.", 'audio', eventId);
        return this.onAppend(Buffer.from(msg.audio, 'base64'));
      case 'input_audio_buffer.commit':
        return this.commitUser(this.appendedMs);
      case 'input_audio_buffer.clear':
        return this.send({ type: 'input_audio_buffer.cleared', event_id: this.id('event') });
      case 'output_audio_buffer.clear':
        return this.invalid('invalid_value', 'output_audio_buffer.clear is only supported for WebRTC and SIP sessions.', 'type', eventId);
      case 'conversation.item.create':
        return this.onItemCreate(msg.item, eventId);
      case 'conversation.item.truncate':
        return this.onTruncate(msg, eventId);
      case 'conversation.item.delete':
        if (typeof msg.item_id !== 'string' || !this.items.delete(msg.item_id))
          return this.invalid('item_not_found', `Item with item_id not found: ${String(msg.item_id)}`, 'item_id', eventId);
        return this.send({ type: 'conversation.item.deleted', event_id: this.id('event'), item_id: msg.item_id });
      case 'conversation.item.retrieve':
        return this.invalid('unsupported', 'conversation.item.retrieve is not emulated.', 'type', eventId);
      case 'response.create':
        if (this.active)
          return this.invalid(
            'conversation_already_has_active_response',
            `Conversation already has an active response in progress: ${this.active.id}. Wait until the response is finished before creating a new one.`,
            null,
            eventId,
          );
        return this.startResponse('client');
      case 'response.cancel':
        if (!this.active) return this.invalid('response_cancel_not_active', 'Cancellation failed: no active response found.', null, eventId);
        return this.cancelActive('client_cancelled');
    }
  }

  private onSessionUpdate(msg: Obj, eventId: string | null): void {
    const err = this.shared.opts.rejectSessionUpdate ?? applySessionUpdate(this.session, msg.session, this.voiceLocked);
    this.shared.seen.sessionUpdates.push({ event: structuredClone(msg), ok: !err, error: err ?? undefined });
    if (err) return this.sendError(err, eventId);
    this.shared.seen.formats.push({ input: { ...this.session.audio.input.format }, output: { ...this.session.audio.output.format } });
    this.resetVad();
    this.send({ type: 'session.updated', event_id: this.id('event'), session: asWireSession(this.session) });
    this.shared.changed();
  }

  private resetVad(): void {
    const td = this.session.audio.input.turn_detection;
    const rate = this.session.audio.input.format.type === 'audio/pcm' ? 24000 : 8000;
    this.vad = td ? new EnergyVad({ sampleRate: rate, threshold: td.threshold * 1000, silenceMs: td.silence_duration_ms }) : undefined;
    this.vadBaseMs = this.appendedMs;
  }

  private onAppend(buf: Buffer): void {
    const format = this.session.audio.input.format;
    this.appendedMs += buf.length / formatBytesPerMs(format);
    this.shared.seen.appendedMs += buf.length / formatBytesPerMs(format);
    if (!this.vad) this.resetVad();
    if (!this.vad) return this.shared.changed();
    const td = this.session.audio.input.turn_detection!;
    for (const ev of this.vad.push(decodeInput(buf, format).samples)) {
      const at = Math.round(this.vadBaseMs + ev.atMs);
      if (ev.type === 'speech_start') {
        this.speechItemId = this.id('item');
        const start = Math.max(0, at - td.prefix_padding_ms);
        this.shared.seen.speech.push({ type: 'started', ms: start, itemId: this.speechItemId });
        this.send({ type: 'input_audio_buffer.speech_started', event_id: this.id('event'), audio_start_ms: start, item_id: this.speechItemId });
        if (td.interrupt_response && this.active) this.cancelActive('turn_detected');
      } else {
        const itemId = this.speechItemId ?? this.id('item');
        this.shared.seen.speech.push({ type: 'stopped', ms: at, itemId });
        this.send({ type: 'input_audio_buffer.speech_stopped', event_id: this.id('event'), audio_end_ms: at, item_id: itemId });
        this.commitUser(at, itemId);
        if (td.create_response && !this.active) this.startResponse('vad');
      }
    }
    this.shared.changed();
  }

  /** Commit the buffer as a user item; transcription (if on) follows asynchronously (docs/protocols/openai-realtime.md#event-order). */
  private commitUser(endMs: number, itemId = this.id('item')): void {
    const turn = this.userTurns++;
    this.send({ type: 'input_audio_buffer.committed', event_id: this.id('event'), item_id: itemId, previous_item_id: this.lastItemId });
    const item = {
      id: itemId,
      object: 'realtime.item' as const,
      type: 'message' as const,
      status: 'completed' as const,
      role: 'user' as const,
      content: [{ type: 'input_audio' as const, transcript: null as unknown as string }],
    };
    this.addItem({ id: itemId, type: 'message', role: 'user', audioMs: () => 0 }, item);
    if (!this.session.audio.input.transcription) return;
    const transcript = pick(this.shared.opts.script.userTranscripts, turn);
    this.later(10, () => {
      this.send({
        type: 'conversation.item.input_audio_transcription.completed',
        event_id: this.id('event'),
        item_id: itemId,
        content_index: 0,
        transcript,
        usage: { type: 'duration', seconds: Math.max(1, Math.round(endMs / 1000)) },
      });
      this.shared.changed();
    });
  }

  private addItem(item: Item, wire: Extract<RealtimeServerEvent, { type: 'conversation.item.added' }>['item']): void {
    this.send({ type: 'conversation.item.added', event_id: this.id('event'), previous_item_id: this.lastItemId, item: wire });
    this.send({ type: 'conversation.item.done', event_id: this.id('event'), previous_item_id: this.lastItemId, item: wire });
    this.items.set(item.id, item);
    this.lastItemId = item.id;
  }

  private onItemCreate(item: unknown, eventId: string | null): void {
    if (!isObj(item)) return this.invalid('missing_required_parameter', "Missing required parameter: 'item'.", 'item', eventId);
    const id = typeof item.id === 'string' ? item.id : this.id('item');
    if (item.type === 'function_call_output') {
      if (typeof item.call_id !== 'string' || typeof item.output !== 'string')
        return this.invalid('missing_required_parameter', "Missing required parameter: 'item.call_id' or 'item.output'.", 'item.call_id', eventId);
      const known = this.knownCalls.has(item.call_id);
      this.shared.seen.toolOutputs.push({ callId: item.call_id, output: item.output, known });
      // The real reply to an unknown call_id is unverified (not documented); an error is the safe guess.
      if (!known) return this.invalid('invalid_value', `No function call found with call_id '${item.call_id}'.`, 'item.call_id', eventId);
      this.addItem(
        { id, type: 'function_call_output', audioMs: () => 0 },
        { id, object: 'realtime.item', type: 'function_call_output', status: 'completed', call_id: item.call_id, output: item.output },
      );
      this.toolWaiters.get(item.call_id)?.({ callId: item.call_id, output: item.output });
      this.toolWaiters.delete(item.call_id);
      return this.shared.changed();
    }
    if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'system' && item.role !== 'assistant') || !Array.isArray(item.content)) {
      return this.invalid('invalid_value', 'Unsupported item: expected a message with role and content, or a function_call_output.', 'item.type', eventId);
    }
    this.shared.seen.items.push(structuredClone(item));
    this.addItem({ id, type: 'message', role: item.role, audioMs: () => 0 }, {
      ...(item as object),
      id,
      object: 'realtime.item',
      status: 'completed',
    } as never);
    this.shared.changed();
  }

  /** docs/protocols/openai-realtime.md#barge-in-and-truncation: validate, answer overshoot with the observed error, then clamp. */
  private onTruncate(msg: Obj, eventId: string | null): void {
    const itemId = msg.item_id;
    const ms = msg.audio_end_ms;
    const rec = {
      itemId: String(itemId),
      requestedMs: typeof ms === 'number' ? ms : NaN,
      appliedMs: null as number | null,
      ok: false,
      error: undefined as string | undefined,
    };
    this.shared.seen.truncates.push(rec);
    const item = typeof itemId === 'string' ? this.items.get(itemId) : undefined;
    const fail = (code: string, message: string, param: string) => {
      rec.error = message;
      this.invalid(code, message, param, eventId);
    };
    if (!item) return fail('item_not_found', `Item with item_id not found: ${String(itemId)}`, 'item_id');
    if (item.type !== 'message' || item.role !== 'assistant') return fail('invalid_value', 'Only model output audio messages can be truncated', 'item_id');
    if (msg.content_index !== 0) return fail('invalid_value', 'content_index must be 0 for audio messages', 'content_index');
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) return fail('invalid_value', 'audio_end_ms must be a non-negative integer', 'audio_end_ms');
    const len = item.audioMs();
    let applied = ms;
    if (ms > len) {
      rec.error = `Audio content of ${len}ms is already shorter than ${ms}ms`;
      this.sendError({ type: 'invalid_request_error', code: 'invalid_value', message: rec.error, param: null }, null);
      applied = len;
    } else rec.ok = true;
    rec.appliedMs = applied;
    this.send({ type: 'conversation.item.truncated', event_id: this.id('event'), item_id: item.id, content_index: 0, audio_end_ms: applied });
    this.shared.changed();
  }

  private cancelActive(reason: 'turn_detected' | 'client_cancelled'): void {
    const run = this.active;
    if (!run) return;
    this.shared.seen.cancels.push({ responseId: run.id, reason, audioMs: run.audioMs });
    run.cancel(reason);
  }

  /** Pick what the model does: a queued/scripted tool call, the greeting, or the scripted reply. */
  private planFor(trigger: 'client' | 'vad'): ResponsePlan {
    const opts = this.shared.opts;
    if (opts.failNextResponse) {
      opts.failNextResponse = false;
      return { kind: 'failed' };
    }
    if (trigger === 'vad') {
      const step = opts.toolSteps?.find((s) => s.afterUserTurn === this.userTurns - 1 && !s.used);
      if (step) {
        step.used = true;
        this.toolQueue.push({ name: step.name, args: step.args, callId: this.id('call') });
      }
    }
    const tool = this.toolQueue.shift();
    if (tool) {
      this.knownCalls.add(tool.callId);
      return { kind: 'tool', ...tool };
    }
    // The greeting is the first client-requested response before any caller turn; after that, replies.
    const greet = trigger === 'client' && !this.greeted && this.userTurns === 0;
    const turn = greet ? opts.script.greeting : pick(opts.script.replies, Math.max(0, this.userTurns - 1));
    this.greeted = true;
    return { kind: 'audio', text: turn.text, audio: encodeClip(turn.samples, this.session.audio.output.format) };
  }

  private startResponse(trigger: 'client' | 'vad' | 'tool'): void {
    const plan = this.planFor(trigger === 'tool' ? 'client' : trigger);
    // `record` is first read by the callbacks once `run.start()` runs, after it is declared below.
    const run = new ResponseRun(
      {
        send: (ev) => this.send(ev),
        newId: (p) => this.id(p),
        format: this.session.audio.output.format,
        voice: this.session.audio.output.voice,
        speed: this.shared.opts.speed,
        conversationId: this.conversationId,
        previousItemId: this.lastItemId,
        onItem: (it) => {
          this.items.set(it.id, { id: it.id, type: it.type, role: 'assistant', audioMs: it.audioMs });
          this.lastItemId = it.id;
          if (it.type === 'message') this.voiceLocked = true;
        },
        onDone: (r) => {
          record.status = r.status;
          if (this.active === r) this.active = undefined;
          this.shared.changed();
          // A tool call the test asked for while this response ran starts now.
          if (this.toolQueue.length && !this.closed) setImmediate(() => !this.active && !this.closed && this.startResponse('tool'));
        },
      },
      plan,
    );
    const record = {
      id: run.id,
      trigger,
      kind: plan.kind,
      status: 'in_progress' as string,
      itemId: plan.kind === 'failed' ? undefined : run.itemId,
      /** Audio sent so far (ms), live while the response streams. */
      get audioMs(): number {
        return run.audioMs;
      },
    };
    this.shared.seen.responses.push(record);
    this.active = run;
    run.start();
    this.shared.changed();
  }

  /**
   * Make the model call `name(args)` on this session: function_call item, argument deltas,
   * `.arguments.done`, `response.done` (docs/protocols/openai-realtime.md#function-calls). `args` is JSON-encoded unless it is a string,
   * which is sent verbatim. Waits for an active response to finish first.
   * Resolves with the bridge's `function_call_output`.
   */
  /** Send a raw text frame (fault injection: malformed JSON, unknown events). */
  inject(text: string): void {
    if (!this.closed) this.ws.send(text);
  }

  callTool(name: string, args: unknown): Promise<ToolCallResult> {
    const callId = this.id('call');
    const done = new Promise<ToolCallResult>((resolve) => this.toolWaiters.set(callId, resolve));
    this.toolQueue.push({ name, args, callId });
    if (!this.active) this.startResponse('tool');
    return done;
  }
}

/**
 * OpenAI Realtime emulator, part 2 of 4: one response, with the full GA event sequence of
 * docs/protocols/openai-realtime.md#event-order (audio), #function-calls (function call) or a failure, streaming
 * real fixture audio as `response.output_audio.delta` paced by `speed`.
 */
import type {
  RealtimeAudioFormats,
  RealtimeConversationItemAssistantMessage,
  RealtimeConversationItemFunctionCall,
  RealtimeResponse,
  RealtimeServerEvent,
} from 'openai/resources/realtime/realtime';
import { formatBytesPerMs } from './openai-realtime-config';

/** What a response does. */
export type ResponsePlan = { kind: 'audio'; text: string; audio: Buffer } | { kind: 'tool'; name: string; args: unknown; callId: string } | { kind: 'failed' };

export type ResponseStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

/** What a response reports to its session. */
export interface ResponseHost {
  send(ev: RealtimeServerEvent): void;
  newId(prefix: string): string;
  format: RealtimeAudioFormats;
  voice: string;
  /** Playout pace multiple (1 = real time). */
  speed: number;
  conversationId: string;
  previousItemId: string | null;
  /** The assistant/function_call item now exists (for truncate validation and `previous_item_id`). */
  onItem(item: { id: string; type: 'message' | 'function_call'; audioMs: () => number }): void;
  onDone(run: ResponseRun): void;
}

/** Size of each audio delta (ms); real deltas vary in size (unverified: no size is documented). */
const DELTA_MS = 40;

export class ResponseRun {
  readonly id: string;
  readonly itemId: string;
  status: ResponseStatus = 'in_progress';
  /** Audio sent so far (bytes). */
  sentBytes = 0;
  private timer?: NodeJS.Timeout;
  private t0 = 0;
  private words: string[] = [];
  private prev: string | null = null;
  private wordsSent = 0;

  constructor(
    private readonly host: ResponseHost,
    readonly plan: ResponsePlan,
  ) {
    this.id = host.newId('resp');
    this.itemId = host.newId('item');
  }

  /** Audio sent so far (ms). */
  get audioMs(): number {
    return Math.floor(this.sentBytes / formatBytesPerMs(this.host.format));
  }

  private base() {
    return { response_id: this.id, item_id: this.itemId, output_index: 0, content_index: 0 };
  }

  /**
   * A RealtimeResponse; `status_details`/`usage` are null while in progress
   * (https://platform.openai.com/docs/api-reference/realtime-server-events/response/created).
   */
  private response(status: ResponseStatus, output: RealtimeResponse['output'], details: RealtimeResponse['status_details'] | null = null): RealtimeResponse {
    const r = {
      id: this.id,
      object: 'realtime.response' as const,
      status,
      status_details: details,
      output,
      conversation_id: this.host.conversationId,
      output_modalities: ['audio' as const],
      audio: { output: { format: this.host.format, voice: this.host.voice } },
      usage: status === 'in_progress' ? null : { total_tokens: 120, input_tokens: 80, output_tokens: 40 },
    };
    return r as RealtimeResponse;
  }

  start(): void {
    const h = this.host;
    h.send({ type: 'response.created', event_id: h.newId('event'), response: this.response('in_progress', []) });
    h.send({
      type: 'rate_limits.updated',
      event_id: h.newId('event'),
      rate_limits: [
        { name: 'requests', limit: 5000, remaining: 4999, reset_seconds: 0.012 },
        { name: 'tokens', limit: 40000, remaining: 38000, reset_seconds: 3.1 },
      ],
    });
    if (this.plan.kind === 'failed') {
      this.status = 'failed';
      h.send({
        type: 'response.done',
        event_id: h.newId('event'),
        response: this.response('failed', [], { type: 'failed', error: { type: 'server_error', code: 'internal_error' } }),
      });
      h.onDone(this);
      return;
    }
    if (this.plan.kind === 'tool') return this.runTool(this.plan);
    this.prev = h.previousItemId;
    const item: RealtimeConversationItemAssistantMessage = {
      id: this.itemId,
      object: 'realtime.item',
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    h.send({ type: 'response.output_item.added', event_id: h.newId('event'), response_id: this.id, output_index: 0, item });
    h.send({ type: 'conversation.item.added', event_id: h.newId('event'), previous_item_id: this.prev, item });
    h.onItem({ id: this.itemId, type: 'message', audioMs: () => this.audioMs });
    h.send({ type: 'response.content_part.added', event_id: h.newId('event'), ...this.base(), part: { type: 'audio', transcript: '' } });
    this.words = this.plan.text.split(' ');
    this.t0 = Date.now();
    this.tick();
  }

  /** Next delta, scheduled on the playout clock so pacing does not drift. */
  private tick(): void {
    if (this.plan.kind !== 'audio' || this.status !== 'in_progress') return;
    const audio = this.plan.audio;
    const chunkBytes = DELTA_MS * formatBytesPerMs(this.host.format);
    const chunk = audio.subarray(this.sentBytes, this.sentBytes + chunkBytes);
    if (!chunk.length) return this.finish('completed');
    this.sentBytes += chunk.length;
    this.host.send({ type: 'response.output_audio.delta', event_id: this.host.newId('event'), ...this.base(), delta: chunk.toString('base64') });
    const wordsDue = Math.ceil((this.words.length * this.sentBytes) / audio.length);
    if (wordsDue > this.wordsSent) {
      const delta = this.words.slice(this.wordsSent, wordsDue).join(' ') + (wordsDue < this.words.length ? ' ' : '');
      this.wordsSent = wordsDue;
      this.host.send({ type: 'response.output_audio_transcript.delta', event_id: this.host.newId('event'), ...this.base(), delta });
    }
    const sentMs = this.sentBytes / formatBytesPerMs(this.host.format);
    const wait = Math.max(0, this.t0 + sentMs / this.host.speed - Date.now());
    this.timer = setTimeout(() => this.tick(), wait);
  }

  /** Stop now (`turn_detected` on barge-in, `client_cancelled` on `response.cancel`): docs/protocols/openai-realtime.md#barge-in-and-truncation. */
  cancel(reason: 'turn_detected' | 'client_cancelled'): void {
    if (this.status !== 'in_progress') return;
    clearTimeout(this.timer);
    this.finish('cancelled', { type: 'cancelled', reason });
  }

  private finish(status: 'completed' | 'cancelled', details: RealtimeResponse['status_details'] | null = null): void {
    const h = this.host;
    this.status = status;
    clearTimeout(this.timer);
    const transcript = this.words.slice(0, status === 'completed' ? this.words.length : this.wordsSent).join(' ');
    h.send({ type: 'response.output_audio.done', event_id: h.newId('event'), ...this.base() });
    h.send({ type: 'response.output_audio_transcript.done', event_id: h.newId('event'), ...this.base(), transcript });
    h.send({ type: 'response.content_part.done', event_id: h.newId('event'), ...this.base(), part: { type: 'audio', transcript } });
    const item: RealtimeConversationItemAssistantMessage = {
      id: this.itemId,
      object: 'realtime.item',
      type: 'message',
      status: status === 'completed' ? 'completed' : 'incomplete',
      role: 'assistant',
      content: [{ type: 'output_audio', transcript }],
    };
    h.send({ type: 'response.output_item.done', event_id: h.newId('event'), response_id: this.id, output_index: 0, item });
    h.send({ type: 'conversation.item.done', event_id: h.newId('event'), previous_item_id: this.prev, item });
    h.send({ type: 'response.done', event_id: h.newId('event'), response: this.response(status, [item], details) });
    h.onDone(this);
  }

  private runTool(plan: Extract<ResponsePlan, { kind: 'tool' }>): void {
    const h = this.host;
    const args = typeof plan.args === 'string' ? plan.args : JSON.stringify(plan.args); // a string goes out verbatim (malformed-JSON tests)
    this.prev = h.previousItemId;
    const pending: RealtimeConversationItemFunctionCall = {
      id: this.itemId,
      object: 'realtime.item',
      type: 'function_call',
      status: 'in_progress',
      name: plan.name,
      call_id: plan.callId,
      arguments: '',
    };
    h.send({ type: 'response.output_item.added', event_id: h.newId('event'), response_id: this.id, output_index: 0, item: pending });
    h.send({ type: 'conversation.item.added', event_id: h.newId('event'), previous_item_id: this.prev, item: pending });
    h.onItem({ id: this.itemId, type: 'function_call', audioMs: () => 0 });
    const half = Math.ceil(args.length / 2);
    for (const delta of [args.slice(0, half), args.slice(half)]) {
      h.send({
        type: 'response.function_call_arguments.delta',
        event_id: h.newId('event'),
        response_id: this.id,
        item_id: this.itemId,
        output_index: 0,
        call_id: plan.callId,
        delta,
      });
    }
    h.send({
      type: 'response.function_call_arguments.done',
      event_id: h.newId('event'),
      response_id: this.id,
      item_id: this.itemId,
      output_index: 0,
      call_id: plan.callId,
      name: plan.name,
      arguments: args,
    });
    const item: RealtimeConversationItemFunctionCall = {
      id: this.itemId,
      object: 'realtime.item',
      type: 'function_call',
      status: 'completed',
      name: plan.name,
      call_id: plan.callId,
      arguments: args,
    };
    h.send({ type: 'response.output_item.done', event_id: h.newId('event'), response_id: this.id, output_index: 0, item });
    h.send({ type: 'conversation.item.done', event_id: h.newId('event'), previous_item_id: this.prev, item });
    this.status = 'completed';
    h.send({ type: 'response.done', event_id: h.newId('event'), response: this.response('completed', [item]) });
    h.onDone(this);
  }
}

/**
 * CallSession joins one carrier leg and one provider leg for the life of a call: it pumps audio
 * both ways (converting only when the legs' formats differ), tracks playback with marks, handles
 * barge-in (clear first, then drop queued audio, then truncate at what was heard), assembles the
 * transcript, runs tools, and tears both legs down when either side ends (how a call ends, from
 * transfer to apology, is in call/ending.ts).
 *
 * Protocol facts: docs/protocols/twilio.md#marks-clear-and-stop (marks, clear, stop), docs/protocols/elevenlabs.md#interruption,
 * docs/protocols/openai-realtime.md#barge-in-and-truncation (barge-in and truncation).
 */
import { createConverter, type Converter } from '../audio/convert';
import { bytesPerMs, type AudioFormat } from '../audio/format';
import { systemClock, type Clock } from '../clock';
import type { CarrierEvent } from '../carriers/types';
import type { Logger } from '../observability/logger';
import type { CallContext, ProviderEvent, ProviderLeg } from '../providers/types';
import { newCallRecord, type CallRecord } from './call-record';
import { HeldAudio } from '../audio/held-audio';
import { CallEnd } from './ending';
import { ProviderFailover } from './failover';
import type { PendingCall } from './pending';
import { OutboundAudio } from './outbound-audio';
import { PlaybackTracker } from './playback';
import type { LiveCall } from './registry';
import type { CarrierPort, SessionDeps } from './session-deps';
import type { ToolAfter } from './tools';
import { CallPersister } from './persist';
import { Transcript } from './transcript';

export type { CarrierPort, SessionDeps } from './session-deps';
export type { CallControl } from '../carriers/types';

type StartEvent = Extract<CarrierEvent, { type: 'start' }>;

/** Caller audio kept while the provider connects (ms); older audio is dropped first. */
const MAX_EARLY_AUDIO_MS = 5000;
export { APOLOGY } from './ending';

export class CallSession implements LiveCall {
  readonly callSid: string;
  private readonly log: Logger;
  private readonly record: CallRecord;
  private readonly transcript = new Transcript((turn) => this.persist?.turn(turn));
  private readonly persist?: CallPersister;
  /** The one owner of marks and of what the caller heard (clock and outbound are read lazily: both are set in the constructor). */
  private readonly playback = new PlaybackTracker(
    () => this.clock.now(),
    () => this.outbound.holding,
  );
  private readonly outbound: OutboundAudio;
  private readonly carrierFormat: AudioFormat;
  private readonly clock: Clock;
  private readonly t0: number;
  private leg?: ProviderLeg;
  /** Bumped when a leg is dropped for failover, so its late events are ignored. */
  private legGen = 0;
  private ctx?: CallContext;
  private failover?: ProviderFailover;
  private toProvider?: Converter;
  private toCarrier?: Converter;
  private readonly early: HeldAudio;
  private readonly interruptedItems = new Set<string>();
  private readonly firstAudioAt = new Map<string, number>();
  private readonly userSpeechAt: number[] = [];
  private readonly end: CallEnd;
  private pendingAfter?: ToolAfter;

  constructor(
    private readonly pending: PendingCall,
    start: StartEvent,
    private readonly carrier: CarrierPort,
    private readonly deps: SessionDeps,
  ) {
    this.callSid = start.callSid;
    this.carrierFormat = start.format;
    this.early = new HeldAudio(MAX_EARLY_AUDIO_MS * bytesPerMs(start.format));
    const clock = (this.clock = deps.clock ?? systemClock);
    this.t0 = clock.now();
    this.outbound = new OutboundAudio({
      format: start.format,
      send: (c) => carrier.send(c),
      playback: this.playback,
      chunking: start.chunking,
      ambience: deps.cfg.background,
      timers: clock,
      ticker: deps.ticker,
    });
    this.log = deps.log.child({ callSid: start.callSid, streamSid: start.streamSid, carrier: pending.carrier, provider: pending.provider });
    this.record = newCallRecord(pending, start, clock.wallMs());
    this.end = new CallEnd({
      callSid: this.callSid,
      record: this.record,
      log: this.log,
      control: deps.control,
      playback: this.playback,
      clock,
      carrierOpen: () => carrier.isOpen,
      teardown: (reason) => this.teardown(reason),
    });
    deps.metrics.callsActive.inc({ carrier: pending.carrier, provider: pending.provider });
    if (deps.store) this.persist = new CallPersister(deps.store, deps.cfg.LOGS_DIR, this.log, this.snapshot());
  }

  private nowMs(): number {
    return Math.round(this.clock.now() - this.t0);
  }

  snapshot(): CallRecord {
    return {
      ...this.record,
      timings: { ...this.record.timings },
      counters: { ...this.record.counters, dtmf: [...this.record.counters.dtmf] },
      turns: this.transcript.turns(),
    };
  }

  /** Connect the provider prepared at webhook time. Never throws: failures end the call politely. */
  async start(): Promise<void> {
    const ctx: CallContext = {
      callSid: this.callSid,
      carrier: this.pending.carrier,
      direction: this.pending.direction,
      from: this.record.from,
      to: this.record.to,
      prompt: this.pending.prompt,
      firstMessage: this.pending.firstMessage,
      carrierFormat: this.carrierFormat,
      tools: this.deps.tools.specs(),
    };
    this.ctx = ctx;
    try {
      const prepared = await this.pending.prepared;
      if (prepared instanceof Error) throw prepared;
      if (this.end.ended) return;
      const leg = await prepared.connect(ctx, this.legEvents());
      if (this.end.ended) {
        await leg.close('call ended while connecting');
        return;
      }
      this.attach(leg);
      this.flushEarly(); // in case `ready` came before connect() resolved
    } catch (err) {
      await this.providerFailed(err as Error);
    }
  }

  /** The leg now serving the call; what it drops as malformed is counted in callbridge_bad_messages_total{source: provider, reason}. */
  private attach(leg: ProviderLeg): void {
    this.leg = leg;
    leg.watchRejects?.((reason, n) => this.deps.metrics.badMessagesTotal.inc({ source: leg.name, reason }, n));
  }

  /** One parsed carrier event. */
  onCarrier(ev: CarrierEvent): void {
    if (this.end.ended) return;
    switch (ev.type) {
      case 'audio':
        this.callerAudio(ev.payload);
        break;
      case 'mark':
        this.outbound.echoed(ev.name);
        if (this.playback.pendingCount === 0) this.end.playedOut();
        break;
      case 'dtmf':
        this.record.counters.dtmf.push(ev.digit);
        this.log.info({ digit: ev.digit }, 'dtmf');
        break;
      case 'stop':
        void this.end.finish('carrier_stop', 'completed');
        break;
      case 'start':
      case 'connected':
        break;
    }
  }

  /** A malformed carrier frame was dropped (counted by the socket). */
  badFrame(): void {
    this.record.counters.badFrames++;
  }

  /** The media socket closed (with or without `stop`): treat both the same (docs/protocols/twilio.md#marks-clear-and-stop). */
  carrierClosed(): void {
    void this.end.finish(
      this.end.ending ? (this.record.endReason ?? 'ended') : 'carrier_closed',
      this.record.status === 'transferred' ? 'transferred' : 'completed',
    );
  }

  private callerAudio(payload: Buffer, counted = false): void {
    if (!counted) this.record.counters.framesIn++;
    if (!this.leg || !this.toProvider) {
      this.early.hold(payload);
      return;
    }
    const t = this.clock.now();
    const out = this.toProvider(payload);
    if (out.length) this.leg.sendAudio(out);
    this.deps.metrics.frames.carrierIn((this.clock.now() - t) / 1000);
  }

  private onProvider(ev: ProviderEvent): void {
    if (this.end.ended) return;
    switch (ev.type) {
      case 'ready':
        this.providerReady(ev.inputFormat, ev.outputFormat, ev.conversationId);
        break;
      case 'audio':
        this.agentAudio(ev.payload, ev.itemId);
        break;
      case 'interruption':
        this.interruption();
        break;
      case 'transcript':
        this.turn(ev.role, ev.text, ev.correction === true, ev.itemId);
        break;
      case 'tool_call':
        void this.toolCall(ev.id, ev.name, ev.args);
        break;
      case 'end':
        this.log.info({ reason: ev.reason }, 'provider ended the conversation');
        void this.end.hangupAfterPlayout(ev.reason);
        break;
      case 'error':
        if (ev.fatal) void this.providerFailed(ev.error);
        else this.log.warn({ err: ev.error.message }, 'provider error (non-fatal)');
        break;
      default: {
        const never: never = ev;
        this.log.debug({ ev: never }, 'unknown provider event');
      }
    }
  }

  private providerReady(input: AudioFormat, output: AudioFormat, conversationId?: string): void {
    this.toProvider = createConverter(this.carrierFormat, input);
    this.toCarrier = createConverter(output, this.carrierFormat);
    this.record.conversationId = conversationId;
    this.record.status = 'in-progress';
    this.record.answeredAt ??= new Date(this.clock.wallMs()).toISOString();
    this.record.timings.providerReadyMs ??= this.nowMs();
    this.persist?.saveCall(this.snapshot());
    this.log.info(
      { ms: this.record.timings.providerReadyMs, input, output, transcoding: !this.toProvider.passthrough || !this.toCarrier.passthrough },
      'provider ready',
    );
    this.flushEarly();
  }

  /** Send caller audio held while the provider connected, in order, once leg and formats are known. */
  private flushEarly(): void {
    if (!this.leg || !this.toProvider || this.early.isEmpty) return;
    for (const chunk of this.early.take()) this.callerAudio(chunk, true);
  }

  private agentAudio(payload: Buffer, itemId?: string): void {
    if (!this.toCarrier || !this.carrier.isOpen) return;
    if (itemId !== undefined && this.interruptedItems.has(itemId)) return;
    const t = this.clock.now();
    const out = this.toCarrier(payload);
    if (!out.length) return;
    this.outbound.push(out, itemId);
    this.deps.metrics.frames.providerIn((this.clock.now() - t) / 1000);
    this.record.counters.framesOut++;
    if (this.record.timings.firstAgentAudioMs === undefined) {
      this.record.timings.firstAgentAudioMs = this.nowMs();
      this.log.info({ ms: this.record.timings.firstAgentAudioMs }, 'first agent audio');
    }
    if (itemId !== undefined && !this.firstAudioAt.has(itemId)) this.firstAudioAt.set(itemId, this.nowMs());
  }

  /** Barge-in: `clear` goes out before anything else, so the caller stops hearing the agent at once. */
  private interruption(): void {
    this.userSpeechAt.push(this.nowMs());
    if (this.playback.pendingCount === 0) return; // nothing playing: the caller simply started a turn
    const { itemId: item, playedMs: played } = this.outbound.clear();
    if (item !== undefined) {
      this.interruptedItems.add(item);
      this.leg?.truncate?.(item, played);
    }
    this.transcript.markInterrupted(item);
    this.record.counters.bargeIns++;
    this.deps.metrics.bargeInsTotal.inc({ provider: this.pending.provider });
    this.log.info({ itemId: item, playedMs: played }, 'barge-in');
    this.end.playedOut();
  }

  private turn(role: 'user' | 'agent', text: string, correction: boolean, itemId?: string): void {
    if (role === 'agent' && correction) {
      this.transcript.markInterrupted(itemId, text);
      return;
    }
    const at =
      role === 'user' ? (this.userSpeechAt.shift() ?? this.nowMs()) : ((itemId !== undefined ? this.firstAudioAt.get(itemId) : undefined) ?? this.nowMs());
    this.transcript.add(role, text, at, itemId);
    if (role === 'agent' && itemId !== undefined && this.interruptedItems.has(itemId)) this.transcript.markInterrupted(itemId);
    this.log.debug({ role, pii: { text } }, 'turn');
  }

  private async toolCall(id: string, name: string, args: unknown): Promise<void> {
    const t = this.clock.now();
    const res = await this.deps.tools.run(name, args, { callSid: this.callSid, from: this.record.from, transferNumber: this.deps.cfg.TRANSFER_NUMBER });
    this.log.info({ tool: name, ok: !res.isError, ms: Math.round(this.clock.now() - t) }, 'tool call');
    if (this.end.ended) return;
    this.leg?.sendToolResult(id, res.output, res.isError);
    if (res.after) {
      this.pendingAfter = res.after;
      // Let the agent say its last words, then act (hanging up when generation ends cuts the goodbye off).
      this.clock.setTimeout(() => void this.runAfter(), 1500).unref();
    }
  }

  private async runAfter(): Promise<void> {
    const after = this.pendingAfter;
    if (!after || this.end.ended) return;
    if (after.kind === 'hangup') return this.end.hangupAfterPlayout(after.reason);
    await this.end.waitForPlayout();
    await this.transfer(after.to, after.reason).catch(() => undefined);
  }

  /**
   * Send the caller to `to` (E.164) through the carrier (Twilio: `<Dial>` TwiML, docs/protocols/twilio.md#calls-rest).
   * The call is marked transferred first, so the `stop` this causes ends the session without a hang-up.
   * @throws the carrier's CallbridgeError when the transfer fails (the call then goes on).
   */
  transfer(to: string, reason: string): Promise<void> {
    return this.end.transfer(to, reason);
  }

  /**
   * End the call with a spoken `message` (drain): the carrier plays it and hangs up, which stops the
   * stream; if the carrier cannot, hang up. The session is finished after `graceMs` at the latest.
   */
  endWithMessage(message: string, reason: string, graceMs = 15_000): Promise<void> {
    return this.end.endWithMessage(message, reason, graceMs);
  }

  /** End the call from our side: REST hang-up where possible, then close the media socket. */
  hangup(reason: string): Promise<void> {
    return this.end.hangup(reason);
  }

  /** The provider could not be reached or failed mid-call: fail over, or say sorry and end. */
  private async providerFailed(err: Error): Promise<void> {
    if (this.end.ended || this.end.ending) return;
    if (await this.failOver(err)) return;
    const category = (err as { category?: string }).category ?? 'unknown';
    this.log.error({ err: err.message, category }, 'provider failed; ending the call politely');
    this.deps.metrics.providerErrorsTotal.inc({ provider: this.pending.provider, category });
    await this.end.apologise(`provider_error: ${err.message}`);
  }

  private legEvents(): (ev: ProviderEvent) => void {
    const gen = this.legGen;
    return (ev) => gen === this.legGen && this.onProvider(ev);
  }

  /** PROVIDER_FAILOVER: the other provider continues this call (call/failover.ts). False when off or it fails too. */
  private async failOver(err: Error): Promise<boolean> {
    if (!this.deps.connectors || !this.ctx) return false;
    this.failover ??= new ProviderFailover({
      cfg: this.deps.cfg,
      connectors: this.deps.connectors,
      metrics: this.deps.metrics,
      log: this.log,
      clock: this.clock,
    });
    if (!this.failover.available) return false;
    const old = this.leg;
    this.leg = this.toProvider = this.toCarrier = undefined; // caller audio is buffered meanwhile
    this.legGen++;
    this.interruptedItems.clear();
    this.firstAudioAt.clear();
    void old?.close('failover').catch(() => undefined);
    const from = this.record.providerHistory?.at(-1)?.to ?? this.record.provider;
    const taken = await this.failover.takeOver(from, err, this.ctx, this.transcript.turns(), this.legEvents(), this.record, this.nowMs());
    if (!taken) return false;
    if (this.end.ended) await taken.leg.close('call ended while failing over');
    else this.attach(taken.leg);
    this.flushEarly();
    return true;
  }

  /** Release both legs and report the call, once its record is final (CallEnd.finish). */
  private async teardown(reason: string): Promise<void> {
    this.outbound.close();
    if (this.carrier.isOpen) this.carrier.close(1000, 'call ended');
    try {
      await this.leg?.close(reason);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'provider close failed');
    }
    this.deps.metrics.callsActive.dec({ carrier: this.pending.carrier, provider: this.pending.provider });
    this.deps.metrics.callsTotal.inc({ carrier: this.pending.carrier, provider: this.pending.provider, outcome: this.record.status });
    this.log.info({ reason: this.record.endReason, status: this.record.status, turns: this.transcript.turns().length }, 'call ended');
    void this.persist?.ended(this.snapshot(), this.transcript.arrived());
    this.deps.onEnded(this.snapshot());
  }
}

/**
 * One emulated Twilio call's media stream, spoken from Twilio's end: sends `connected`, `start`,
 * real-time paced caller `media` (silence between clips), `dtmf` and `stop`; checks and plays what the
 * server sends back (see ./playout.ts, ./outbound-check.ts) and records everything for assertions.
 * Wire facts: docs/protocols/twilio.md#stream-messages, #audio, #marks-clear-and-stop, #emulator
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { MULAW_SILENCE, samplesToMulaw } from '../../../src/audio/g711';
import { checkOutboundFrame, type OutboundMessage, type Violation } from './outbound-check';
import { MULAW_BYTES_PER_MS, Playout } from './playout';
import { CallerQueue } from '../caller-queue';
import { waitForMessage } from '../wait-emitted';
import type { CallEvents, CallSetup, CarrierError, ClearRecord, ClosedInfo, MarkRecord, Received } from './types';

export type { CallEvents, CallSetup, CarrierError, ClearRecord, ClosedInfo, MarkRecord, Received } from './types';

/** 20 ms of μ-law at 8 kHz: the inbound frame size (unverified: not stated in Twilio's docs). */
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

/** A live (or finished) emulated call. Created by `TwilioCarrierEmulator.placeCall`. */
export class EmulatedCall extends EventEmitter<CallEvents> {
  readonly callSid: string;
  readonly accountSid: string;
  readonly streamSid: string;
  readonly twiml: CallSetup['twiml'];
  readonly webhook: CallSetup['webhook'];
  readonly direction: CallSetup['direction'];
  readonly from: string;
  readonly to: string;
  /** Every valid message received from the server, in order. */
  readonly received: Received[] = [];
  readonly violations: Violation[] = [];
  readonly marks: MarkRecord[] = [];
  readonly clears: ClearRecord[] = [];
  /** Carrier-side errors (11200 webhook, 12100 TwiML, 31920 upgrade refused, …). */
  readonly errors: CarrierError[] = [];
  /** Observations that are not errors (query string dropped, `<Pause>` after `</Connect>`, long parameters, …). */
  readonly notes: string[] = [];
  /** Wall ms from `start` to the first valid outbound `media`. */
  firstMediaAtMs?: number;
  /** Caller clips: media ms (frame count × 20) at which each started and ended on the wire. */
  readonly callerClips: { startMs: number; endMs?: number; bytes: number }[] = [];
  /** What ended the call on the carrier's side: `hangup`, `rest-hangup`, `transfer`, `server-close`, `failed`. */
  endReason?: string;
  /** Set when a REST update moved the call elsewhere (`<Dial>` target or the new `Url`). */
  transfer?: { to?: string; url?: string; twiml?: string };
  readonly closed: Promise<ClosedInfo>;

  private readonly speed: number;
  private ws?: WebSocket;
  private t0 = 0;
  private seq = 0;
  private chunk = 0;
  private frameIndex = 0;
  private readonly caller = new CallerQueue();
  private timer?: NodeJS.Timeout;
  private playout?: Playout;
  private ending = false;
  private resolveClosed!: (info: ClosedInfo) => void;
  private closedInfo?: ClosedInfo;

  constructor(setup: CallSetup) {
    super();
    this.callSid = setup.callSid;
    this.accountSid = setup.accountSid;
    this.streamSid = setup.streamSid;
    this.twiml = setup.twiml;
    this.webhook = setup.webhook;
    this.direction = setup.direction;
    this.from = setup.from;
    this.to = setup.to;
    this.speed = setup.speed;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /** Wall ms since `start` was sent. */
  nowMs(): number {
    return performance.now() - this.t0;
  }

  /** True once the stream has ended (either side) or never started. */
  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  /** μ-law bytes waiting in the playback buffer (8 per ms). */
  get bufferedBytes(): number {
    return this.playout?.bufferedBytes ?? 0;
  }

  /** True when no caller clip is queued (only silence frames are being sent). */
  get callerIdle(): boolean {
    return this.caller.queued === 0;
  }

  /** @internal the carrier calls this once the socket is open: sends `connected` + `start` and starts pacing. */
  begin(ws: WebSocket): void {
    this.ws = ws;
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
    ws.on('error', (err) => this.notes.push(`socket error: ${err.message}`));
    // connected carries no sequenceNumber and no streamSid (https://www.twilio.com/docs/voice/media-streams/websocket-messages#connected-message).
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.t0 = performance.now();
    this.playout = new Playout(this.speed, 0, {
      onMark: (name, cleared) => this.echoMark(name, cleared),
      onStart: (at, idle) => this.emit('playout-start', at, idle),
      onEnd: (at, by) => this.emit('playout-end', at, by),
    });
    this.send({
      event: 'start',
      sequenceNumber: String(++this.seq),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        customParameters: { ...this.twiml.parameters },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: this.streamSid,
    });
    this.timer = setInterval(() => this.tick(), Math.max(2, FRAME_MS / this.speed / 2));
  }

  /** @internal the call never got a stream (webhook, TwiML or upgrade failure, or TwiML without `<Stream>`). */
  fail(error: CarrierError | undefined, closed: ClosedInfo): void {
    if (error) this.errors.push(error);
    this.endReason ??= 'failed';
    this.finish(closed);
  }

  /** Queue caller speech (8 kHz PCM16 samples); sent as μ-law media frames after what is already queued. */
  sendAudio(samples: Int16Array): void {
    this.queueCallerMulaw(samplesToMulaw(samples));
  }

  /** Queue caller speech already encoded as μ-law bytes (8 kHz, 1 byte a sample). */
  queueCallerMulaw(mulaw: Buffer): void {
    if (mulaw.length === 0) return;
    this.caller.push(mulaw);
  }

  /**
   * Send a `dtmf` message for one key (`0-9`, `*`, `#`; track `inbound_track`:
   * https://www.twilio.com/docs/voice/media-streams/websocket-messages#dtmf-message).
   */
  sendDtmf(digit: string): void {
    if (this.ending) return;
    this.send({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: String(++this.seq), dtmf: { track: 'inbound_track', digit } });
  }

  /** Send an arbitrary frame as is (text unless `binary`), for malformed-frame tests. */
  sendRaw(data: string | Buffer, binary = false): void {
    if (this.ending || !this.ws) return;
    this.ws.send(data, { binary });
  }

  /**
   * The caller hangs up: `stop` (with `stop.accountSid`, `stop.callSid`), then close the socket and send
   * nothing more (https://www.twilio.com/docs/voice/media-streams/websocket-messages#stop-message). Resolves when the socket has closed.
   */
  hangup(reason = 'hangup'): Promise<ClosedInfo> {
    if (this.ending || !this.ws) return this.closed;
    this.endReason ??= reason;
    this.ending = true;
    this.stopPacing();
    this.send(
      { event: 'stop', sequenceNumber: String(++this.seq), stop: { accountSid: this.accountSid, callSid: this.callSid }, streamSid: this.streamSid },
      true,
    );
    // Twilio's close code is unverified (not documented); 1000 is the plain "normal closure".
    this.ws.close(1000, 'call ended');
    const ws = this.ws;
    const force = setTimeout(() => ws.terminate(), 2000);
    void this.closed.then(() => clearTimeout(force));
    return this.closed;
  }

  /** Fault: the carrier's TCP connection is gone at once, no `stop` and no close frame (the server sees 1006). */
  drop(): Promise<ClosedInfo> {
    if (this.ending || !this.ws) return this.closed;
    this.endReason ??= 'dropped';
    this.ending = true;
    this.stopPacing();
    this.ws.terminate();
    return this.closed;
  }

  /** Fault: one more `stop` on the still-open socket (a carrier that repeats it); nothing else changes. */
  sendStop(): void {
    if (!this.ws || this.ws.readyState !== this.ws.OPEN) return;
    const stop = { accountSid: this.accountSid, callSid: this.callSid };
    this.ws.send(JSON.stringify({ event: 'stop', sequenceNumber: String(++this.seq), stop, streamSid: this.streamSid }));
  }

  /** Resolve with the first received message matching `match` (an event name or a predicate), including ones already received unless `includePast` is false. */
  waitFor(match: OutboundMessage['event'] | ((r: Received) => boolean), timeoutMs = 5000, includePast = true): Promise<Received> {
    const pred = typeof match === 'string' ? (r: Received) => r.msg.event === match : match;
    return waitForMessage(this, includePast ? this.received : undefined, this.closedInfo, pred, {
      timeoutMs,
      awaited: typeof match === 'string' ? match : 'the awaited message',
      none: typeof match === 'string' ? match : 'matching message',
    });
  }

  /** The next message received from now on. */
  next(timeoutMs = 5000): Promise<Received> {
    return this.waitFor(() => true, timeoutMs, false);
  }

  /** μ-law bytes actually played (see `Playout.played`); `withGaps` fills idle time with silence. */
  played(withGaps = false): Buffer {
    return this.playout?.played(withGaps) ?? Buffer.alloc(0);
  }

  /** Playout log: segments of uninterrupted agent audio (wall ms since `start`, bytes at 8 per ms). */
  get playoutLog() {
    return this.playout?.segments ?? [];
  }

  /** Messages sent so far (the `sequenceNumber` counter) and media frames sent. */
  get counters(): { sequenceNumber: number; mediaFrames: number } {
    return { sequenceNumber: this.seq, mediaFrames: this.chunk };
  }

  // --- internals ------------------------------------------------------------------------------

  private send(msg: object, evenIfEnding = false): void {
    if (!this.ws || (this.ending && !evenIfEnding) || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(msg));
  }

  private tick(): void {
    const now = this.nowMs();
    this.playout?.advance(now);
    // Frame n is due at n × 20 ms / speed of wall time; catch up if the event loop stalled.
    while (!this.ending && this.frameIndex * (FRAME_MS / this.speed) <= now) this.sendFrame();
  }

  private sendFrame(): void {
    const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
    const mediaMs = this.frameIndex * FRAME_MS;
    let filled = 0;
    if (this.caller.queued > 0) {
      const clip = this.callerClips[this.callerClips.length - 1];
      if (!clip || clip.endMs !== undefined) this.callerClips.push({ startMs: mediaMs, bytes: 0 });
      filled = this.caller.fill(frame);
      this.callerClips[this.callerClips.length - 1]!.bytes += filled;
    }
    this.frameIndex++;
    // timestamp = media ms since stream start; at speed 1 this equals wall ms
    // (https://www.twilio.com/docs/voice/media-streams/websocket-messages#media-message).
    this.send({
      event: 'media',
      sequenceNumber: String(++this.seq),
      media: { track: 'inbound', chunk: String(++this.chunk), timestamp: String(mediaMs), payload: frame.toString('base64') },
      streamSid: this.streamSid,
    });
    if (filled > 0 && this.caller.queued === 0) {
      this.callerClips[this.callerClips.length - 1]!.endMs = mediaMs + FRAME_MS;
      this.emit('caller-idle', this.nowMs());
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.ending || this.closedInfo) return; // messages after the socket closed are ignored
    const atMs = this.nowMs();
    const text = isBinary ? '' : data.toString('utf8');
    const res = checkOutboundFrame(text, isBinary, this.streamSid);
    if (!res.ok) {
      this.violate({ code: res.code, reason: res.reason, dropped: true, atMs, raw: isBinary ? `<${data.length} binary bytes>` : text.slice(0, 200) });
      return;
    }
    for (const flag of res.flags) this.violate({ code: 31951, reason: flag, dropped: false, atMs, raw: text.slice(0, 200) });
    const r: Received = { atMs, msg: res.msg };
    this.received.push(r);
    const msg = res.msg;
    if (msg.event === 'media') {
      this.firstMediaAtMs ??= atMs;
      if (!this.twiml.bidirectional) this.notes.push('media sent on a one-way <Start><Stream>: not played');
      else {
        const discarded = this.playout!.enqueueAudio(Buffer.from(msg.media.payload, 'base64'), atMs);
        if (discarded > 0) this.violate({ code: 31931, reason: `over 10 minutes buffered: ${discarded} bytes discarded`, dropped: true, atMs, raw: '' });
      }
    } else if (msg.event === 'mark') {
      this.marks.push({ name: msg.mark.name, sentAtMs: atMs });
      this.playout!.enqueueMark(msg.mark.name, atMs);
    } else {
      const { discardedBytes, marks } = this.playout!.clear(atMs);
      const c = { atMs, discardedBytes, marks };
      this.clears.push(c);
      this.emit('clear', c);
    }
    this.emit('message', r);
  }

  private echoMark(name: string, cleared: boolean): void {
    const rec = this.marks.find((m) => m.name === name && m.echoedAtMs === undefined);
    this.send({ event: 'mark', sequenceNumber: String(++this.seq), streamSid: this.streamSid, mark: { name } });
    if (rec) {
      rec.echoedAtMs = this.nowMs();
      rec.cleared = cleared;
      this.emit('mark', rec);
    }
  }

  private violate(v: Violation): void {
    this.violations.push(v);
    this.emit('violation', v);
  }

  private stopPacing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private onSocketClose(code: number, reason: string): void {
    const byServer = !this.ending;
    this.ending = true;
    this.stopPacing();
    if (byServer) {
      this.endReason ??= 'server-close';
      // Server closed: no stop is sent (unverified); the TwiML after </Connect> runs (https://www.twilio.com/docs/voice/twiml/connect).
      if (this.twiml.connectAction) this.notes.push(`<Connect action> would be requested: ${this.twiml.connectAction}`);
      else if (this.twiml.afterConnect.includes('Pause')) this.notes.push('<Pause> after </Connect>: the line stays open after the server closed the stream');
      else if (this.twiml.afterConnect.length && this.twiml.afterConnect[0] !== 'Hangup')
        this.notes.push(`TwiML continues after </Connect>: ${this.twiml.afterConnect.join(', ')}`);
    }
    this.finish({ by: byServer ? 'server' : 'carrier', code, reason });
  }

  private finish(info: ClosedInfo): void {
    if (this.closedInfo) return;
    this.ending = true;
    this.stopPacing();
    this.playout?.close(this.nowMs());
    this.closedInfo = info;
    this.resolveClosed(info);
    this.emit('closed', info);
  }
}

export { MULAW_BYTES_PER_MS };

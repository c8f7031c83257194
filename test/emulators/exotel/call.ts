/**
 * One emulated Exotel Voicebot stream, spoken from Exotel's end (docs/protocols/exotel.md#emulator;
 * https://developer.exotel.com/docs/agentstream/websocket-protocol):
 * `connected`, `start`, caller `media` as base64 PCM16LE at the stream rate paced by the wall clock
 * (~100 ms per message, 20 ms selectable), `dtmf`, `stop`; what the server sends is checked
 * (./outbound-check.ts), played at 16/32/48 bytes per ms, marks echoed when playout passes them,
 * `clear` drops queued chunks but lets the one playing finish.
 * `variant: 'camel'` speaks the spellings of docs/protocols/exotel.md#spellings (camelCase keys, numbers, `linear16`, `caller_hangup`).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { Resampler } from '../../../src/audio/resample';
import { Playout } from '../twilio/playout';
import { CallerQueue } from '../caller-queue';
import { waitForMessage } from '../wait-emitted';
import { checkExotelFrame, type ExotelOutboundMessage, type ExotelViolation } from './outbound-check';

export type ExotelRate = 8000 | 16000 | 24000;

export interface ExotelCallSetup {
  callSid: string;
  streamSid: string;
  accountSid: string;
  from: string;
  to: string;
  direction: 'incoming' | 'outbound-dial' | 'outbound-api';
  rate: ExotelRate;
  /** Stream URL query parameters other than `sample-rate` (they become `custom_parameters`). */
  customParameters: Record<string, string>;
  speed: number;
  /** Ms of caller audio per `media` message. Default 100. */
  frameMs: number;
  variant: 'documented' | 'camel';
}

export interface ExotelReceived {
  atMs: number;
  msg: ExotelOutboundMessage;
}

export interface ExotelMarkRecord {
  name: string;
  sentAtMs: number;
  echoedAtMs?: number;
  cleared?: boolean;
}

export interface ExotelClosed {
  by: 'server' | 'carrier';
  code: number;
  reason: string;
}

type Events = {
  message: [r: ExotelReceived];
  violation: [v: ExotelViolation];
  mark: [m: ExotelMarkRecord];
  clear: [c: { atMs: number; discardedBytes: number }];
  'playout-start': [atMs: number, idleMs: number];
  closed: [info: ExotelClosed];
};

/** A live (or finished) emulated Exotel stream, created by `ExotelCarrierEmulator`. */
export class ExotelStreamCall extends EventEmitter<Events> {
  readonly received: ExotelReceived[] = [];
  readonly violations: ExotelViolation[] = [];
  readonly marks: ExotelMarkRecord[] = [];
  readonly clears: { atMs: number; discardedBytes: number }[] = [];
  readonly notes: string[] = [];
  /** Outbound media payload sizes (bytes), in order. */
  readonly chunkSizes: number[] = [];
  /** Wall ms from `start` to the first valid outbound media. */
  firstMediaAtMs?: number;
  /** Largest amount of audio (ms) the server had queued ahead of playout. */
  maxAheadMs = 0;
  readonly closed: Promise<ExotelClosed>;
  readonly bytesPerMs: number;

  private ws?: WebSocket;
  private t0 = 0;
  private seq = 0;
  private chunk = 0;
  private frameIndex = 0;
  private readonly caller = new CallerQueue();
  private timer?: NodeJS.Timeout;
  private playout?: Playout;
  private ending = false;
  private closedInfo?: ExotelClosed;
  private resolveClosed!: (c: ExotelClosed) => void;

  constructor(readonly setup: ExotelCallSetup) {
    super();
    this.bytesPerMs = (setup.rate / 1000) * 2;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  get callSid(): string {
    return this.setup.callSid;
  }

  get streamSid(): string {
    return this.setup.streamSid;
  }

  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  /** PCM16 bytes waiting in the playback buffer. */
  get bufferedBytes(): number {
    return this.playout?.bufferedBytes ?? 0;
  }

  get callerIdle(): boolean {
    return this.caller.queued === 0;
  }

  /** Segments of uninterrupted playout (wall ms since `start`). */
  get playoutLog() {
    return this.playout?.segments ?? [];
  }

  nowMs(): number {
    return performance.now() - this.t0;
  }

  /** @internal socket open: send `connected` + `start`, start pacing. */
  begin(ws: WebSocket): void {
    this.ws = ws;
    const s = this.setup;
    const camel = s.variant === 'camel';
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
    ws.on('error', (err) => this.notes.push(`socket error: ${err.message}`));
    this.send({ event: 'connected' });
    this.t0 = performance.now();
    this.playout = new Playout(
      s.speed,
      0,
      {
        onMark: (name, cleared) => this.echoMark(name, cleared),
        onStart: (at, idle) => this.emit('playout-start', at, idle),
      },
      10 * 60 * 1000 * this.bytesPerMs,
      { bytesPerMs: this.bytesPerMs, silenceByte: 0, clearKeepsPlayingChunk: true },
    );
    const start = camel
      ? {
          streamSid: s.streamSid,
          callSid: s.callSid,
          accountSid: s.accountSid,
          from: s.from,
          to: s.to,
          customParameters: s.customParameters,
          mediaFormat: { encoding: 'linear16', sampleRate: s.rate, bitRate: 16 },
        }
      : {
          stream_sid: s.streamSid,
          call_sid: s.callSid,
          account_sid: s.accountSid,
          from: s.from,
          to: s.to,
          custom_parameters: s.customParameters,
          media_format: { encoding: 'audio/x-raw', sample_rate: String(s.rate), bit_rate: '16' },
        };
    this.send(
      camel
        ? { event: 'start', sequenceNumber: ++this.seq, streamSid: s.streamSid, start }
        : { event: 'start', sequence_number: String(++this.seq), stream_sid: s.streamSid, start },
    );
    this.timer = setInterval(() => this.tick(), Math.max(2, s.frameMs / s.speed / 4));
  }

  /** @internal the stream never opened. */
  fail(reason: string): void {
    this.notes.push(reason);
    this.finish({ by: 'carrier', code: 0, reason });
  }

  /** Queue caller speech given as 8 kHz PCM16 samples; resampled to the stream rate. */
  sendAudio(samples8k: Int16Array): void {
    const s = this.setup.rate === 8000 ? samples8k : new Resampler(8000, this.setup.rate).process(samples8k);
    const pcm = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
    this.caller.push(Buffer.from(pcm));
  }

  /** Send a `dtmf` message (`digit`, `duration` ms). */
  sendDtmf(digit: string, durationMs = 100): void {
    const camel = this.setup.variant === 'camel';
    this.send(
      camel
        ? { event: 'dtmf', sequenceNumber: ++this.seq, streamSid: this.streamSid, dtmf: { digit, duration: durationMs } }
        : { event: 'dtmf', sequence_number: String(++this.seq), stream_sid: this.streamSid, dtmf: { digit, duration: String(durationMs) } },
    );
  }

  /** Send an arbitrary frame, for malformed-input tests. */
  sendRaw(data: string | Buffer, binary = false): void {
    if (!this.ending && this.ws) this.ws.send(data, { binary });
  }

  /** Caller hangs up (`callended`) or the applet ends (`stopped`): `stop`, then close (https://developer.exotel.com/docs/agentstream/websocket-protocol). */
  hangup(reason: 'callended' | 'stopped' = 'callended'): Promise<ExotelClosed> {
    if (this.ending || !this.ws) return this.closed;
    this.ending = true;
    this.stopPacing();
    const camel = this.setup.variant === 'camel';
    const stop = camel
      ? { callSid: this.callSid, accountSid: this.setup.accountSid, reason: reason === 'callended' ? 'caller_hangup' : reason }
      : { call_sid: this.callSid, account_sid: this.setup.accountSid, reason };
    this.send(
      camel
        ? { event: 'stop', sequenceNumber: ++this.seq, streamSid: this.streamSid, stop }
        : { event: 'stop', sequence_number: String(++this.seq), stream_sid: this.streamSid, stop },
      true,
    );
    this.ws.close(1000, 'call ended');
    const ws = this.ws;
    const force = setTimeout(() => ws.terminate(), 2000);
    void this.closed.then(() => clearTimeout(force));
    return this.closed;
  }

  /** First received message matching `match` (past ones included). */
  waitFor(match: ExotelOutboundMessage['event'] | ((r: ExotelReceived) => boolean), timeoutMs = 5000): Promise<ExotelReceived> {
    const pred = typeof match === 'string' ? (r: ExotelReceived) => r.msg.event === match : match;
    return waitForMessage(this, this.received, this.closedInfo, pred, { timeoutMs, awaited: 'the awaited message', none: 'matching message' });
  }

  /** PCM16 bytes actually played; `withGaps` fills idle time with silence. */
  played(withGaps = false): Buffer {
    return this.playout?.played(withGaps) ?? Buffer.alloc(0);
  }

  /** Messages sent (the shared `sequence_number` counter) and media messages sent. */
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
    const ahead = this.bufferedBytes / this.bytesPerMs;
    if (ahead > this.maxAheadMs) this.maxAheadMs = ahead;
    const frameMs = this.setup.frameMs;
    while (!this.ending && this.frameIndex * (frameMs / this.setup.speed) <= now) this.sendFrame();
  }

  private sendFrame(): void {
    const frameBytes = this.setup.frameMs * this.bytesPerMs;
    const frame = Buffer.alloc(frameBytes);
    this.caller.fill(frame);
    const mediaMs = this.frameIndex * this.setup.frameMs;
    this.frameIndex++;
    const payload = frame.toString('base64');
    if (this.setup.variant === 'camel') {
      this.send({ event: 'media', sequenceNumber: ++this.seq, streamSid: this.streamSid, media: { chunk: ++this.chunk, timestamp: mediaMs, payload } });
    } else {
      this.send({
        event: 'media',
        sequence_number: String(++this.seq),
        stream_sid: this.streamSid,
        media: { chunk: String(++this.chunk), timestamp: String(mediaMs), payload },
      });
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closedInfo) return;
    const atMs = this.nowMs();
    const text = isBinary ? '' : data.toString('utf8');
    const res = checkExotelFrame(text, isBinary, this.streamSid);
    if (!res.ok) return this.violate({ severity: 'error', reason: res.reason, atMs, raw: isBinary ? `<${data.length} binary bytes>` : text.slice(0, 200) });
    for (const n of res.notes) this.violate({ severity: 'note', reason: n, atMs, raw: text.slice(0, 200) });
    const r: ExotelReceived = { atMs, msg: res.msg };
    this.received.push(r);
    const msg = res.msg;
    if (msg.event === 'media') {
      this.firstMediaAtMs ??= atMs;
      this.chunkSizes.push(res.payloadBytes!);
      this.playout!.enqueueAudio(Buffer.from(msg.media.payload, 'base64'), atMs);
    } else if (msg.event === 'mark') {
      this.marks.push({ name: msg.mark.name, sentAtMs: atMs });
      this.playout!.enqueueMark(msg.mark.name, atMs);
    } else {
      const { discardedBytes } = this.playout!.clear(atMs);
      const c = { atMs, discardedBytes };
      this.clears.push(c);
      this.emit('clear', c);
    }
    this.emit('message', r);
  }

  private echoMark(name: string, cleared: boolean): void {
    const rec = this.marks.find((m) => m.name === name && m.echoedAtMs === undefined);
    const camel = this.setup.variant === 'camel';
    this.send(
      camel
        ? { event: 'mark', sequenceNumber: ++this.seq, streamSid: this.streamSid, mark: { name } }
        : { event: 'mark', sequence_number: String(++this.seq), stream_sid: this.streamSid, mark: { name } },
    );
    if (rec) {
      rec.echoedAtMs = this.nowMs();
      rec.cleared = cleared;
      this.emit('mark', rec);
    }
  }

  private violate(v: ExotelViolation): void {
    this.violations.push(v);
    this.emit('violation', v);
  }

  private stopPacing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private onSocketClose(code: number, reason: string): void {
    const byServer = !this.ending;
    this.finish({ by: byServer ? 'server' : 'carrier', code, reason });
  }

  private finish(info: ExotelClosed): void {
    if (this.closedInfo) return;
    this.ending = true;
    this.stopPacing();
    this.playout?.close(this.nowMs());
    this.closedInfo = info;
    this.resolveClosed(info);
    this.emit('closed', info);
  }
}

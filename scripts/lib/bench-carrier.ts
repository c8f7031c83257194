/**
 * Bench carrier: a light Twilio load generator for many concurrent calls (the full emulator in
 * test/emulators/twilio/ checks every frame and models playout, too heavy for 1,000 calls).
 * Per call: signed `POST /inbound` (docs/protocols/twilio.md#signatures), the `<Stream>` socket with a
 * signed upgrade, `connected` + `start` with the TwiML's `<Parameter>`s (docs/protocols/twilio.md#stream-messages),
 * then one 160-byte μ-law `media` frame every 20 ms of wall time (one shared 5 ms ticker for all
 * calls, catching up if late), each stamped with its send time (./bench-stamp.ts) into a precomputed
 * message (./bench-twilio-frames.ts). Marks are echoed on receipt (a load generator has no playout).
 * Received media stamped by the provider give the provider → carrier time through the bridge;
 * received messages are inspected as bytes, never decoded to strings or parsed.
 * Works against any target that answers the webhook with `<Connect><Stream>`: callbridge or the
 * bench forwarder (bench/forwarder.ts).
 */
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import WebSocket from 'ws';
import { GREETING_TAG, readStampB64 } from './bench-stamp';
import { DirectionLatency, type LatencySummary } from './bench-stats';
import { MarkEcho, MediaTemplate, payloadStart } from './bench-twilio-frames';

const FRAME_MS = 20;
const TEXT = { binary: false };
const MARK_EVENT = Buffer.from('"event":"mark"');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CarrierTarget {
  /** http://127.0.0.1:port of the bridge. */
  base: string;
  /** The bridge's PUBLIC_URL (signatures are computed over it). */
  publicUrl: string;
  authToken: string;
  accountSid: string;
}

/** What dialling a batch of calls gave. */
export interface DialResult {
  /** Webhook POST sent → TwiML answer received (ms), one per answered webhook. */
  answerMs: number[];
  /** Webhook POST sent → first agent audio (the provider's greeting) at the carrier (ms). */
  greetMs: number[];
  /** Calls that got no TwiML, no socket or no greeting within the timeout. */
  failed: number;
  /** Ms from the first webhook until every call of the batch greeted or failed. */
  elapsedMs: number;
  /** Call-seconds streamed during the batch by the calls of the batch (to take steady-state CPU out of set-up CPU). */
  streamSecs: number;
}

class BenchCall {
  ws?: WebSocket;
  seq = 0;
  frames = 0;
  /** performance.now() when the stream started (frame k is due at t0 + 20·k ms). */
  t0 = 0;
  closed = false;
  readonly media: MediaTemplate;
  readonly mark: MarkEcho;
  constructor(
    readonly callSid: string,
    readonly streamSid: string,
  ) {
    this.media = new MediaTemplate(streamSid);
    this.mark = new MarkEcho(streamSid);
  }
}

let sidSeq = 0;
const sid = (prefix: string) => prefix + (++sidSeq).toString(16).padStart(32, '0');

/** A pool of live bench calls against one target, sharing one pacing ticker. */
export class BenchCarrier {
  calls: BenchCall[] = [];
  /** Provider → carrier ms of each stamped frame received since the last `take()` (all, and without this process's stalls). */
  private readonly outbound = new DirectionLatency();
  /** Messages the bridge sent to the carrier (media, mark, clear, …) since the last `take()`. */
  private messagesIn = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly t: CarrierTarget) {}

  /** Calls streaming now. */
  get live(): number {
    return this.calls.filter((c) => !c.closed).length;
  }

  /**
   * Dial `n` more calls, one every `spacingMs` (open loop: a slow answer does not delay the next
   * call). Resolves when every call greeted, or failed (no greeting within `timeoutMs`).
   */
  async dial(n: number, spacingMs = 10, timeoutMs = 15_000): Promise<DialResult> {
    const r: DialResult = { answerMs: [], greetMs: [], failed: 0, elapsedMs: 0, streamSecs: 0 };
    this.timer ??= setInterval(() => this.tick(), 5);
    const start = performance.now();
    const batch: BenchCall[] = [];
    const placed: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const due = start + i * spacingMs - performance.now();
      if (due > 0) await sleep(due);
      const call = new BenchCall(sid('CA'), sid('MZ'));
      batch.push(call);
      placed.push(
        this.place(call, r, timeoutMs).catch(() => {
          r.failed++;
          call.closed = true;
          call.ws?.terminate();
        }),
      );
    }
    await Promise.all(placed);
    const end = performance.now();
    r.elapsedMs = end - start;
    for (const c of batch) if (c.t0) r.streamSecs += (end - c.t0) / 1000;
    return r;
  }

  /** Latencies and messages received since the last call. */
  take(): { outbound: { all: LatencySummary; clean: LatencySummary }; messagesIn: number } {
    const r = { outbound: this.outbound.take(), messagesIn: this.messagesIn };
    this.messagesIn = 0;
    return r;
  }

  /** Hang every call up (`stop`, then close) and wait (≤ 3 s) for the sockets to close. */
  async hangUp(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const c of this.calls) {
      const ws = c.ws;
      c.closed = true;
      if (!ws || ws.readyState === WebSocket.CLOSED) continue;
      closing.push(new Promise((r) => ws.once('close', () => r())));
      if (ws.readyState === WebSocket.OPEN) {
        const stop = { accountSid: this.t.accountSid, callSid: c.callSid };
        ws.send(JSON.stringify({ event: 'stop', sequenceNumber: String(++c.seq), streamSid: c.streamSid, stop }));
      }
      ws.close(1000);
    }
    await Promise.race([Promise.all(closing), sleep(3000)]);
    for (const c of this.calls) c.ws?.terminate();
    this.calls = [];
  }

  /** Hang up and stop the ticker. */
  async close(): Promise<void> {
    await this.hangUp();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One call: webhook → socket → start → greeting. */
  private async place(call: BenchCall, r: DialResult, timeoutMs: number): Promise<void> {
    const params = {
      CallSid: call.callSid,
      AccountSid: this.t.accountSid,
      From: '+14155550100',
      To: '+15550000000',
      Direction: 'inbound',
      CallStatus: 'ringing',
    };
    const started = performance.now();
    const res = await fetch(`${this.t.base}/inbound`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(this.t.authToken, `${this.t.publicUrl}/inbound`, params),
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const twiml = await res.text();
    if (!res.ok || !twiml.includes('<Stream')) throw new Error(`no stream in TwiML: ${twiml.slice(0, 120)}`);
    r.answerMs.push(performance.now() - started);
    const custom: Record<string, string> = {};
    for (const m of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)) custom[m[1]!] = m[2]!;
    const wssUrl = `wss://${new URL(this.t.publicUrl).host}/media-stream`;
    const ws = new WebSocket(`${this.t.base.replace('http', 'ws')}/media-stream`, {
      perMessageDeflate: false,
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(this.t.authToken, wssUrl, {}) },
    });
    call.ws = ws;
    this.calls.push(call);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no greeting')), Math.max(1, timeoutMs - (performance.now() - started)));
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      ws.on('error', fail);
      ws.on('close', () => {
        call.closed = true;
        fail(new Error('closed'));
      });
      ws.on('open', () => {
        ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
        const mediaFormat = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 };
        const start = {
          accountSid: this.t.accountSid,
          streamSid: call.streamSid,
          callSid: call.callSid,
          tracks: ['inbound'],
          customParameters: custom,
          mediaFormat,
        };
        ws.send(JSON.stringify({ event: 'start', sequenceNumber: String(++call.seq), start, streamSid: call.streamSid }));
        call.t0 = performance.now();
      });
      ws.on('message', (data: Buffer) => {
        this.messagesIn++;
        if (data.indexOf(MARK_EVENT) >= 0) {
          const echo = call.mark.render(data, call.seq + 1);
          if (echo) {
            call.seq++;
            ws.send(echo, TEXT);
          }
          return;
        }
        const at = payloadStart(data);
        if (at < 0) return;
        const stamp = readStampB64(data, at);
        if (!stamp) return;
        if (stamp.tag === GREETING_TAG) {
          r.greetMs.push(performance.now() - started);
          clearTimeout(timer);
          resolve();
          return;
        }
        this.outbound.record(stamp.providerNs);
      });
    });
  }

  /** Send every frame that is due (frame k at t0 + 20·k ms). */
  private tick(): void {
    const now = performance.now();
    for (const c of this.calls) {
      if (c.closed || !c.t0 || c.ws?.readyState !== WebSocket.OPEN) continue;
      while (c.t0 + c.frames * FRAME_MS <= now) {
        const ts = c.frames * FRAME_MS;
        c.frames++;
        c.ws.send(c.media.render(++c.seq, c.frames, ts), TEXT);
      }
    }
  }
}

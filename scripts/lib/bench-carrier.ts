/**
 * Bench carrier: a light Twilio load generator for many concurrent calls (the full emulator in
 * test/emulators/twilio/ checks every frame and models playout, too heavy for 1,000 calls).
 * Per call: signed `POST /inbound` (docs/protocols/twilio.md#signatures), the `<Stream>` socket with a signed upgrade,
 * `connected` + `start` with the TwiML's `<Parameter>`s, then one 160-byte μ-law `media` frame every
 * 20 ms of wall time (one shared 5 ms ticker for all calls, catching up if late), each stamped with
 * its send time (./bench-stamp.ts). Marks are echoed on receipt (a load generator has no playout).
 * Received media stamped by the provider give the provider → carrier time through the bridge.
 */
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import WebSocket from 'ws';
import { GREETING_TAG, MEDIA_TAG, nowNs, readStamp, stampFrame } from './bench-stamp';

const FRAME_MS = 20;

export interface CarrierTarget {
  /** http://127.0.0.1:port of the bridge. */
  base: string;
  /** The bridge's PUBLIC_URL (signatures are computed over it). */
  publicUrl: string;
  authToken: string;
  accountSid: string;
}

class BenchCall {
  ws?: WebSocket;
  seq = 0;
  frames = 0;
  t0 = 0;
  setupMs?: number;
  closed = false;
  constructor(
    readonly callSid: string,
    readonly streamSid: string,
  ) {}
}

let sidSeq = 0;
const sid = (prefix: string) => prefix + (++sidSeq).toString(16).padStart(32, '0');

/** A pool of live bench calls sharing one pacing ticker. */
export class BenchCarrier {
  readonly calls: BenchCall[] = [];
  /** Provider → carrier ms of each stamped frame received since the last `take()`. */
  private outbound: number[] = [];
  private framesIn = 0;
  private timer?: NodeJS.Timeout;
  failures = 0;

  constructor(private readonly t: CarrierTarget) {}

  /** Start `n` more calls, at most `parallel` setting up at once. Resolves when all are streaming (or failed). */
  async add(n: number, parallel = 25): Promise<number[]> {
    const setups: number[] = [];
    let left = n;
    const worker = async () => {
      while (left-- > 0) {
        const ms = await this.place().catch(() => undefined);
        if (ms === undefined) this.failures++;
        else setups.push(ms);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    this.timer ??= setInterval(() => this.tick(), 5);
    return setups;
  }

  /** Latencies (ms) and frames received since the last call. */
  take(): { outboundMs: number[]; framesIn: number } {
    const r = { outboundMs: this.outbound, framesIn: this.framesIn };
    this.outbound = [];
    this.framesIn = 0;
    return r;
  }

  /** Hang every call up (`stop`, then close). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.calls) {
      if (c.ws?.readyState === WebSocket.OPEN)
        c.ws.send(
          JSON.stringify({
            event: 'stop',
            sequenceNumber: String(++c.seq),
            streamSid: c.streamSid,
            stop: { accountSid: this.t.accountSid, callSid: c.callSid },
          }),
        );
      c.ws?.close(1000);
      c.closed = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  /** One call: webhook → socket → start; resolves with webhook → first agent audio (ms). */
  private async place(): Promise<number> {
    const call = new BenchCall(sid('CA'), sid('MZ'));
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
    });
    const twiml = await res.text();
    const custom: Record<string, string> = {};
    for (const m of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)) custom[m[1]!] = m[2]!;
    if (!custom.token) throw new Error(`no stream in TwiML: ${twiml.slice(0, 120)}`);
    const wssUrl = `wss://${new URL(this.t.publicUrl).host}/media-stream`;
    const ws = new WebSocket(`${this.t.base.replace('http', 'ws')}/media-stream`, {
      perMessageDeflate: false,
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(this.t.authToken, wssUrl, {}) },
    });
    call.ws = ws;
    return new Promise<number>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('close', () => {
        call.closed = true;
        reject(new Error('closed'));
      });
      ws.on('open', () => {
        ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
        ws.send(
          JSON.stringify({
            event: 'start',
            sequenceNumber: String(++call.seq),
            start: {
              accountSid: this.t.accountSid,
              streamSid: call.streamSid,
              callSid: call.callSid,
              tracks: ['inbound'],
              customParameters: custom,
              mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
            },
            streamSid: call.streamSid,
          }),
        );
        call.t0 = performance.now();
        this.calls.push(call);
      });
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('{"event":"mark"')) {
          const name = text.slice(text.indexOf('"name":"') + 8, text.lastIndexOf('"'));
          ws.send(`{"event":"mark","sequenceNumber":"${++call.seq}","streamSid":"${call.streamSid}","mark":{"name":"${name}"}}`);
          return;
        }
        const at = text.indexOf('"payload":"');
        if (at < 0) return;
        const frame = Buffer.from(text.slice(at + 11, text.indexOf('"', at + 11)), 'base64');
        const stamp = readStamp(frame);
        if (!stamp) return;
        if (stamp.tag === GREETING_TAG) {
          call.setupMs ??= performance.now() - started;
          resolve(call.setupMs);
          return;
        }
        this.framesIn++;
        this.outbound.push(Number(nowNs() - stamp.providerNs) / 1e6);
      });
    });
  }

  /** Send every frame that is due (frame k at t0 + 20·k ms). */
  private tick(): void {
    const now = performance.now();
    const frame = Buffer.alloc(160, 0xff);
    for (const c of this.calls) {
      if (c.closed || c.ws?.readyState !== WebSocket.OPEN) continue;
      while (c.t0 + c.frames * FRAME_MS <= now) {
        stampFrame(frame, MEDIA_TAG, nowNs(), 0n);
        const ts = c.frames * FRAME_MS;
        c.frames++;
        const media = `{"track":"inbound","chunk":"${c.frames}","timestamp":"${ts}","payload":"${frame.toString('base64')}"}`;
        c.ws.send(`{"event":"media","sequenceNumber":"${++c.seq}","media":${media},"streamSid":"${c.streamSid}"}`);
      }
    }
  }
}

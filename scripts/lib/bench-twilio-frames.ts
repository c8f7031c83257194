/**
 * Precomputed Twilio Media Streams messages for the bench carrier, so that driving many calls costs
 * no JSON.stringify, no base64 of a fresh frame and no new string per message: one Buffer per call
 * holds the whole `media` message, and each frame only rewrites its counters' digits and the 28
 * base64 characters of its stamp (./bench-stamp.ts) in place. The layout is Twilio's, compact:
 * `{"event":"media","sequenceNumber":"N","media":{"track":"inbound","chunk":"N","timestamp":"N","payload":"…"},"streamSid":"MZ…"}`
 * (docs/protocols/twilio.md#stream-messages; values that look numeric are strings). The buffer is
 * rebuilt only when a counter gains a digit.
 *
 * Sending the returned Buffer with `ws.send(buf, { binary: false })` is safe to reuse at once: a `ws`
 * client masks every frame into a copy (RFC 6455 §5.3), so the template is never queued itself.
 */
import { digitsOf, FILL, MEDIA_TAG, nowNs, writeDigits, writeStampB64 } from './bench-stamp';

/** One 20 ms frame of μ-law 8 kHz (docs/protocols/twilio.md#audio). */
export const FRAME_BYTES = 160;
const SILENCE_B64 = Buffer.alloc(FRAME_BYTES, FILL).toString('base64');

/** A call's reusable `media` message. */
export class MediaTemplate {
  private buf = Buffer.alloc(0);
  private widths = [0, 0, 0];
  private ends = [0, 0, 0];
  private payloadAt = 0;

  constructor(private readonly streamSid: string) {}

  /** The message for caller frame `chunk` (from 1) with `sequenceNumber` `seq`, `timestamp` `tsMs`, stamped now. */
  render(seq: number, chunk: number, tsMs: number): Buffer {
    const w = [digitsOf(seq), digitsOf(chunk), digitsOf(tsMs)];
    if (w[0] !== this.widths[0] || w[1] !== this.widths[1] || w[2] !== this.widths[2]) this.build(w);
    writeDigits(this.buf, this.ends[0]!, w[0]!, seq);
    writeDigits(this.buf, this.ends[1]!, w[1]!, chunk);
    writeDigits(this.buf, this.ends[2]!, w[2]!, tsMs);
    writeStampB64(this.buf, this.payloadAt, MEDIA_TAG, nowNs(), 0n);
    return this.buf;
  }

  private build(w: number[]): void {
    const parts = [
      '{"event":"media","sequenceNumber":"',
      '0'.repeat(w[0]!),
      '","media":{"track":"inbound","chunk":"',
      '0'.repeat(w[1]!),
      '","timestamp":"',
      '0'.repeat(w[2]!),
      '","payload":"',
    ];
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      at += parts[i]!.length;
      if (i % 2 === 1) this.ends[(i - 1) / 2] = at;
    }
    this.payloadAt = at;
    this.buf = Buffer.from(parts.join('') + SILENCE_B64 + `"},"streamSid":"${this.streamSid}"}`, 'latin1');
    this.widths = w;
  }
}

const MARK_NAME = Buffer.from('"name":"');
const MARK_HEAD = '{"event":"mark","sequenceNumber":"';
const PAYLOAD = Buffer.from('"payload":"');

/**
 * A call's reusable mark echo: `{"event":"mark","sequenceNumber":"N","streamSid":"MZ…","mark":{"name":"…"}}`,
 * the name copied from the bridge's mark (docs/protocols/twilio.md#marks-clear-and-stop). A load
 * generator has no playout, so it echoes each mark on receipt.
 */
export class MarkEcho {
  private readonly buf = Buffer.alloc(1024);
  private readonly head: Buffer;

  constructor(streamSid: string) {
    this.head = Buffer.from(`","streamSid":"${streamSid}","mark":{"name":"`);
    this.buf.write(MARK_HEAD, 0, 'latin1');
  }

  /** The echo of the mark message `msg` with `sequenceNumber` `seq`, or undefined when it has no name. */
  render(msg: Buffer, seq: number): Buffer | undefined {
    const s = msg.indexOf(MARK_NAME);
    if (s < 0) return undefined;
    const from = s + MARK_NAME.length;
    const to = msg.indexOf(0x22, from);
    if (to < 0 || to - from > 900) return undefined;
    const w = digitsOf(seq);
    let at = MARK_HEAD.length + w;
    writeDigits(this.buf, at, w, seq);
    at += this.head.copy(this.buf, at);
    at += msg.copy(this.buf, at, from, to);
    at += this.buf.write('"}}', at, 'latin1');
    return this.buf.subarray(0, at);
  }
}

/** Where the stamp of a received `media` message starts (after `"payload":"`), or -1. */
export function payloadStart(msg: Buffer): number {
  const at = msg.indexOf(PAYLOAD);
  return at < 0 ? -1 : at + PAYLOAD.length;
}

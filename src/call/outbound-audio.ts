/**
 * Agent audio towards the carrier, in whole frames, with a mark after each agent frame and the
 * background ambience mixed under it and filling the silences.
 *
 * - Frames: `frameBytes` of the carrier's format (default 20 ms: 160 B of μ-law 8 kHz for Twilio,
 *   docs/protocols/twilio.md#audio). A partial frame is kept until more audio of the same item arrives; it is
 *   padded with silence and sent when the item changes or the carrier's buffer is about to run dry.
 * - Marks: one after every frame holding agent audio, so what the caller heard (the last echoed mark)
 *   is known to one frame, for barge-in truncation (docs/protocols/twilio.md#marks-clear-and-stop; ./playback.ts).
 * - Ambience: PCM16 at the carrier's rate (../audio/ambience.ts), added sample by sample with
 *   saturation, continuing across frames, then encoded to the carrier's format. While no agent audio
 *   is queued, a shared ticker sends ambience-only frames (no marks) at real-time pace, keeping
 *   `LEAD_MS` buffered at the carrier; the buffered estimate is re-synchronised by every mark echo.
 * - `clear` (barge-in) goes out first; the partial frame and pending marks are dropped, and ambience
 *   resumes at once with a `FADE_MS` fade-in, so the cut is not followed by a click.
 */
import { performance } from 'node:perf_hooks';
import { ambienceLoop, type AmbienceSource } from '../audio/ambience';
import { bytesPerMs, type AudioFormat } from '../audio/format';
import { ALAW, MULAW, type G711Law } from '../audio/g711';
import type { CarrierCommand } from '../carriers/types';
import { sharedTicker, type Ticker } from './ticker';

/** Ms of audio kept buffered at the carrier while only ambience plays: enough to ride out a late tick. */
export const LEAD_MS = 40;
/** Ms of fade-in of the ambience after a `clear` and at the start of the call. */
export const FADE_MS = 10;
/** Default frame duration (ms). */
export const FRAME_MS = 20;

export interface OutboundAudioOptions {
  /** The carrier's format (encoding, rate in Hz). */
  format: AudioFormat;
  /** Frame size in bytes of `format`; default 20 ms (Twilio: 160). Rounded down to whole samples. */
  frameBytes?: number;
  /** Writes one command to the carrier. */
  send(cmd: CarrierCommand): void;
  /** Name of the mark to send after an agent frame of `itemId` lasting `ms` (../call/playback.ts `sent`). */
  markFor(itemId: string | undefined, ms: number): string;
  /** The decoded ambience file; none → no ambience, no filler frames. */
  ambience?: AmbienceSource;
  ticker?: Ticker;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

/** One call's outbound audio. Feed carrier-format agent audio with `push`. */
export class OutboundAudio {
  readonly frameBytes: number;
  readonly frameMs: number;
  private readonly law?: G711Law;
  private readonly bps: number;
  private readonly loop?: Int16Array;
  private loopPos = 0;
  private fade = 0;
  private readonly fadeLen: number;
  private readonly mix: Int32Array;
  private readonly now: () => number;
  private readonly ticker: Ticker;
  private readonly tick = () => this.onTick();
  /** Partial frame of agent audio. */
  private readonly rem: Buffer;
  private remLen = 0;
  private remItem?: string;
  /** Wall ms (clock) until which the audio already sent keeps the carrier busy. */
  private playheadEnd = 0;
  /** Ms of audio sent on this stream so far, and at each pending mark. */
  private sentMs = 0;
  private readonly markAt = new Map<string, number>();
  private closed = false;

  constructor(private readonly o: OutboundAudioOptions) {
    this.bps = o.format.encoding === 'pcm16le' ? 2 : 1;
    this.law = o.format.encoding === 'mulaw' ? MULAW : o.format.encoding === 'alaw' ? ALAW : undefined;
    const want = o.frameBytes ?? bytesPerMs(o.format) * FRAME_MS;
    this.frameBytes = Math.max(this.bps, want - (want % this.bps));
    this.frameMs = this.frameBytes / bytesPerMs(o.format);
    this.rem = Buffer.alloc(this.frameBytes);
    this.mix = new Int32Array(this.frameBytes / this.bps);
    this.fadeLen = Math.max(1, Math.round((FADE_MS * o.format.sampleRate) / 1000));
    this.now = o.now ?? (() => performance.now());
    this.ticker = o.ticker ?? sharedTicker;
    if (o.ambience) {
      this.loop = ambienceLoop(o.ambience, o.format.sampleRate);
      this.ticker.add(this.tick);
    }
  }

  /** Ms of audio the carrier still has to play, as estimated here. */
  get bufferedMs(): number {
    return Math.max(0, this.playheadEnd - this.now());
  }

  /**
   * Agent audio in the carrier's format (any length; PCM16 must be whole samples). Whole frames go
   * out at once, each followed by a mark; the rest waits for more audio.
   */
  push(payload: Buffer, itemId?: string): void {
    if (this.closed || payload.length === 0) return;
    if (this.remLen > 0 && itemId !== this.remItem) this.flushPartial();
    this.remItem = itemId;
    let at = 0;
    if (this.remLen > 0) {
      const n = Math.min(this.frameBytes - this.remLen, payload.length);
      payload.copy(this.rem, this.remLen, 0, n);
      this.remLen += n;
      at = n;
      if (this.remLen < this.frameBytes) return this.armFlush();
      this.sendFrame(Buffer.from(this.rem), itemId, true);
      this.remLen = 0;
    }
    for (; at + this.frameBytes <= payload.length; at += this.frameBytes) this.sendFrame(payload.subarray(at, at + this.frameBytes), itemId, true);
    if (at < payload.length) {
      payload.copy(this.rem, 0, at);
      this.remLen = payload.length - at;
      this.armFlush();
    }
  }

  /** Barge-in: `clear` first, then forget the partial frame and pending marks; ambience fades back in. */
  clear(): void {
    if (this.closed) return;
    this.o.send({ type: 'clear' });
    this.remLen = 0;
    this.markAt.clear();
    this.playheadEnd = this.now();
    this.fade = 0;
    if (!this.loop) this.ticker.remove(this.tick);
  }

  /** A mark came back from the carrier: everything sent before it has played. */
  echoed(name: string): void {
    const at = this.markAt.get(name);
    if (at === undefined) return; // cleared, or not ours
    for (const k of this.markAt.keys()) {
      this.markAt.delete(k);
      if (k === name) break;
    }
    this.playheadEnd = this.now() + (this.sentMs - at);
  }

  /** The call ended: stop the ticker, drop what is held. */
  close(): void {
    this.closed = true;
    this.remLen = 0;
    this.ticker.remove(this.tick);
  }

  private armFlush(): void {
    if (!this.loop) this.ticker.add(this.tick);
  }

  /** Pad the partial frame with silence and send it (end of an item, or the carrier is running dry). */
  private flushPartial(): void {
    const silence = this.law ? this.law.silence : 0;
    this.rem.fill(silence, this.remLen);
    this.remLen = 0;
    this.sendFrame(Buffer.from(this.rem), this.remItem, true);
  }

  private onTick(): void {
    if (this.closed) return;
    const now = this.now();
    if (this.playheadEnd - now >= LEAD_MS) return;
    if (this.remLen > 0) this.flushPartial();
    if (!this.loop) {
      this.ticker.remove(this.tick);
      return;
    }
    if (this.playheadEnd < now) this.playheadEnd = now; // the carrier ran dry: start again from now
    while (this.playheadEnd - now < LEAD_MS) this.sendFrame(undefined, undefined, false);
  }

  /** Send one frame: agent bytes (or none: ambience only) mixed with ambience, then a mark if agent. */
  private sendFrame(agent: Buffer | undefined, itemId: string | undefined, marked: boolean): void {
    const payload = this.loop ? this.mixed(agent) : agent!;
    this.o.send({ type: 'audio', payload });
    this.sentMs += this.frameMs;
    this.playheadEnd = Math.max(this.playheadEnd, this.now()) + this.frameMs;
    if (!marked) return;
    const name = this.o.markFor(itemId, this.frameMs);
    this.markAt.set(name, this.sentMs);
    this.o.send({ type: 'mark', name });
  }

  /** Agent frame (or silence) + the next ambience samples, saturated, in the carrier's encoding. */
  private mixed(agent: Buffer | undefined): Buffer {
    const n = this.mix.length;
    const mix = this.mix;
    const law = this.law;
    if (!agent) mix.fill(0);
    else if (law) for (let i = 0; i < n; i++) mix[i] = law.decode[agent[i]!]!;
    else for (let i = 0, b = 0; i < n; i++, b += 2) mix[i] = ((agent[b]! | (agent[b + 1]! << 8)) << 16) >> 16;
    const loop = this.loop!;
    let p = this.loopPos;
    for (let i = 0; i < n; i++) {
      const a = loop[p]!;
      mix[i] = mix[i]! + (this.fade < this.fadeLen ? Math.round((a * this.fade++) / this.fadeLen) : a);
      if (++p === loop.length) p = 0;
    }
    this.loopPos = p;
    const out = Buffer.allocUnsafe(n * this.bps);
    for (let i = 0; i < n; i++) {
      const v = mix[i]!;
      const s = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (law) out[i] = law.encode[s + 32768]!;
      else {
        out[2 * i] = s & 0xff;
        out[2 * i + 1] = (s >> 8) & 0xff;
      }
    }
    return out;
  }
}

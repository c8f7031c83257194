/**
 * Agent audio towards the carrier, with one mark per chunk; the marks and the playout estimate belong to
 * ./playback.ts, which this only feeds.
 *
 * - Lean path (no ambience): each provider chunk goes out as it arrives, one `media` and one `mark`. A carrier
 *   that declares `OutboundChunking` (../carriers/types.ts; Exotel: 320-byte multiples of at least 3.2 KB, at
 *   most 100 KB, docs/protocols/exotel.md#audio-and-chunking) gets the audio re-cut: whole multiples are sent
 *   once `minBytes` has gathered (no larger than `minBytes` where `clear` lets the playing chunk finish), the
 *   rest of an utterance is zero-padded to a multiple and sent when the item changes or `FLUSH_MS` before the
 *   carrier would run dry; with `leadMs`, chunks go no further than that ahead of the estimated playout (one
 *   timer per call, only while audio waits).
 * - Ambience path (BACKGROUND_AUDIO): fixed frames (20 ms, or the carrier's minimum) with the ambience mixed
 *   under them (./ambience-mixer.ts) and a mark after each agent frame; a partial frame waits for more audio of
 *   the same item, padded with silence when the item changes or the carrier is about to run dry. While the
 *   agent is silent a shared ticker (./ticker.ts) sends ambience-only frames (no marks) at real-time pace,
 *   keeping `LEAD_MS` buffered at the carrier.
 * - `clear` (barge-in) goes out first; everything held here is dropped, the tracker starts a new generation,
 *   and ambience resumes at once with a fade-in.
 */
import type { AmbienceSource } from '../audio/ambience';
import { bytesPerMs, type AudioFormat } from '../audio/format';
import { systemClock, type Clock, type Timer } from '../clock';
import type { CarrierCommand, OutboundChunking } from '../carriers/types';
import { AmbienceMixer } from './ambience-mixer';
import type { PlaybackTracker } from './playback';
import { sharedTicker, type Ticker } from './ticker';

export { FADE_MS } from './ambience-mixer';
/** Ms of audio kept buffered at the carrier while only ambience plays: enough to ride out a late tick. */
export const LEAD_MS = 40;
/** Frame duration (ms) of the ambience path. */
export const FRAME_MS = 20;
/** Ms before the carrier would run dry (and at least after the last audio) at which a held remainder is padded and sent. */
export const FLUSH_MS = 60;

/** The timers of the re-cut remainder and of pacing: the part of the call's Clock (src/clock.ts) used here. */
export type OutboundTimers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export interface OutboundAudioOptions {
  /** The carrier's format (encoding, rate in Hz). */
  format: AudioFormat;
  /** Writes one command to the carrier. */
  send(cmd: CarrierCommand): void;
  /** The call's marks and playout estimate (one per call). */
  playback: PlaybackTracker;
  /** The carrier's payload rules (from its `start` event); none: any size, unpaced. */
  chunking?: OutboundChunking;
  /** The decoded ambience file; none → the lean path. */
  ambience?: AmbienceSource;
  ticker?: Ticker;
  timers?: OutboundTimers;
}

/** What a queued payload is: ambience only, or agent audio followed by a mark. */
const FILLER = 0;
const AGENT = 1;
type Ready = { payload: Buffer; kind: typeof FILLER | typeof AGENT; itemId?: string };

/** One call's outbound audio. Feed carrier-format agent audio with `push`. */
export class OutboundAudio {
  private readonly bpm: number;
  private readonly silence: number;
  private readonly timers: OutboundTimers;
  private readonly ticker: Ticker;
  private readonly tick = () => this.onTick();
  private readonly mixer?: AmbienceMixer;
  /** Held agent audio of `heldItem`: the re-cut remainder (lean) or the partial frame (ambience). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private heldItem?: string;
  /** Payloads waiting for the carrier's lead (`chunking.leadMs`), in order. */
  private ready: Ready[] = [];
  private readyBytes = 0;
  private flushTimer?: Timer;
  private paceTimer?: Timer;
  private closed = false;

  constructor(private readonly o: OutboundAudioOptions) {
    this.bpm = bytesPerMs(o.format);
    this.timers = o.timers ?? systemClock;
    this.ticker = o.ticker ?? sharedTicker;
    if (o.ambience) {
      this.mixer = new AmbienceMixer(o.ambience, o.format, frameBytesFor(o.format, o.chunking));
      this.ticker.add(this.tick);
    }
    this.silence = this.mixer ? this.mixer.silence : o.format.encoding === 'mulaw' ? 0xff : o.format.encoding === 'alaw' ? 0xd5 : 0;
  }

  /** Bytes of the ambience path's frames (undefined on the lean path). */
  get frameBytes(): number | undefined {
    return this.mixer?.frameBytes;
  }

  /** True while agent audio waits here (not yet sent): a barge-in must still clear it. */
  get holding(): boolean {
    return this.heldBytes > 0 || this.ready.some((r) => r.kind === AGENT);
  }

  /** Agent audio in the carrier's format (any length; PCM16 whole samples). */
  push(payload: Buffer, itemId?: string): void {
    if (this.closed || payload.length === 0) return;
    if (this.heldBytes > 0 && itemId !== this.heldItem) this.flushHeld();
    if (this.mixer) return this.pushFramed(payload, itemId);
    const c = this.o.chunking;
    if (!c) return this.dispatch(payload, AGENT, itemId);
    this.hold(payload, itemId);
    const most = c.clearFinishesChunk ? Math.ceil(c.minBytes / c.alignBytes) * c.alignBytes : c.maxBytes;
    while (this.heldBytes >= c.minBytes) this.dispatch(this.take(Math.min(this.heldBytes - (this.heldBytes % c.alignBytes), most)), AGENT, itemId);
    this.armFlush();
  }

  /** Barge-in: `clear` first, then drop what is held; returns what the caller heard of the interrupted item. */
  clear(): { itemId?: string; playedMs: number } {
    if (this.closed) return { playedMs: 0 };
    this.o.send({ type: 'clear' });
    this.drop();
    this.mixer?.restart();
    return this.o.playback.cut();
  }

  /** A mark came back: the tracker re-synchronises the playout, and paced audio may go on. True when it counts as played. */
  echoed(name: string): boolean {
    const counted = this.o.playback.echoed(name);
    if (counted && this.ready.length) this.pump();
    return counted;
  }

  /** The call ended: stop the ticker and timers, drop what is held. */
  close(): void {
    this.closed = true;
    this.drop();
    this.ticker.remove(this.tick);
  }

  /** Ambience path: whole frames out at once, each with a mark; the rest waits for more audio of the item. */
  private pushFramed(payload: Buffer, itemId: string | undefined): void {
    const fb = this.mixer!.frameBytes;
    let at = 0;
    if (this.heldBytes > 0) {
      at = Math.min(fb - this.heldBytes, payload.length);
      this.hold(payload.subarray(0, at), itemId);
      if (this.heldBytes < fb) return;
      this.sendFrame(this.take(fb), itemId);
    }
    for (; at + fb <= payload.length; at += fb) this.sendFrame(payload.subarray(at, at + fb), itemId);
    if (at < payload.length) this.hold(payload.subarray(at), itemId);
  }

  private sendFrame(agent: Buffer | undefined, itemId: string | undefined): void {
    this.dispatch(this.mixer!.mixed(agent), agent ? AGENT : FILLER, itemId);
  }

  private hold(bytes: Buffer, itemId: string | undefined): void {
    if (bytes.length === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    this.heldItem = itemId;
  }

  /** The first `n` held bytes as one buffer (copied when they span chunks). */
  private take(n: number): Buffer {
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    const rest = all.subarray(n);
    this.held = rest.length ? [rest] : [];
    this.heldBytes = rest.length;
    return all.subarray(0, n);
  }

  /** End of an item, or the carrier is about to run dry: pad what is held and send it (a whole frame, or a multiple of the carrier's alignment). */
  private flushHeld(): void {
    if (this.flushTimer) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.heldBytes === 0) return;
    const unit = this.mixer ? this.mixer.frameBytes : (this.o.chunking?.alignBytes ?? 1);
    const padded = Buffer.alloc(Math.ceil(this.heldBytes / unit) * unit, this.silence);
    const n = this.heldBytes;
    this.take(n).copy(padded);
    if (this.mixer) this.sendFrame(padded, this.heldItem);
    else this.dispatch(padded, AGENT, this.heldItem);
  }

  /** Lean re-cut: send the remainder `FLUSH_MS` before the carrier would run dry, and no sooner than `FLUSH_MS` from now. */
  private armFlush(): void {
    if (this.flushTimer) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.heldBytes === 0) return;
    const untilDry = this.o.playback.bufferedMs + this.readyBytes / this.bpm - FLUSH_MS;
    this.flushTimer = this.timers.setTimeout(() => this.flushHeld(), Math.max(FLUSH_MS, untilDry));
    this.flushTimer.unref();
  }

  /** Send now, or queue behind the carrier's lead. */
  private dispatch(payload: Buffer, kind: Ready['kind'], itemId: string | undefined): void {
    const lead = this.o.chunking?.leadMs;
    if (lead === undefined || (this.ready.length === 0 && this.o.playback.bufferedMs <= lead)) return this.write(payload, kind, itemId);
    this.ready.push({ payload, kind, itemId });
    this.readyBytes += payload.length;
    this.pump();
  }

  /** One payload to the carrier, registered with the tracker; agent audio is followed by its mark. */
  private write(payload: Buffer, kind: Ready['kind'], itemId: string | undefined): void {
    const ms = payload.length / this.bpm;
    this.o.send({ type: 'audio', payload });
    if (kind === FILLER) return this.o.playback.filler(ms);
    this.o.send({ type: 'mark', name: this.o.playback.sent(itemId, ms) });
  }

  /** Send queued payloads while the carrier holds no more than `leadMs`; else wait until it does. */
  private pump(): void {
    const lead = this.o.chunking?.leadMs ?? Infinity;
    if (this.paceTimer) this.timers.clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    while (this.ready.length && this.o.playback.bufferedMs <= lead) {
      const r = this.ready.shift()!;
      this.readyBytes -= r.payload.length;
      this.write(r.payload, r.kind, r.itemId);
    }
    if (!this.ready.length) return;
    this.paceTimer = this.timers.setTimeout(() => this.pump(), this.o.playback.bufferedMs - lead);
    this.paceTimer.unref();
  }

  /** Ambience path, every tick: flush a partial frame or add ambience-only frames once less than `LEAD_MS` is buffered. */
  private onTick(): void {
    if (this.closed || this.ready.length || this.o.playback.bufferedMs >= LEAD_MS) return;
    if (this.heldBytes > 0) this.flushHeld();
    while (this.o.playback.bufferedMs < LEAD_MS) this.sendFrame(undefined, undefined);
  }

  private drop(): void {
    this.held = [];
    this.heldBytes = 0;
    this.ready = [];
    this.readyBytes = 0;
    if (this.flushTimer) this.timers.clearTimeout(this.flushTimer);
    if (this.paceTimer) this.timers.clearTimeout(this.paceTimer);
    this.flushTimer = this.paceTimer = undefined;
  }
}

/** Ambience frame size (bytes): 20 ms, raised to the carrier's minimum and rounded up to its alignment, at most its maximum. */
function frameBytesFor(format: AudioFormat, c: OutboundChunking | undefined): number {
  const bps = format.encoding === 'pcm16le' ? 2 : 1;
  let n = bytesPerMs(format) * FRAME_MS;
  if (c) n = Math.min(Math.ceil(Math.max(n, c.minBytes) / c.alignBytes) * c.alignBytes, c.maxBytes);
  return Math.max(bps, n - (n % bps));
}

/**
 * Agent audio towards Exotel in the chunk sizes it requires, paced at about real time.
 *
 * Exotel wants every outbound `media` payload to be a multiple of 320 bytes, at least 3.2 KB and at
 * most 100 KB; smaller chunks distort, non-multiples leave gaps, and an unpaced burst is reported to
 * end the call after ~4 s (unverified beyond Exotel's samples; docs/protocols/exotel.md#audio-and-chunking;
 * https://developer.exotel.com/docs/agentstream/stream-voicebot-applet). The session forwards
 * provider chunks of any size, so this layer:
 * - accumulates PCM16 and cuts `chunkBytes` chunks (max(3 200 B, 100 ms), a 320-multiple);
 * - keeps each `mark` behind the audio that preceded it and sends it after the chunk holding that
 *   audio's last byte;
 * - sends a partial chunk zero-padded to the next 320-byte multiple only when the carrier is about
 *   to run dry (`flushAfterMs` before the estimated end of playback, and at least `flushAfterMs` after
 *   the last audio): the end of an utterance, or a provider slower than real time;
 * - sends chunks no more than `leadMs` ahead of playback: estimated by the wall clock and re-synchronised
 *   by every mark echo (Exotel echoes a mark once the audio before it has played), so pacing follows
 *   the carrier's real playout;
 * - on `clear`, drops everything queued here and sends `clear` at once (barge-in: `clear` goes out before anything else).
 */
import { bytesPerMs, type AudioFormat } from '../../audio/format';
import { systemClock, type Clock, type Timer } from '../../clock';
import type { CarrierCommand } from '../types';
import { EXOTEL_CHUNK_ALIGN_BYTES, EXOTEL_MAX_CHUNK_BYTES, EXOTEL_MIN_CHUNK_BYTES } from './wire';

/** Timers and time, injectable for tests: the part of the call's Clock (src/clock.ts) the framer uses. */
export type OutboundClock = Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;

export interface ExotelOutboundOptions {
  /** The stream's format (PCM16LE at 8/16/24 kHz). */
  format: AudioFormat;
  /** Sends one command to the wire (already a whole 320-multiple chunk for audio). */
  write(cmd: CarrierCommand): void;
  /** Ms of audio that may be sent ahead of real time. Default 300. */
  leadMs?: number;
  /** Ms: a partial chunk is padded and sent this long before playback would run dry (and no sooner than this after the last audio). Default 60. */
  flushAfterMs?: number;
  clock?: OutboundClock;
}

/**
 * The outbound chunk size for a format (bytes): 100 ms of audio, at least 3 200 B, rounded up to a
 * multiple of 320 B, at most 99 840 B. 8 kHz → 3 200 B (200 ms); 16 kHz → 3 200 B; 24 kHz → 4 800 B.
 */
export function exotelChunkBytes(format: AudioFormat): number {
  const want = Math.max(EXOTEL_MIN_CHUNK_BYTES, bytesPerMs(format) * 100);
  const aligned = Math.ceil(want / EXOTEL_CHUNK_ALIGN_BYTES) * EXOTEL_CHUNK_ALIGN_BYTES;
  return Math.min(aligned, EXOTEL_MAX_CHUNK_BYTES);
}

type Item = { kind: 'audio'; bytes: Buffer } | { kind: 'mark'; name: string };

/** One stream's outbound framer and pacer. Not thread-safe; one per socket. */
export class ExotelOutbound {
  readonly chunkBytes: number;
  private readonly bpm: number;
  private readonly leadMs: number;
  private readonly flushAfterMs: number;
  private readonly clock: OutboundClock;
  /** Audio not yet cut into a chunk. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Marks waiting for the tail's audio to be cut; `at` = appended-byte offset they follow. */
  private tailMarks: { name: string; at: number }[] = [];
  /** Bytes appended since the last drop, and how many of them have been cut into chunks. */
  private appended = 0;
  private cut = 0;
  /** Whole chunks and marks ready to go, in order. */
  private ready: Item[] = [];
  /** Wall time (ms, clock) up to which sent audio lasts. */
  private playheadMs = 0;
  /** Wire bytes of audio written so far, and at each mark written (for re-synchronising on echoes). */
  private sentBytes = 0;
  private readonly markAt = new Map<string, number>();
  private pumpTimer?: Timer;
  private flushTimer?: Timer;
  private closed = false;

  constructor(private readonly opts: ExotelOutboundOptions) {
    this.chunkBytes = exotelChunkBytes(opts.format);
    this.bpm = bytesPerMs(opts.format);
    this.leadMs = opts.leadMs ?? 300;
    this.flushAfterMs = opts.flushAfterMs ?? 60;
    this.clock = opts.clock ?? systemClock;
  }

  /** Bytes held here (tail plus ready chunks), not yet on the wire. */
  get queuedBytes(): number {
    let n = this.tailBytes;
    for (const it of this.ready) if (it.kind === 'audio') n += it.bytes.length;
    return n;
  }

  /** One session command: audio is framed, marks are ordered behind their audio, clear is immediate. */
  send(cmd: CarrierCommand): void {
    if (this.closed) return;
    switch (cmd.type) {
      case 'audio':
        this.audio(cmd.payload);
        break;
      case 'mark':
        if (this.tailBytes > 0) this.tailMarks.push({ name: cmd.name, at: this.appended });
        else this.ready.push({ kind: 'mark', name: cmd.name });
        this.pump();
        break;
      case 'clear':
        this.drop();
        this.opts.write(cmd);
        break;
    }
  }

  /**
   * The carrier echoed mark `name`: everything written before it has played, so the playhead is
   * now + what was written after it.
   */
  echoed(name: string): void {
    const at = this.markAt.get(name);
    if (at === undefined) return;
    for (const k of this.markAt.keys()) {
      this.markAt.delete(k);
      if (k === name) break;
    }
    this.playheadMs = this.clock.now() + (this.sentBytes - at) / this.bpm;
    if (this.pumpTimer) {
      this.clock.clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
    }
    this.pump();
  }

  /** Stop timers and forget queued audio (socket closed). */
  close(): void {
    this.closed = true;
    this.drop();
  }

  private audio(payload: Buffer): void {
    if (payload.length === 0) return;
    this.tail.push(payload);
    this.tailBytes += payload.length;
    this.appended += payload.length;
    while (this.tailBytes >= this.chunkBytes) this.cutChunk(this.chunkBytes);
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    const untilDry = this.playheadMs - this.clock.now() - this.flushAfterMs;
    this.flushTimer = this.tailBytes > 0 ? this.clock.setTimeout(() => this.flushTail(), Math.max(this.flushAfterMs, untilDry)) : undefined;
    this.pump();
  }

  /** Cut the first `n` bytes of the tail into a ready chunk. */
  private cutChunk(n: number): void {
    const all = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail, this.tailBytes);
    this.ready.push({ kind: 'audio', bytes: all.subarray(0, n) });
    const rest = all.subarray(n);
    this.tail = rest.length ? [rest] : [];
    this.tailBytes = rest.length;
    this.cut += n;
    this.releaseTailMarks();
  }

  /** End of an utterance: pad the tail to a 320-multiple and queue it. */
  private cutTail(): void {
    if (this.tailBytes > 0) {
      const padded = Math.ceil(this.tailBytes / EXOTEL_CHUNK_ALIGN_BYTES) * EXOTEL_CHUNK_ALIGN_BYTES;
      const bytes = Buffer.alloc(padded); // PCM16 silence is 0x0000 (docs/protocols/exotel.md#audio-and-chunking)
      Buffer.concat(this.tail, this.tailBytes).copy(bytes);
      this.ready.push({ kind: 'audio', bytes });
      this.cut += this.tailBytes;
      this.tail = [];
      this.tailBytes = 0;
    }
    this.releaseTailMarks();
    this.pump();
  }

  private flushTail(): void {
    this.flushTimer = undefined;
    this.cutTail();
  }

  /** Queue the marks whose audio has all been cut into chunks, in order. */
  private releaseTailMarks(): void {
    while (this.tailMarks.length && this.tailMarks[0]!.at <= this.cut) this.ready.push({ kind: 'mark', name: this.tailMarks.shift()!.name });
  }

  /** Send ready items while the audio on the wire stays within `leadMs` of real time. */
  private pump(): void {
    if (this.pumpTimer || this.closed) return;
    while (this.ready.length) {
      const head = this.ready[0]!;
      const now = this.clock.now();
      if (head.kind === 'audio') {
        const ahead = Math.max(0, this.playheadMs - now);
        if (ahead > this.leadMs) {
          this.pumpTimer = this.clock.setTimeout(() => {
            this.pumpTimer = undefined;
            this.pump();
          }, ahead - this.leadMs);
          return;
        }
        this.playheadMs = Math.max(this.playheadMs, now) + head.bytes.length / this.bpm;
        this.sentBytes += head.bytes.length;
      } else this.markAt.set(head.name, this.sentBytes);
      this.ready.shift();
      this.opts.write(head.kind === 'audio' ? { type: 'audio', payload: head.bytes } : { type: 'mark', name: head.name });
    }
  }

  private drop(): void {
    this.tail = [];
    this.tailBytes = 0;
    this.tailMarks = [];
    this.ready = [];
    this.appended = 0;
    this.cut = 0;
    this.markAt.clear();
    this.playheadMs = 0;
    if (this.pumpTimer) this.clock.clearTimeout(this.pumpTimer);
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.pumpTimer = undefined;
    this.flushTimer = undefined;
  }
}

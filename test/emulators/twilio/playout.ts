/**
 * Twilio's outbound playback buffer as the emulator models it (docs/protocols/twilio.md#marks-clear-and-stop):
 * `media` payloads queue in arrival order and play at 8 bytes (μ-law samples) per ms of wall-clock
 * time × speed; a `mark` sits at its queue position and is echoed when playout passes it (at once when
 * nothing is queued); `clear` discards queued audio and echoes every pending mark in order; more than
 * 10 minutes buffered is discarded (31931). Source: https://www.twilio.com/docs/voice/media-streams/websocket-messages,
 * https://www.twilio.com/docs/api/errors/31931.
 */
import { MULAW_SILENCE } from '../../../src/audio/g711';

/** 8 kHz, 1 byte a sample (docs/protocols/twilio.md#audio). */
export const MULAW_BYTES_PER_MS = 8;
/** Twilio buffers at most 10 minutes of outbound audio (31931). */
export const MAX_BUFFERED_BYTES = 10 * 60 * 1000 * MULAW_BYTES_PER_MS;

type QueueItem = { kind: 'audio'; bytes: Buffer; off: number } | { kind: 'mark'; name: string };

/**
 * The carrier's audio shape and `clear` rule. Default: Twilio (μ-law 8 kHz, 8 bytes per ms, silence
 * 0xFF, `clear` drops everything queued). Exotel: PCM16 at 16/32/48 bytes per ms, silence 0x00, and
 * `clear` lets the chunk already playing finish (docs/protocols/exotel.md#marks-clear-and-stop;
 * https://developer.exotel.com/docs/agentstream/stream-voicebot-applet).
 */
export interface PlayoutShape {
  bytesPerMs?: number;
  silenceByte?: number;
  clearKeepsPlayingChunk?: boolean;
}

/** One stretch of uninterrupted playout; times in wall ms on the playout clock. */
export interface PlayoutSegment {
  startMs: number;
  /** Set when the queue ran dry or was cleared. */
  endMs?: number;
  /** μ-law bytes played in this segment (8 bytes per ms of audio). */
  bytes: number;
  /** How it ended: queue ran dry, `clear`, or the call ended with audio still queued. */
  endedBy?: 'drained' | 'clear' | 'closed';
}

export interface PlayoutEvents {
  /** A mark was passed by playout (`cleared` false) or flushed by `clear` (`cleared` true). */
  onMark(name: string, cleared: boolean): void;
  /** Playout started after being idle; `idleMs` = wall ms since the previous segment ended (Infinity for the first). */
  onStart?(atMs: number, idleMs: number): void;
  /** The queue ran dry or was cleared. */
  onEnd?(atMs: number, endedBy: 'drained' | 'clear' | 'closed'): void;
}

/** The playback queue. Drive it with `advance(now)`; all times are wall ms from the same clock. */
export class Playout {
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;
  private budget = 0;
  private lastMs: number;
  private readonly chunks: Buffer[] = [];
  private current?: PlayoutSegment;
  /** Segments of playout, in order. */
  readonly segments: PlayoutSegment[] = [];
  /** Chunk boundaries: for each played chunk, the segment index it belongs to. */
  private readonly chunkSegment: number[] = [];

  private readonly bytesPerMs: number;

  constructor(
    private readonly speed: number,
    startMs: number,
    private readonly events: PlayoutEvents,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
    private readonly shape: PlayoutShape = {},
  ) {
    this.lastMs = startMs;
    this.bytesPerMs = shape.bytesPerMs ?? MULAW_BYTES_PER_MS;
  }

  /** μ-law bytes waiting to play. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** True when nothing (audio or mark) is queued. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Queue a media payload. @returns bytes discarded because the buffer would exceed 10 minutes (31931). */
  enqueueAudio(bytes: Buffer, nowMs: number): number {
    this.advance(nowMs);
    const room = Math.max(0, this.maxBufferedBytes - this.queuedBytes);
    const keep = bytes.length <= room ? bytes : bytes.subarray(0, room);
    if (keep.length > 0) {
      this.queue.push({ kind: 'audio', bytes: keep, off: 0 });
      this.queuedBytes += keep.length;
    }
    return bytes.length - keep.length;
  }

  /** Queue a mark; echoed at once when nothing is queued ahead of it. */
  enqueueMark(name: string, nowMs: number): void {
    this.advance(nowMs);
    this.queue.push({ kind: 'mark', name });
    this.advance(nowMs);
  }

  /**
   * Discard all queued audio, then echo every pending mark in queue order.
   * @returns the discarded byte count and the marks echoed.
   */
  clear(nowMs: number): { discardedBytes: number; marks: string[] } {
    this.advance(nowMs);
    const marks: string[] = [];
    const head = this.queue[0];
    const keep = this.shape.clearKeepsPlayingChunk && head?.kind === 'audio' && head.off > 0 ? head : undefined;
    const kept = keep ? keep.bytes.length - keep.off : 0;
    const discardedBytes = this.queuedBytes - kept;
    // The chunk playing keeps the marks right behind it (they are echoed when it ends).
    let from = keep ? 1 : 0;
    while (keep && this.queue[from]?.kind === 'mark') from++;
    for (const item of this.queue.splice(from)) if (item.kind === 'mark') marks.push(item.name);
    this.queuedBytes = kept;
    if (!keep) {
      this.budget = 0;
      this.endSegment(nowMs, 'clear');
    }
    for (const m of marks) this.events.onMark(m, true);
    return { discardedBytes, marks };
  }

  /** Stop playout for good (the call ended); queued audio stays unplayed. */
  close(nowMs: number): void {
    this.advance(nowMs);
    this.endSegment(nowMs, 'closed');
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /** Play what wall-clock time since the last call allows: 8 bytes per ms × speed. */
  advance(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    if (this.queue.length === 0) return;
    this.budget += elapsed * this.bytesPerMs * this.speed;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'mark') {
        this.queue.shift();
        this.events.onMark(head.name, false);
        continue;
      }
      const take = Math.min(Math.floor(this.budget), head.bytes.length - head.off);
      if (take <= 0) break;
      this.play(head.bytes.subarray(head.off, head.off + take), nowMs);
      head.off += take;
      this.budget -= take;
      this.queuedBytes -= take;
      if (head.off >= head.bytes.length) this.queue.shift();
    }
    if (this.queue.length === 0) {
      // Playback finished inside this tick; unused budget is not banked for later audio.
      this.budget = 0;
      this.endSegment(nowMs, 'drained');
    }
  }

  private play(bytes: Buffer, nowMs: number): void {
    if (!this.current) {
      const prev = this.segments[this.segments.length - 1];
      const startMs = nowMs - bytes.length / (this.bytesPerMs * this.speed);
      this.current = { startMs: Math.max(prev?.endMs ?? -Infinity, startMs), bytes: 0 };
      this.segments.push(this.current);
      this.events.onStart?.(this.current.startMs, prev?.endMs === undefined ? Infinity : this.current.startMs - prev.endMs);
    }
    this.current.bytes += bytes.length;
    this.chunks.push(Buffer.from(bytes));
    this.chunkSegment.push(this.segments.length - 1);
  }

  private endSegment(nowMs: number, endedBy: 'drained' | 'clear' | 'closed'): void {
    if (!this.current) return;
    this.current.endMs = nowMs;
    this.current.endedBy = endedBy;
    this.current = undefined;
    this.events.onEnd?.(nowMs, endedBy);
  }

  /**
   * The μ-law bytes actually played.
   * @param withGaps when true, idle time between segments is filled with μ-law silence (0xFF) so the
   *   result lines up with the call's timeline (gap bytes = gap wall ms × speed × 8).
   */
  played(withGaps = false): Buffer {
    if (!withGaps || this.segments.length === 0) return Buffer.concat(this.chunks);
    const parts: Buffer[] = [];
    const t0 = this.segments[0]!.startMs;
    let written = 0;
    let seg = -1;
    this.chunks.forEach((chunk, i) => {
      const s = this.chunkSegment[i]!;
      if (s !== seg) {
        seg = s;
        let at = Math.round((this.segments[s]!.startMs - t0) * this.speed * this.bytesPerMs);
        at -= at % (this.bytesPerMs >= 16 ? 2 : 1); // whole PCM16 samples
        if (at > written) {
          parts.push(Buffer.alloc(at - written, this.shape.silenceByte ?? MULAW_SILENCE));
          written = at;
        }
      }
      parts.push(chunk);
      written += chunk.length;
    });
    return Buffer.concat(parts);
  }
}

/**
 * Latency histogram for the bench: fixed 10 µs bins up to 2 s (anything later lands in the last bin;
 * the exact maximum is kept beside), so recording a frame costs one increment and no allocation,
 * and a whole window crosses IPC as a short list of (bin, count) pairs.
 */

const BIN_MS = 0.01;
const BINS = 200_000;

/** Counts of latencies (ms) since the last `reset`. */
export class LatencyHistogram {
  private readonly bins = new Uint32Array(BINS);
  count = 0;
  max = -Infinity;

  /** Record one latency (ms; negative values count as 0). */
  record(ms: number): void {
    const b = ms <= 0 ? 0 : Math.min(BINS - 1, Math.floor(ms / BIN_MS));
    this.bins[b]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The `p`-th percentile (ms, bin centre; the exact max for the top), NaN when empty. */
  percentile(p: number): number {
    if (!this.count) return NaN;
    const rank = Math.min(this.count - 1, Math.floor((p / 100) * this.count));
    let seen = 0;
    for (let b = 0; b < BINS; b++) {
      seen += this.bins[b]!;
      if (seen > rank) return b === BINS - 1 ? this.max : Math.min(this.max, (b + 0.5) * BIN_MS);
    }
    return this.max;
  }

  /** p50/p99/max rounded to 0.01 ms. */
  summary(): LatencySummary {
    return { p50: r2(this.percentile(50)), p99: r2(this.percentile(99)), max: r2(this.count ? this.max : NaN), frames: this.count };
  }

  /** The non-empty bins as [bin, count, bin, count, …] plus the max, for IPC; resets this histogram. */
  drain(): { pairs: number[]; max: number } {
    const pairs: number[] = [];
    for (let b = 0; b < BINS; b++) if (this.bins[b]) pairs.push(b, this.bins[b]!);
    const out = { pairs, max: this.max };
    this.reset();
    return out;
  }

  /** Add what `drain()` returned elsewhere. */
  merge(d: { pairs: number[]; max: number }): void {
    for (let i = 0; i < d.pairs.length; i += 2) {
      this.bins[d.pairs[i]!]! += d.pairs[i + 1]!;
      this.count += d.pairs[i + 1]!;
    }
    if (d.max > this.max) this.max = d.max;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
    this.max = -Infinity;
  }
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  /** Stamped frames measured. */
  frames: number;
}

/** Round to 0.01. */
export const r2 = (v: number): number => Math.round(v * 100) / 100;

/** The `p`-th percentile of plain numbers (same rank rule as the histogram), NaN when empty. */
export function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const BASE_NS = process.hrtime.bigint();
/** A `process.hrtime.bigint()` time (ns, any process) as ms relative to this process's start, a float. */
export const nsToMs = (ns: bigint): number => Number(ns - BASE_NS) / 1e6;

/**
 * This process's own stalls: a 5 ms interval timer that fired more than `gapMs` after the previous
 * one means the event loop (or the process, descheduled) was late, and any frame in flight then is
 * measured late by the load generator itself, not by the bridge. Keeps the last 256 stalls.
 */
export class StallWatch {
  private readonly from = new Float64Array(256);
  private readonly to = new Float64Array(256);
  private n = 0;
  private last = nsToMs(process.hrtime.bigint());

  constructor(private readonly gapMs = 10) {
    setInterval(() => {
      const now = nsToMs(process.hrtime.bigint());
      if (now - this.last > this.gapMs) {
        this.from[this.n % 256] = this.last;
        this.to[this.n % 256] = now;
        this.n++;
      }
      this.last = now;
    }, 5).unref();
  }

  /** Whether this process stalled at some time between `sentMs` and `recvMs` (ms as `nsToMs` gives), the stall going on now included. */
  overlaps(sentMs: number, recvMs: number): boolean {
    if (recvMs - this.last > this.gapMs) return true; // late now, before the timer could tell
    for (let i = this.n - 1; i >= 0 && i >= this.n - 256; i--) {
      if (this.to[i % 256]! <= sentMs) return false; // older stalls ended before the frame left
      if (this.from[i % 256]! < recvMs) return true;
    }
    return false;
  }
}

/** Latencies of one direction, all of them and those of frames that were not in flight while this process stalled. */
export class DirectionLatency {
  readonly all = new LatencyHistogram();
  readonly clean = new LatencyHistogram();
  constructor(private readonly stalls = new StallWatch()) {}

  /** Record a frame sent at `sentNs` (another process's hrtime) and received now. */
  record(sentNs: bigint): void {
    const recvNs = process.hrtime.bigint();
    const ms = Number(recvNs - sentNs) / 1e6;
    this.all.record(ms);
    if (!this.stalls.overlaps(nsToMs(sentNs), nsToMs(recvNs))) this.clean.record(ms);
  }

  /** Both summaries; resets. */
  take(): { all: LatencySummary; clean: LatencySummary } {
    const r = { all: this.all.summary(), clean: this.clean.summary() };
    this.all.reset();
    this.clean.reset();
    return r;
  }
}

/**
 * The two metrics every audio frame updates, `callbridge_frames_total{leg,direction}` and the histogram
 * `callbridge_frame_forward_seconds`, kept in plain numbers: a frame costs a bucket search and a few additions, no label
 * hashing and no allocation (prom-client's `inc({..})` / `observe()` hash a label object on every call). The counter is a
 * prom-client Counter whose `collect` hook folds the frames counted since the last read into it; the histogram is a
 * metric object of its own that a prom-client Registry reads like its own Histogram (`get()` in the same shape, so text
 * exposition and the cluster's `AggregatorRegistry` sum work unchanged: https://github.com/siimon/prom-client#custom-metrics).
 */
import { Counter, type Metric, type Registry } from 'prom-client';

/** One sample of a histogram as prom-client's `get()` lists it (its `.d.ts` types `type` as an enum; at run time it is the string). */
export interface HistogramSample {
  labels: { le?: number | '+Inf' };
  value: number;
  metricName: string;
}

/** A label-less Prometheus histogram; `observe` is cheap enough for every frame. */
export class FrameHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Per-bucket counts (not cumulative); the last slot is above every bound (+Inf). */
  private counts: Float64Array;
  private sum = 0;
  private count = 0;

  /** `buckets`: upper bounds in seconds, ascending. Registers itself in `registry`. */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(buckets.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  /** One value (seconds); a value that is not finite is ignored. */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const b = this.buckets;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** The values as prom-client's Histogram reports them: cumulative `_bucket{le}`, then `+Inf`, `_sum` and `_count`. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramSample[] }> {
    const values: HistogramSample[] = [];
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += this.counts[i]!;
      values.push({ labels: { le: this.buckets[i]! }, value: acc, metricName: `${this.name}_bucket` });
    }
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Back to no observations (prom-client `Registry.resetMetrics`). */
  reset(): void {
    this.counts = new Float64Array(this.buckets.length + 1);
    this.sum = 0;
    this.count = 0;
  }
}

/** What the session calls once per audio frame. */
export interface FrameMeter {
  /** A caller frame reached the provider leg (`callbridge_frames_total{leg="carrier",direction="in"}`) after `seconds` in the bridge. */
  carrierIn(seconds: number): void;
  /** An agent chunk reached the carrier (`{leg="provider",direction="in"}`) after `seconds` in the bridge. */
  providerIn(seconds: number): void;
}

/** The frame counter and histogram, registered in `registry`, and the meter that feeds both. */
export function createFrameMetrics(registry: Registry): { framesTotal: Counter<'leg' | 'direction'>; frameForwardSeconds: FrameHistogram; frames: FrameMeter } {
  const pending = { carrier: 0, provider: 0 };
  const framesTotal = new Counter({
    name: 'callbridge_frames_total',
    help: 'Audio frames forwarded',
    labelNames: ['leg', 'direction'] as const,
    registers: [registry],
    collect() {
      for (const leg of ['carrier', 'provider'] as const) {
        if (pending[leg] > 0) this.inc({ leg, direction: 'in' }, pending[leg]);
        pending[leg] = 0;
      }
    },
  });
  const frameForwardSeconds = new FrameHistogram(
    'callbridge_frame_forward_seconds',
    'Time the bridge adds to forward one audio frame (receive to send)',
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
    registry,
  );
  const frames: FrameMeter = {
    carrierIn(seconds) {
      pending.carrier++;
      frameForwardSeconds.observe(seconds);
    },
    providerIn(seconds) {
      pending.provider++;
      frameForwardSeconds.observe(seconds);
    },
  };
  return { framesTotal, frameForwardSeconds, frames };
}

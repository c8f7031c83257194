/**
 * The per-frame metrics (src/observability/frame-metrics.ts) read like prom-client's own: the histogram's exposition
 * matches a prom-client Histogram fed the same values, frames counted between reads are folded into
 * `callbridge_frames_total`, and two workers' registries sum through `AggregatorRegistry` as the cluster does.
 */
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability/metrics';
import { parsePrometheusText, sampleValue } from '../../helpers/metrics-parser';

const VALUES = [0.00001, 0.00005, 0.00007, 0.0003, 0.002, 0.02, 0.5, NaN];

describe('per-frame metrics', () => {
  it('expose the same histogram text as a prom-client Histogram with the same buckets and values', async () => {
    const m = createMetrics();
    const reference = new Registry();
    const h = new Histogram({
      name: 'callbridge_frame_forward_seconds',
      help: 'Time the bridge adds to forward one audio frame (receive to send)',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
      registers: [reference],
    });
    for (const v of VALUES) {
      m.frames.carrierIn(v);
      if (Number.isFinite(v)) h.observe(v);
    }
    expect(await m.registry.getSingleMetricAsString('callbridge_frame_forward_seconds')).toBe(await reference.metrics().then((t) => t.trim()));
  });

  it('fold the frames counted since the last read into callbridge_frames_total by leg', async () => {
    const m = createMetrics();
    for (let i = 0; i < 5; i++) m.frames.carrierIn(0.0001);
    m.frames.providerIn(0.0001);
    let fam = parsePrometheusText(await m.registry.metrics());
    expect(sampleValue(fam, 'callbridge_frames_total', { leg: 'carrier', direction: 'in' })).toBe(5);
    expect(sampleValue(fam, 'callbridge_frames_total', { leg: 'provider', direction: 'in' })).toBe(1);
    m.frames.carrierIn(0.0001);
    fam = parsePrometheusText(await m.registry.metrics());
    expect(sampleValue(fam, 'callbridge_frames_total', { leg: 'carrier', direction: 'in' })).toBe(6);
    expect(sampleValue(fam, 'callbridge_frame_forward_seconds_count')).toBe(7);
  });

  it('sum across registries as the cluster primary sums its workers', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.frames.carrierIn(0.00002);
    b.frames.carrierIn(0.003);
    b.frames.providerIn(0.003);
    const text = await AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]).metrics();
    const fam = parsePrometheusText(text);
    expect(sampleValue(fam, 'callbridge_frame_forward_seconds_count')).toBe(3);
    expect(sampleValue(fam, 'callbridge_frame_forward_seconds_bucket', { le: '0.00005' })).toBe(1);
    expect(sampleValue(fam, 'callbridge_frame_forward_seconds_bucket', { le: '0.005' })).toBe(3);
    expect(sampleValue(fam, 'callbridge_frames_total', { leg: 'carrier', direction: 'in' })).toBe(2);
  });
});

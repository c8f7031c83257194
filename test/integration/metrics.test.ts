/**
 * `/metrics` scraped over HTTP after a real call and parsed with a strict Prometheus text parser:
 * every contract name (README.md "Probes, metrics and logs") is present with its type and labels.
 */
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';

describe('/metrics', () => {
  let b: Bridge;
  afterAll(async () => {
    await b?.close();
  });

  it('exposes the contract metrics in valid Prometheus text after a call', async () => {
    b = await startBridge({ provider: 'elevenlabs' });
    const call = await b.call({ audio: fixture('caller-booking-8k.wav') });
    await call.waitFor('media', 10_000);
    // Hang up only once more than 10 caller frames went through, however slowly the machine runs.
    const scrape = async () => parsePrometheusText(await (await fetch(`${b.base}/metrics`)).text());
    const callerFrames = async () => sampleValue(await scrape(), 'callbridge_frames_total', { leg: 'carrier', direction: 'in' }) ?? 0;
    await until('more than 10 caller frames forwarded', async () => (await callerFrames()) > 10, 15_000);
    const during = await scrape();
    expect(sampleValue(during, 'callbridge_calls_active', { carrier: 'twilio', provider: 'elevenlabs' })).toBe(1);
    await call.hangup();
    await b.waitIdle(10_000);

    const res = await fetch(`${b.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheusText(await res.text());
    const types = Object.fromEntries([...fams.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      callbridge_calls_active: 'gauge',
      callbridge_calls_total: 'counter',
      callbridge_frames_total: 'counter',
      callbridge_frame_forward_seconds: 'histogram',
      callbridge_barge_ins_total: 'counter',
      callbridge_provider_failovers_total: 'counter',
      callbridge_store_retries_total: 'counter',
      callbridge_bad_frames_total: 'counter',
      callbridge_calls_refused_total: 'counter',
      callbridge_draining: 'gauge',
    });
    expect(sampleValue(fams, 'callbridge_calls_active', { carrier: 'twilio', provider: 'elevenlabs' })).toBe(0);
    expect(sampleValue(fams, 'callbridge_calls_total', { carrier: 'twilio', provider: 'elevenlabs', outcome: 'completed' })).toBe(1);
    expect(sampleValue(fams, 'callbridge_frames_total', { leg: 'carrier', direction: 'in' })).toBeGreaterThan(10);
    expect(sampleValue(fams, 'callbridge_frames_total', { leg: 'provider', direction: 'in' })).toBeGreaterThan(0);
    const forwarded = sampleValue(fams, 'callbridge_frame_forward_seconds_count')!;
    expect(forwarded).toBeGreaterThan(10);
    expect(sampleValue(fams, 'callbridge_frame_forward_seconds_bucket', { le: '+Inf' })).toBe(forwarded);
    expect(sampleValue(fams, 'callbridge_frame_forward_seconds_sum')).toBeGreaterThan(0);
  });

  it('rejects malformed exposition text (the parser is strict)', () => {
    expect(() => parsePrometheusText('x_total 1\n')).toThrow(/no TYPE/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx one\n')).toThrow(/bad sample value/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx 1')).toThrow(/newline/);
  });
});

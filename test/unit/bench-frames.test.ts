/**
 * The bench generator's precomputed messages (scripts/lib/bench-twilio-frames.ts, bench-stamp.ts):
 * what it sends must be the Twilio message a bridge expects, with the stamp readable after the
 * base64 round trip, across the counters gaining digits; and its latency histogram must rank like
 * a sort of the raw values, and leave out of its clean figures the frames it measured late itself.
 */
import { GREETING_TAG, MEDIA_TAG, nowNs, readStamp, readStampB64, writeStampB64 } from '../../scripts/lib/bench-stamp';
import { DirectionLatency, LatencyHistogram, pct, StallWatch } from '../../scripts/lib/bench-stats';
import { FRAME_BYTES, MarkEcho, MediaTemplate, payloadStart } from '../../scripts/lib/bench-twilio-frames';

describe('bench frames', () => {
  test('media messages are compact Twilio JSON with the counters and a fresh stamp, across digit changes', () => {
    const t = new MediaTemplate('MZ0123');
    for (const [seq, chunk, ts] of [
      [2, 1, 0],
      [9, 8, 140],
      [10, 9, 160],
      [100, 99, 1980],
      [12345, 12000, 239980],
    ] as const) {
      const before = nowNs();
      const buf = t.render(seq, chunk, ts);
      const msg = JSON.parse(buf.toString());
      expect(msg).toEqual({
        event: 'media',
        sequenceNumber: String(seq),
        media: { track: 'inbound', chunk: String(chunk), timestamp: String(ts), payload: expect.any(String) },
        streamSid: 'MZ0123',
      });
      const frame = Buffer.from(msg.media.payload, 'base64');
      expect(frame.length).toBe(FRAME_BYTES);
      const stamp = readStamp(frame)!;
      expect(stamp.tag).toBe(MEDIA_TAG);
      expect(stamp.carrierNs >= before && stamp.carrierNs <= nowNs()).toBe(true);
      expect(readStampB64(buf, payloadStart(buf))).toEqual(stamp);
    }
  });

  test('a stamp written into base64 text decodes like the bytes it stands for', () => {
    const frame = Buffer.alloc(1600, 0xff);
    const text = Buffer.from(frame.toString('base64'), 'latin1');
    writeStampB64(text, 0, GREETING_TAG, 123456789n, 987654321987n);
    const decoded = Buffer.from(text.toString('latin1'), 'base64');
    expect(decoded.length).toBe(1600);
    expect(readStamp(decoded)).toEqual({ tag: GREETING_TAG, carrierNs: 123456789n, providerNs: 987654321987n });
    expect(decoded.subarray(20).every((b) => b === 0xff)).toBe(true);
    expect(readStampB64(Buffer.from(Buffer.alloc(160, 0xff).toString('base64')), 0)).toBeUndefined();
  });

  test('a mark echo names the mark it answers', () => {
    const echo = new MarkEcho('MZ9');
    const got = echo.render(Buffer.from('{"event":"mark","streamSid":"MZ9","mark":{"name":"a1:320"}}'), 41)!;
    expect(JSON.parse(got.toString())).toEqual({ event: 'mark', sequenceNumber: '41', streamSid: 'MZ9', mark: { name: 'a1:320' } });
    expect(echo.render(Buffer.from('{"event":"clear","streamSid":"MZ9"}'), 42)).toBeUndefined();
  });

  test('histogram percentiles match the sorted values to one bin, and survive a drain and merge', () => {
    const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5000) / 100); // 0 … 49.99 ms, shuffled
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    for (const p of [50, 99]) expect(Math.abs(h.percentile(p) - pct(values, p))).toBeLessThanOrEqual(0.01);
    const before = h.summary();
    expect(before.max).toBe(49.99);
    const other = new LatencyHistogram();
    other.merge(h.drain());
    expect(h.count).toBe(0);
    expect(other.summary()).toEqual(before);
  });

  test('a frame in flight while the measuring process was blocked is counted, but left out of the clean figures', () => {
    const d = new DirectionLatency(new StallWatch(10));
    const sent = nowNs();
    const until = performance.now() + 40;
    while (performance.now() < until); // the event loop blocked for 40 ms: the 5 ms watch timer cannot fire
    d.record(sent);
    const patient = new DirectionLatency(new StallWatch(60_000)); // no gap this long can occur here
    patient.record(sent);
    const r = d.take();
    expect(r.all.frames).toBe(1);
    expect(r.all.p50).toBeGreaterThanOrEqual(39.99);
    expect(r.clean.frames).toBe(0);
    expect(patient.take().clean.frames).toBe(1);
  });
});

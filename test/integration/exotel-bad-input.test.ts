/**
 * Exotel streams that are odd but survivable: the camelCase spelling with 20 ms frames, a `start`
 * with an unsupported sample rate and no stream id, odd-length PCM, junk frames. The call goes on,
 * problems are counted and logged, nothing crashes.
 */
import WebSocket from 'ws';
import type { CallRecord } from '../../src/call/call-record';
import { fixture } from '../helpers/bridge';
import { startExotelBridge, until, type ExotelBridge } from '../helpers/exotel-bridge';

describe('Exotel bad and unusual input', () => {
  let b: ExotelBridge;
  afterEach(async () => {
    await b?.close();
  }, 60_000);

  it('runs a whole call in the camelCase spelling with numeric values and 20 ms frames', async () => {
    b = await startExotelBridge({ provider: 'openai', rate: 16000, variant: 'camel', frameMs: 20 });
    const rec = await b.call();
    const call = rec.call;
    await call.waitFor('media', 10_000);
    call.sendDtmf('#');
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('a user turn', () => (b.srv.registry.find(call.callSid)?.turns.some((t) => t.role === 'user') ? true : undefined), 20_000);
    await call.hangup();
    const ended = await b.ended(call.callSid, 10_000);
    expect(ended.counters.badFrames).toBe(0);
    expect(ended.counters.dtmf).toEqual(['#']);
    expect(ended.status).toBe('completed');
    expect(call.violations.filter((v) => v.severity === 'error')).toEqual([]);
    expect(call.chunkSizes.every((n) => n % 320 === 0)).toBe(true);
  }, 60_000);

  it('survives a start with an unsupported rate and no stream id, odd-length PCM and junk frames', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs', rate: 8000 });
    const callSid = '1'.repeat(32);
    const dyn = await fetch(`${b.base}/inbound?carrier=exotel&CallSid=${callSid}&CallFrom=09876543210&CallTo=08047112345&Direction=incoming`);
    expect(dyn.status).toBe(200);
    const streamUrl = new URL(((await dyn.json()) as { url: string }).url);
    const ws = new WebSocket(`${b.base.replace('http', 'ws')}${streamUrl.pathname}${streamUrl.search}`);
    ws.on('error', () => undefined);
    const got: Record<string, unknown>[] = [];
    ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ event: 'connected' }));
    ws.send(
      JSON.stringify({
        event: 'start',
        sequence_number: '1',
        start: { call_sid: callSid, account_sid: 'x', custom_parameters: {}, media_format: { encoding: 'audio/x-raw', sample_rate: '44100', bit_rate: '16' } },
      }),
    );
    const frame = (bytes: number) => JSON.stringify({ event: 'media', media: { payload: Buffer.alloc(bytes).toString('base64') } });
    const pump = setInterval(() => ws.send(frame(1600)), 100);
    try {
      await until('agent audio', () => (got.some((m) => m.event === 'media') ? true : undefined), 10_000);
      ws.send(frame(1601)); // odd-length PCM
      ws.send('not json');
      ws.send(JSON.stringify({ event: 'media' }));
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      const chunksBefore = b.el!.seen.chunks;
      await new Promise((r) => setTimeout(r, 500));
      expect(b.el!.seen.chunks).toBeGreaterThan(chunksBefore);
      const live = await b.admin<CallRecord>(`/api/calls/${callSid}`);
      expect(live.body).toMatchObject({ status: 'in-progress', carrier: 'exotel' });
      expect(live.body.counters.badFrames).toBe(4);
    } finally {
      clearInterval(pump);
    }
    // No stream id in start → none in what we send; audio in 320-byte multiples at the URL's 8 kHz.
    const media = got.filter((m) => m.event === 'media');
    expect(got.every((m) => !('stream_sid' in m) && !('streamSid' in m))).toBe(true);
    expect(media.every((m) => Buffer.from((m.media as { payload: string }).payload, 'base64').length % 320 === 0)).toBe(true);
    ws.send(JSON.stringify({ event: 'stop', stop: { call_sid: callSid, reason: 'callended' } }));
    ws.close();
    const ended = await b.ended(callSid, 10_000);
    expect(ended.status).toBe('completed');
    const m = await b.metricsText();
    for (const reason of ['odd_length', 'not_json', 'bad_shape', 'binary'])
      expect(m).toContain(`callbridge_bad_frames_total{carrier="exotel",reason="${reason}"} 1`);
  }, 60_000);

  it('answers the dynamic-URL request without CallSid and still binds the stream by its token', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs' });
    const dyn = await fetch(`${b.base}/inbound?carrier=exotel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CallFrom: '09876543210' }),
    });
    expect(dyn.status).toBe(200);
    const rec = await b.call({ streamUrl: ((await dyn.json()) as { url: string }).url });
    await rec.call.waitFor('media', 10_000);
    expect(b.srv.registry.find(rec.call.callSid)).toMatchObject({ carrier: 'exotel', status: 'in-progress' });
    await rec.call.hangup();
  }, 60_000);
});

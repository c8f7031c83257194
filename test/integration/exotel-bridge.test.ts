/**
 * Full Exotel calls through the real server: Voicebot dynamic URL → stream at the chosen rate →
 * ElevenLabs or OpenAI emulator, with barge-in, DTMF and caller hang-up.
 */
import type { CallRecord } from '../../src/call/call-record';
import { fixture } from '../helpers/bridge';
import { startExotelBridge, until, type ExotelBridge } from '../helpers/exotel-bridge';

const SPEED = 4;

/** RMS of PCM16LE bytes. */
function pcmRms(buf: Buffer): number {
  let acc = 0;
  const n = buf.length >> 1;
  for (let i = 0; i < n; i++) acc += buf.readInt16LE(2 * i) ** 2;
  return n ? Math.sqrt(acc / n) : 0;
}

describe.each([
  ['elevenlabs', 8000],
  ['elevenlabs', 16000],
  ['openai', 8000],
  ['openai', 16000],
] as const)('Exotel ⇄ %s at %i Hz', (provider, rate) => {
  let b: ExotelBridge;
  afterEach(async () => {
    await b?.close();
  }, 60_000);

  it('greets, answers, clears on barge-in, records DTMF, and ends on caller hang-up', async () => {
    b = await startExotelBridge({ provider, rate, speed: SPEED });
    const rec = await b.call();
    const call = rec.call;
    // Dynamic URL: one JSON key pointing at our wss stream with token and rate.
    expect(rec.applets[0]).toMatchObject({ kind: 'voicebot', status: 200 });
    const url = new URL((rec.applets[0]!.body as { url: string }).url);
    expect(url.protocol).toBe('wss:');
    expect(url.host).toBe('calls.example.test');
    expect(url.searchParams.get('carrier')).toBe('exotel');
    expect(url.searchParams.get('sample-rate')).toBe(String(rate));
    expect(url.searchParams.get('token')).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);

    await call.waitFor('media', 10_000);
    call.sendDtmf('5');
    await until('greeting played', () => (call.bufferedBytes === 0 && call.received.length > 2 ? true : undefined), 15_000);
    call.sendAudio(fixture('caller-booking-8k.wav'));
    // The agent's reply starts playing; the caller barges in.
    const replyAt = call.received.length;
    await call.waitFor((r) => r.msg.event === 'media' && call.received.indexOf(r) > replyAt + 2, 20_000);
    await new Promise((r) => setTimeout(r, 600 / SPEED));
    call.sendAudio(fixture('caller-bargein-8k.wav'));
    await call.waitFor('clear', 10_000);
    // The caller's turns reach the transcript once the provider has transcribed them.
    await until('a user turn', () => (b.srv.registry.find(call.callSid)?.turns.some((t) => t.role === 'user') ? true : undefined), 20_000);
    await call.hangup();
    const ended = await b.ended(call.callSid, 10_000);
    await b.waitIdle();

    expect(call.violations.filter((v) => v.severity === 'error')).toEqual([]);
    expect(call.chunkSizes.every((n) => n % 320 === 0 && n <= 100_000)).toBe(true);
    expect(pcmRms(call.played())).toBeGreaterThan(300);
    expect(ended).toMatchObject({ carrier: 'exotel', provider, status: 'completed', direction: 'inbound', from: '09876543210' });
    expect(ended.counters.dtmf).toEqual(['5']);
    expect(ended.counters.bargeIns).toBeGreaterThanOrEqual(1);
    expect(ended.turns.filter((t) => t.role === 'user').length).toBeGreaterThanOrEqual(1);
    expect(rec.outcome).toBe('hangup');
    const api = await b.admin<CallRecord>(`/api/calls/${call.callSid}`);
    expect(api.status).toBe(200);
  }, 90_000);
});

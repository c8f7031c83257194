/**
 * Bad input on WS /media-stream: malformed frames are counted and never end the call; sockets
 * without a valid signature or call token are refused.
 */
import twilio from 'twilio';
import WebSocket from 'ws';
import type { CallRecord } from '../../src/call/call-record';
import { upgradeStatus } from '../helpers/upgrade-status';
import { TEST_AUTH_TOKEN } from '../helpers/config';
import { startBridge, type Bridge } from '../helpers/bridge';

const wsUrl = (b: Bridge, path = '/media-stream') => b.base.replace('http', 'ws') + path;
const upgradeSig = (url = 'wss://calls.example.test/media-stream') => twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, {});

describe('media socket bad input', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('drops and counts binary, non-JSON, unknown, misshapen and oversized frames while the call goes on', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: 4 });
    const call = await b.call();
    await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    call.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]), true);
    call.sendRaw('this is not json');
    call.sendRaw(JSON.stringify({ event: 'teleport', streamSid: call.streamSid }));
    call.sendRaw(JSON.stringify({ event: 'media', streamSid: call.streamSid, media: { track: 'inbound' } }));
    call.sendRaw(JSON.stringify({ event: 'media', streamSid: call.streamSid, media: { payload: 'A'.repeat(200_000) } }));
    const chunksBefore = b.el!.seen.chunks;
    // Caller audio keeps flowing to the provider afterwards, and the call is still up.
    await new Promise((r) => setTimeout(r, 300));
    expect(b.el!.seen.chunks).toBeGreaterThan(chunksBefore + 5);
    expect(call.isClosed).toBe(false);
    const live = await b.admin<CallRecord>(`/api/calls/${call.callSid}`);
    expect(live.body.counters.badFrames).toBe(5);
    const m = await b.metricsText();
    for (const reason of ['binary', 'not_json', 'unknown_event', 'bad_shape', 'oversized']) {
      expect(m).toContain(`callbridge_bad_frames_total{carrier="twilio",reason="${reason}"} 1`);
    }
    await call.hangup();
    await b.waitIdle();
  }, 30_000);

  it('refuses an upgrade with a forged or missing X-Twilio-Signature with 403, and unknown paths with 404', async () => {
    b = await startBridge({ provider: 'elevenlabs' });
    expect(await upgradeStatus(wsUrl(b), { 'X-Twilio-Signature': upgradeSig('wss://evil.example/media-stream') })).toBe(403);
    expect(await upgradeStatus(wsUrl(b), {})).toBe(403);
    expect(await upgradeStatus(wsUrl(b, '/nope'), { 'X-Twilio-Signature': upgradeSig() })).toBe(404);
    expect(await upgradeStatus(wsUrl(b), { 'X-Twilio-Signature': upgradeSig() })).toBe(101);
    expect(b.srv.registry.size).toBe(0);
  });

  it('closes with 1008 a socket whose start carries no valid token for a call we answered', async () => {
    b = await startBridge({ provider: 'elevenlabs' });
    const ws = new WebSocket(wsUrl(b), { headers: { 'X-Twilio-Signature': upgradeSig() } });
    ws.on('error', () => undefined);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        start: {
          accountSid: 'AC' + 'a'.repeat(32),
          streamSid: 'MZ' + '1'.repeat(32),
          callSid: 'CA' + '9'.repeat(32),
          tracks: ['inbound'],
          customParameters: { token: 'guessed' },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
        streamSid: 'MZ' + '1'.repeat(32),
      }),
    );
    expect(await closed).toBe(1008);
    expect(await b.metricsText()).toContain('callbridge_sockets_refused_total{reason="token"} 1');
  });
});

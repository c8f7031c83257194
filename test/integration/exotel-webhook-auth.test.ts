/**
 * EXOTEL_WEBHOOK_TOKEN through the real server and the ElevenLabs emulator: every Exotel route (the
 * Voicebot applet's dynamic URL on `/inbound` and `/outbound`, GET and POST, the Connect applet and the
 * status callback) answers 401 without `token=` and 403 with a wrong one, before anything is admitted
 * and before any signed-URL request reaches the provider; with the token in the flow's URLs a call
 * streams as usual. Without EXOTEL_WEBHOOK_TOKEN the routes stay open (the start-up warning covers that).
 */
import { startupWarnings } from '../../src/config';
import { startExotelBridge, type ExotelBridge } from '../helpers/exotel-bridge';

const TOKEN = 'hook-token-0123456789abcdef';
const FLOW = 'CallFrom=09876543210&CallTo=08047112345&Direction=incoming';

describe('Exotel webhook token', () => {
  let b: ExotelBridge;
  afterEach(async () => {
    await b?.close();
  });

  it('refuses every Exotel route without the token (401) or with a wrong one (403), admitting nothing and asking the provider for nothing', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs', env: { EXOTEL_WEBHOOK_TOKEN: TOKEN } });
    const sid = 'a'.repeat(32);
    const routes: { method: 'GET' | 'POST'; path: string }[] = [
      { method: 'GET', path: '/inbound?carrier=exotel' },
      { method: 'POST', path: '/inbound?carrier=exotel' },
      { method: 'GET', path: '/outbound?carrier=exotel' },
      { method: 'POST', path: '/outbound?carrier=exotel' },
      { method: 'GET', path: '/webhooks/exotel/connect?x=1' },
      { method: 'POST', path: '/webhooks/exotel/status?x=1' },
    ];
    for (const r of routes) {
      for (const [token, status] of [
        ['', 401],
        ['&token=', 401],
        ['&token=hook-token-0123456789abcdeX', 403],
        ['&token=short', 403],
        [`&token=${TOKEN}extra`, 403],
      ] as const) {
        const url = `${b.base}${r.path}${token}&CallSid=${sid}&${FLOW}`;
        const res = await fetch(url, {
          method: r.method,
          ...(r.method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ CallSid: sid, Status: 'completed' }) } : {}),
        });
        expect({ route: `${r.method} ${r.path}${token}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}${token}`, status });
        expect(((await res.json()) as { url?: string }).url).toBeUndefined();
      }
    }
    // Nothing was admitted, no status was recorded, and ElevenLabs never got a signed-URL request.
    expect(b.srv.pending.size).toBe(0);
    expect(b.srv.ops.book.get(sid)).toBeUndefined();
    expect(b.el!.seen.requests).toEqual([]);
  }, 60_000);

  it('streams a call whose applet URLs carry the token, and a right token on connect and status is accepted', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs', env: { EXOTEL_WEBHOOK_TOKEN: TOKEN } });
    const rec = await b.call();
    expect(rec.applets[0]).toMatchObject({ kind: 'voicebot', status: 200 });
    expect(new URL(rec.applets[0]!.url).searchParams.get('token')).toBe(TOKEN);
    await rec.call.waitFor('media', 15_000);
    expect(b.el!.seen.requests.length).toBe(1);
    await rec.call.hangup();
    await b.ended(rec.call.callSid, 15_000);
    const connect = await fetch(`${b.base}/webhooks/exotel/connect?token=${TOKEN}&CallSid=${rec.call.callSid}`);
    expect(connect.status).toBe(200);
    expect(((await connect.json()) as { destination: { numbers: string[] } }).destination.numbers).toEqual([]);
    const status = await fetch(`${b.base}/webhooks/exotel/status?token=${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CallSid: rec.call.callSid, EventType: 'terminal', Status: 'completed', ConversationDuration: 3 }),
    });
    expect(status.status).toBe(200);
    expect(b.srv.ops.book.get(rec.call.callSid)).toMatchObject({ carrier: 'exotel', status: 'completed', durationS: 3 });
  }, 60_000);

  it('leaves the routes open when EXOTEL_WEBHOOK_TOKEN is unset, and the start-up warning says so for a public PUBLIC_URL only', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs' });
    const res = await fetch(`${b.base}/inbound?carrier=exotel&CallSid=${'b'.repeat(32)}&${FLOW}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toMatch(/^wss:\/\/.*\/media-stream\?carrier=exotel&token=v1\.[\w-]+\.[\w-]{43}&/);
    expect(startupWarnings({ PUBLIC_URL: 'https://calls.example.com', EXOTEL_WEBHOOK_TOKEN: undefined })).toEqual([
      expect.stringContaining('EXOTEL_WEBHOOK_TOKEN is not set'),
    ]);
    expect(startupWarnings({ PUBLIC_URL: 'https://calls.example.com', EXOTEL_WEBHOOK_TOKEN: TOKEN })).toEqual([]);
    expect(startupWarnings({ PUBLIC_URL: 'http://localhost:3000', EXOTEL_WEBHOOK_TOKEN: undefined })).toEqual([]);
    expect(startupWarnings({ PUBLIC_URL: 'https://127.0.0.1:3000', EXOTEL_WEBHOOK_TOKEN: undefined })).toEqual([]);
  }, 60_000);
});

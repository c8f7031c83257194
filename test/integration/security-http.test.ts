/**
 * Hostile HTTP through the real server: the ElevenLabs post-call webhook (forged, tampered, stale and
 * future timestamps, replayed signatures), body size limits on every route that reads a body (413,
 * never 5xx), refused bodies counted in `callbridge_bad_messages_total{source,reason}`,
 * and the admin API's brute-force guard (429 + Retry-After per client address).
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import type { PostCallEventRow } from '../../src/store/types';
import { POST_CALL_MAX_BYTES, POST_CALL_PATH } from '../../src/app/post-call-webhook';
import { adminRequest } from '../helpers/admin-http';
import { startBridge, until, type Bridge } from '../helpers/bridge';
import { TEST_ADMIN_KEY } from '../helpers/config';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';

const SECRET = 'wsec_security_test_5f1c0ffee';
const sign = (t: number, body: string, secret = SECRET) => `t=${t},v0=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
const nowS = () => Math.floor(Date.now() / 1000);

function postCallBody(conversationId: string): string {
  return JSON.stringify({
    type: 'post_call_transcription',
    event_timestamp: nowS(),
    data: { agent_id: 'agent_test', conversation_id: conversationId, status: 'done', transcript: [], analysis: { transcript_summary: 'Booked.' } },
  });
}

async function post(base: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(base + path, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/** POST `bytes` zero bytes in 1 MiB chunks (never all in memory); resolves with the status. */
function postLarge(base: string, path: string, bytes: number, headers: Record<string, string>): Promise<number> {
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(bytes) } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024);
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

const metric = async (b: Bridge, name: string, labels: Record<string, string>) => sampleValue(parsePrometheusText(await b.metricsText()), name, labels) ?? 0;

describe('security over HTTP', () => {
  let b: Bridge;
  const saved: PostCallEventRow[] = [];
  beforeAll(async () => {
    b = await startBridge({ provider: 'elevenlabs', env: { ELEVENLABS_WEBHOOK_SECRET: SECRET } });
    const store = b.srv.store;
    const save = store.savePostCallEvent.bind(store);
    store.savePostCallEvent = (row) => {
      saved.push(row);
      return save(row);
    };
  });
  afterAll(async () => {
    await b?.close();
  });

  describe('post-call webhook', () => {
    const send = (body: string, sig?: string) =>
      post(b.base, POST_CALL_PATH, body, { 'content-type': 'application/json', ...(sig ? { 'ElevenLabs-Signature': sig } : {}) });

    it('refuses forged, tampered, unsigned, stale and future signatures with 401 and stores none of them', async () => {
      const body = postCallBody('conv_forged');
      const t = nowS();
      const cases: Array<[string, string | undefined, string]> = [
        ['missing', undefined, body],
        ['another secret', sign(t, body, 'wsec_someone_else'), body],
        ['a body changed after signing', sign(t, body), body.replace('Booked.', 'Refund everything.')],
        ['another timestamp than signed', sign(t, body).replace(`t=${t}`, `t=${t - 1}`), body],
        ['31 minutes old', sign(t - 31 * 60, body), body],
        ['31 minutes in the future', sign(t + 31 * 60, body), body],
        ['a timestamp a year ahead', sign(t + 365 * 86_400, body), body],
        ['garbage', 't=abc,v0=zz', body],
      ];
      for (const [what, sig, sent] of cases) {
        const res = await send(sent, sig);
        expect({ what, status: res.status }).toEqual({ what, status: 401 });
      }
      expect(JSON.parse((await send(body, sign(t + 31 * 60, body))).text)).toMatchObject({ reason: 'future' });
      expect(JSON.parse((await send(body, sign(t - 31 * 60, body))).text)).toMatchObject({ reason: 'stale' });
      expect(saved.filter((r) => r.conversation_id === 'conv_forged')).toEqual([]);
    });

    it('accepts a signature inside the 30-minute tolerance either way', async () => {
      const t = nowS();
      const old = postCallBody('conv_old');
      const ahead = postCallBody('conv_ahead');
      expect((await send(old, sign(t - 29 * 60, old))).status).toBe(200);
      expect((await send(ahead, sign(t + 29 * 60, ahead))).status).toBe(200);
    });

    it('stores a replayed delivery (same signature) once and answers the replay idempotently', async () => {
      const body = postCallBody('conv_replayed');
      const sig = sign(nowS(), body);
      const first = await send(body, sig);
      expect(first.status).toBe(200);
      expect(JSON.parse(first.text)).toEqual({ ok: true });
      for (let i = 0; i < 3; i++) {
        const again = await send(body, sig);
        expect(again.status).toBe(200);
        expect(JSON.parse(again.text)).toEqual({ ok: true, duplicate: true });
      }
      expect(saved.filter((r) => r.conversation_id === 'conv_replayed')).toHaveLength(1);
      // A new delivery of the same event (new timestamp, new signature) is not a replay.
      await new Promise((r) => setTimeout(r, 1100));
      expect(JSON.parse((await send(body, sign(nowS(), body))).text)).toEqual({ ok: true });
    });
  });

  describe('body size limits', () => {
    const big = 'a'.repeat(70 * 1024);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const json = { 'content-type': 'application/json' };

    it.each([
      ['Twilio voice webhook', '/inbound', form, `CallSid=CA1&From=${big}`],
      ['Twilio outbound webhook', '/outbound', form, `CallSid=CA1&From=${big}`],
      ['Twilio voice webhook, too many fields', '/inbound', form, Array.from({ length: 1500 }, (_, i) => `f${i}=1`).join('&')],
      ['Twilio status callback', '/webhooks/twilio/status', form, `CallSid=CA1&CallStatus=${big}`],
      ['Exotel dynamic URL (JSON)', '/inbound?carrier=exotel', json, JSON.stringify({ CallSid: 'x', From: big })],
      ['Exotel dynamic URL (form)', '/inbound?carrier=exotel', form, `CallSid=x&From=${big}`],
      ['Exotel outbound dynamic URL (JSON)', '/outbound?carrier=exotel', json, JSON.stringify({ CallSid: 'x', From: big })],
      ['Exotel status callback (JSON)', '/webhooks/exotel/status', json, JSON.stringify({ CallSid: 'x', Status: big })],
      ['Exotel status callback (form)', '/webhooks/exotel/status', form, `CallSid=x&Status=${big}`],
      ['an unknown route (JSON)', '/nowhere', json, JSON.stringify({ x: 'a'.repeat(300 * 1024) })],
    ])('%s: 413', async (_what, path, headers, body) => {
      const res = await post(b.base, path, body, headers);
      expect(res.status).toBe(413);
      expect(b.srv.pending.size).toBe(0);
    });

    it('admin API JSON over 256 kB: 413 with the key, 401 without (nothing parsed before the key)', async () => {
      const body = JSON.stringify({ to: '+14155550100', prompt: 'a'.repeat(300 * 1024) });
      const xff = { 'x-forwarded-for': '203.0.113.200' };
      expect((await post(b.base, '/api/calls', body, { ...json, ...xff, authorization: `Bearer ${TEST_ADMIN_KEY}` })).status).toBe(413);
      expect((await post(b.base, '/api/calls', body, { ...json, ...xff })).status).toBe(401);
    });

    it('post-call webhook over its raw-body limit: 413 before any signature work', async () => {
      const status = await postLarge(b.base, POST_CALL_PATH, POST_CALL_MAX_BYTES + 1, {
        'content-type': 'application/json',
        'ElevenLabs-Signature': 't=1,v0=00',
      });
      expect(status).toBe(413);
    }, 60_000);

    it('counts every refused body once per route family and reason, and logs it', async () => {
      const count = (source: string, reason: string) => metric(b, 'callbridge_bad_messages_total', { source, reason });
      const before = {
        exotelParse: await count('exotel_webhook', 'entity_parse_failed'),
        exotelMissing: await count('exotel_webhook', 'missing_field'),
        adminParse: await count('admin_api', 'entity_parse_failed'),
        twilioLarge: await count('twilio_webhook', 'entity_too_large'),
      };
      expect((await post(b.base, '/inbound?carrier=exotel', '{"CallSid": "x",', json)).status).toBe(400);
      expect((await post(b.base, '/webhooks/exotel/status', JSON.stringify({ CallSid: 'x' }), json)).status).toBe(400);
      expect((await post(b.base, '/api/calls', '{"to": ', { ...json, authorization: `Bearer ${TEST_ADMIN_KEY}` })).status).toBe(400);
      expect((await post(b.base, '/inbound', `CallSid=CA1&From=${big}`, form)).status).toBe(413);
      expect({
        exotelParse: await count('exotel_webhook', 'entity_parse_failed'),
        exotelMissing: await count('exotel_webhook', 'missing_field'),
        adminParse: await count('admin_api', 'entity_parse_failed'),
        twilioLarge: await count('twilio_webhook', 'entity_too_large'),
      }).toEqual({
        exotelParse: before.exotelParse + 1,
        exotelMissing: before.exotelMissing + 1,
        adminParse: before.adminParse + 1,
        twilioLarge: before.twilioLarge + 1,
      });
    });

    it('the server still answers after every oversized body', async () => {
      expect((await fetch(`${b.base}/health`)).status).toBe(200);
      expect(await metric(b, 'callbridge_calls_refused_total', { carrier: 'twilio', reason: 'busy' })).toBe(0);
    });
  });

  describe('admin API brute force', () => {
    const asFrom = (ip: string, key: string | null) =>
      fetch(`${b.base}/api/calls/active`, { headers: { 'x-forwarded-for': ip, ...(key === null ? {} : { authorization: `Bearer ${key}` }) } });

    it('locks an address out with 429 + Retry-After after 10 failures in a minute, the right key included; others unaffected', async () => {
      const attacker = '198.51.100.7';
      const before = await metric(b, 'callbridge_http_refused_total', { reason: 'admin_auth_lockout' });
      for (let i = 0; i < 10; i++) {
        const res = await asFrom(attacker, i % 2 ? `guess-${i}` : null);
        expect(res.status).toBe(401);
      }
      for (const key of ['guess-11', TEST_ADMIN_KEY]) {
        const res = await asFrom(attacker, key);
        expect(res.status).toBe(429);
        const retry = Number(res.headers.get('retry-after'));
        expect(retry).toBeGreaterThanOrEqual(1);
        expect(retry).toBeLessThanOrEqual(60);
        expect(await res.json()).toMatchObject({ error: 'too_many_requests' });
      }
      // Every /api route, not only the one attacked.
      expect((await adminRequest(b.base, 'GET', '/api/reports/cohorts')).status).toBe(200); // the test runner's own address
      expect(
        (await fetch(`${b.base}/api/reports/cohorts`, { headers: { 'x-forwarded-for': attacker, authorization: `Bearer ${TEST_ADMIN_KEY}` } })).status,
      ).toBe(429);
      expect((await asFrom('198.51.100.8', TEST_ADMIN_KEY)).status).toBe(200);
      expect(await metric(b, 'callbridge_http_refused_total', { reason: 'admin_auth_lockout' })).toBe(before + 3);
    });

    it('clears the count of an address on a success below the limit', async () => {
      const operator = '198.51.100.20';
      for (let i = 0; i < 9; i++) expect((await asFrom(operator, 'typo')).status).toBe(401);
      expect((await asFrom(operator, TEST_ADMIN_KEY)).status).toBe(200);
      for (let i = 0; i < 9; i++) expect((await asFrom(operator, 'typo')).status).toBe(401);
      expect((await asFrom(operator, TEST_ADMIN_KEY)).status).toBe(200);
    });
  });
});

describe('admin API brute-force window', () => {
  it('lets a locked-out address back in once ADMIN_AUTH_WINDOW_S has passed', async () => {
    const b = await startBridge({ provider: 'elevenlabs', env: { ADMIN_AUTH_MAX_FAILURES: '3', ADMIN_AUTH_WINDOW_S: '1' } });
    try {
      const get = (key: string) => fetch(`${b.base}/api/calls/active`, { headers: { 'x-forwarded-for': '192.0.2.9', authorization: `Bearer ${key}` } });
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) expect((await get('wrong')).status).toBe(401);
      const locked = await get(TEST_ADMIN_KEY);
      // Only meaningful while the window is still open (a stalled machine may have let it pass).
      if (Date.now() - t0 < 900) expect(locked.status).toBe(429);
      await until('the window to pass', async () => (await get(TEST_ADMIN_KEY)).status === 200, 10_000);
    } finally {
      await b.close();
    }
  });
});

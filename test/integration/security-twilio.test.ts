/**
 * Hostile Twilio-side input through the real server: forged, tampered and missing X-Twilio-Signature
 * on every webhook and on the media-stream upgrade (403, nothing admitted); replayed voice webhooks
 * (idempotent per CallSid: the same answer while pending, refused once live, never a second slot or
 * provider set-up); missing, wrong, expired and reused media tokens (1008, counted, no session); and
 * call SIDs that try to leave LOGS_DIR through the per-call log file.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import twilio from 'twilio';
import WebSocket from 'ws';
import { callLogName } from '../../src/call/persist';
import { voiceParams } from '../emulators/twilio/signed-post';
import { readTwiml } from '../emulators/twilio/twiml';
import { PUBLIC_URL, startBridge, until, type Bridge } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/config';
import { openStart, STREAM_URL } from '../helpers/twilio-start';
import { upgradeStatus } from '../helpers/upgrade-status';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';

const metric = async (b: Bridge, name: string, labels: Record<string, string>) => sampleValue(parsePrometheusText(await b.metricsText()), name, labels) ?? 0;
const signedUrlRequests = (b: Bridge) => b.el!.seen.requests.filter((r) => r.path.includes('signed')).length;
let sidSeq = 0;
const newCallSid = () => `CA${String(++sidSeq).padStart(8, '0')}${'f'.repeat(24)}`;

function params(callSid: string, extra: Record<string, string> = {}): Record<string, string> {
  const p = voiceParams({ callSid, accountSid: TEST_ACCOUNT_SID, from: '+14155550123', to: '+15550000000', direction: 'inbound', callStatus: 'ringing' });
  return { ...p, ...extra };
}

/** POST a form to `path` with `signature` (undefined: no header); the body sent may differ from what was signed. */
async function postForm(b: Bridge, path: string, body: Record<string, string>, signature: string | undefined): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== undefined) headers['X-Twilio-Signature'] = signature;
  const res = await fetch(b.base + path, { method: 'POST', headers, body: new URLSearchParams(body).toString() });
  return { status: res.status, text: await res.text() };
}

const sig = (url: string, p: Record<string, string>, token = TEST_AUTH_TOKEN) => twilio.getExpectedTwilioSignature(token, url, p);

/** `openStart`, then the close code the server ended the socket with. */
const startWith = async (b: Bridge, callSid: string, token: string | undefined) => (await openStart(b.base, callSid, token)).closed;

/** Answer `/inbound` for a fresh call SID, correctly signed; returns the SID and the token of the TwiML. */
async function admitted(b: Bridge): Promise<{ callSid: string; token: string }> {
  const callSid = newCallSid();
  const p = params(callSid);
  const res = await postForm(b, '/inbound', p, sig(`${PUBLIC_URL}/inbound`, p));
  const token = readTwiml(res.text).parameters.token;
  expect(token).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);
  return { callSid, token: token! };
}

describe('Twilio security', () => {
  let b: Bridge;
  beforeAll(async () => {
    b = await startBridge({ provider: 'elevenlabs' });
  });
  afterAll(async () => {
    await b?.close();
  });

  describe('signatures', () => {
    it.each(['/inbound', '/outbound', '/webhooks/twilio/status'])(
      '%s: 403 for forged, tampered, re-targeted and unsigned requests; nothing admitted',
      async (path) => {
        const callSid = newCallSid();
        const p = params(callSid);
        const url = `${PUBLIC_URL}${path}`;
        const setUps = signedUrlRequests(b);
        const cases: Array<[string, Record<string, string>, string | undefined]> = [
          ['signed with another auth token', p, sig(url, p, 'f'.repeat(32))],
          ['a parameter changed after signing', { ...p, From: '+19005550000' }, sig(url, p)],
          ['a parameter added after signing', { ...p, CallStatus: 'completed', Extra: '1' }, sig(url, p)],
          ['a parameter removed after signing', Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'From')), sig(url, p)],
          ['signed for another host', p, sig(`https://evil.example.test${path}`, p)],
          ['signed for another path', p, sig(`${PUBLIC_URL}/elsewhere`, p)],
          ['signed for another port', p, sig(`https://calls.example.test:8443${path}`, p)],
          ['signed for http instead of https', p, sig(`http://calls.example.test${path}`, p)],
          ['signed for another query', p, sig(`${url}?provider=openai`, p)],
          ['an empty signature', p, ''],
          ['no signature', p, undefined],
        ];
        for (const [what, body, signature] of cases) {
          const res = await postForm(b, path, body, signature);
          expect({ what, status: res.status }).toEqual({ what, status: 403 });
        }
        expect(b.srv.pending.get(callSid)).toBeUndefined();
        expect(signedUrlRequests(b)).toBe(setUps);
        expect(await metric(b, 'callbridge_status_callbacks_total', { carrier: 'twilio', status: 'ringing' })).toBe(0);
        // The same request, correctly signed, is accepted: the refusals above were the signature's.
        expect((await postForm(b, path, p, sig(url, p))).status).toBe(path.includes('status') ? 204 : 200);
        if (!path.includes('status')) await until("the admitted call's set-up", () => signedUrlRequests(b) === setUps + 1);
      },
    );

    it('media-stream upgrade: 403 before the handshake for forged, re-targeted and missing signatures, counted', async () => {
      const before = await metric(b, 'callbridge_sockets_refused_total', { reason: 'signature' });
      const cases: Record<string, string | undefined> = {
        'another auth token': sig(STREAM_URL, {}, 'f'.repeat(32)),
        'another host': sig('wss://evil.example.test/media-stream', {}),
        'another path': sig('wss://calls.example.test/other-stream', {}),
        'another port': sig('wss://calls.example.test:8443/media-stream', {}),
        'ws instead of wss': sig('ws://calls.example.test/media-stream', {}),
        'signed with params': sig(STREAM_URL, { CallSid: 'CA1' }),
        missing: undefined,
      };
      for (const [what, signature] of Object.entries(cases)) {
        const status = await upgradeStatus(b.base.replace('http', 'ws') + '/media-stream', signature === undefined ? {} : { 'X-Twilio-Signature': signature });
        expect({ what, status }).toEqual({ what, status: 403 });
      }
      expect(await metric(b, 'callbridge_sockets_refused_total', { reason: 'signature' })).toBe(before + Object.keys(cases).length);
      expect(await upgradeStatus(b.base.replace('http', 'ws') + '/media-stream', { 'X-Twilio-Signature': sig(STREAM_URL, {}) })).toBe(101);
    });
  });

  describe('replayed voice webhooks', () => {
    it('answers a replay for a pending call with the same token and no second set-up, and refuses one for a live or ended call', async () => {
      const startRequests = signedUrlRequests(b);
      const call = await b.call();
      await call.waitFor('media', 10_000);
      const callSid = call.callSid;
      const p = call.webhook.params;
      const signature = sig(`${PUBLIC_URL}/inbound`, p);
      expect(signedUrlRequests(b)).toBe(startRequests + 1);
      // Live: the replay is refused (Say + Hangup) and holds nothing.
      const live = await postForm(b, '/inbound', p, signature);
      expect(live.status).toBe(200);
      expect(readTwiml(live.text).verbs).toEqual(['Say', 'Hangup']);
      expect(b.srv.pending.get(callSid)).toBeUndefined();
      expect(b.srv.registry.size).toBe(1);
      expect(await metric(b, 'callbridge_calls_refused_total', { carrier: 'twilio', reason: 'duplicate' })).toBe(1);
      await call.hangup();
      await b.ended(callSid, 10_000);
      const ended = await postForm(b, '/inbound', p, signature);
      expect(readTwiml(ended.text).verbs).toEqual(['Say', 'Hangup']);
      expect(b.srv.pending.get(callSid)).toBeUndefined();
      expect(signedUrlRequests(b)).toBe(startRequests + 1);

      // Pending: every replay gets the first answer's token; one slot, one provider set-up.
      const sid2 = newCallSid();
      const p2 = params(sid2);
      const s2 = sig(`${PUBLIC_URL}/inbound`, p2);
      const pendingBefore = b.srv.pending.size;
      const answers = await Promise.all([1, 2, 3].map(() => postForm(b, '/inbound', p2, s2)));
      const tokens = new Set(answers.map((a) => readTwiml(a.text).parameters.token));
      expect(tokens.size).toBe(1);
      expect([...tokens][0]).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);
      expect(b.srv.pending.size).toBe(pendingBefore + 1);
      await until('the set-up request', () => signedUrlRequests(b) >= startRequests + 2);
      // The call streams once with that token, on the one set-up started.
      const first = await openStart(b.base, sid2, [...tokens][0]);
      await until('the session', () => b.srv.registry.getLive(sid2));
      expect(b.srv.pending.size).toBe(pendingBefore);
      expect(signedUrlRequests(b)).toBe(startRequests + 2);
      first.ws.close();
      await b.waitIdle(10_000);
    }, 60_000);
  });

  describe('media tokens', () => {
    it('closes 1008 and counts a start with a missing or wrong token, without taking the call, which still streams with its own', async () => {
      const { callSid, token } = await admitted(b);
      const before = await metric(b, 'callbridge_sockets_refused_total', { reason: 'token' });
      const conversations = b.el!.seen.conversations.length;
      expect(await startWith(b, callSid, undefined)).toBe(1008);
      expect(await startWith(b, callSid, '0'.repeat(32))).toBe(1008);
      expect(await startWith(b, callSid, token.slice(0, 31))).toBe(1008);
      expect(await startWith(b, callSid, token.slice(0, 31) + (token.endsWith('0') ? '1' : '0'))).toBe(1008);
      expect(await startWith(b, newCallSid(), token)).toBe(1008); // the right token for another call SID
      expect(await metric(b, 'callbridge_sockets_refused_total', { reason: 'token' })).toBe(before + 5);
      expect(b.srv.registry.size).toBe(0);
      expect(b.el!.seen.conversations.length).toBe(conversations);
      expect(b.srv.pending.get(callSid)).toBeDefined();
      // The real socket for that call is still let in.
      const { ws } = await openStart(b.base, callSid, token);
      await until('the session', () => b.srv.registry.getLive(callSid));
      // Reused: a second socket with the same call token after the first claimed it.
      expect(await startWith(b, callSid, token)).toBe(1008);
      expect(await metric(b, 'callbridge_sockets_refused_total', { reason: 'token' })).toBe(before + 6);
      expect(b.srv.registry.size).toBe(1);
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
      await b.waitIdle(10_000);
    }, 30_000);
  });

  describe('call SIDs in file names', () => {
    it.each([['../../etc/cb-traversal'], ['..\\..\\cb-traversal'], ['CA\u0000/../cb-traversal'], ['..'], ['a/b']])(
      'keeps the call log of %j inside LOGS_DIR',
      async (callSid) => {
        const logsDir = b.cfg.LOGS_DIR;
        const call = await b.carrier.placeCall({
          serverBase: b.base,
          publicUrl: PUBLIC_URL,
          path: '/inbound',
          from: '+14155550123',
          to: '+15550000000',
          callSid,
        });
        await call.waitFor('media', 10_000);
        await call.hangup();
        await b.ended(callSid, 10_000);
        const name = `${callLogName(callSid)}.json`;
        expect(['/', '\\', '\u0000'].filter((c) => name.includes(c))).toEqual([]);
        expect(name).not.toMatch(/^\.\.?\.json$/);
        await until(`the call log ${name}`, () => existsSync(join(logsDir, name)));
        // The store took the call's rows too (a NUL would make PostgreSQL refuse them and the journal retry forever).
        expect(await b.srv.store.flush(10_000)).toBe(0);
        for (const outside of [dirname(logsDir), dirname(dirname(logsDir))]) {
          expect(readdirSync(outside).filter((f) => f.includes('cb-traversal') || f === 'b.json' || f === 'etc')).toEqual([]);
        }
      },
      30_000,
    );

    it('gives SIDs that differ only in unsafe characters different files', () => {
      expect(new Set(['a/b', 'a\\b', 'a_b', 'a.b', 'a\u0000b'].map(callLogName)).size).toBe(5);
      expect(callLogName('CA' + 'f'.repeat(32))).toBe('CA' + 'f'.repeat(32));
      expect(callLogName('x'.repeat(5000)).length).toBeLessThan(130);
      expect(callLogName('')).not.toBe('');
    });
  });
});

describe('expired media tokens', () => {
  it('closes 1008 a start whose token is older than PENDING_CALL_TTL_S, and starts no session', async () => {
    const b = await startBridge({ provider: 'elevenlabs', env: { PENDING_CALL_TTL_S: '1' } });
    try {
      const { callSid, token } = await admitted(b);
      const answeredAt = Date.now();
      await until('the pending call to expire', () => Date.now() - answeredAt > 1100 && b.srv.pending.size === 0, 10_000);
      expect(await startWith(b, callSid, token)).toBe(1008);
      expect(await metric(b, 'callbridge_sockets_refused_total', { reason: 'token' })).toBe(1);
      expect(b.srv.registry.size).toBe(0);
      expect(b.el!.seen.conversations).toHaveLength(0);
    } finally {
      await b.close();
    }
  }, 30_000);
});

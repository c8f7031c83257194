/**
 * Logs of a real call (pino JSON captured from the server): every line of the call carries callSid,
 * streamSid, carrier and provider; no line holds a secret (auth token, API keys, admin key, signed
 * URL, signature) or audio; the redaction also covers fields a future log line might add. At `info`,
 * with distinctive configured secrets, hostile requests around the call, and a post-call webhook, no
 * secret, signed-URL signature, per-call media token, caller number or spoken word appears.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { buildServer } from '../../src/app/build-server';
import { createLogger } from '../../src/observability/logger';
import { startElevenLabsEmulator } from '../emulators/elevenlabs';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import { startTwilioRestMock } from '../emulators/twilio-rest';
import { adminRequest } from '../helpers/admin-http';
import { fixture, PUBLIC_URL, until } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_ADMIN_KEY, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

describe('call logs', () => {
  it('at info, never hold a configured secret, a signed URL or media token, the number of the caller or what was said', async () => {
    const secrets = {
      TWILIO_AUTH_TOKEN: 'twtok7d1e5c0ffee5ecret9a8b7c6d5e4f3',
      ELEVENLABS_API_KEY: 'xi-distinct-key-5b6a7c8d9e',
      OPENAI_API_KEY: 'sk-distinct-openai-1f2e3d4c5b',
      ADMIN_API_KEY: 'admin-distinct-key-0a9b8c7d6e5f',
      CALL_TOKEN_SECRET: 'calltok-distinct-secret-4e5f6a7b8c',
      ELEVENLABS_WEBHOOK_SECRET: 'wsec_distinct_3c4d5e6f7a8b',
    };
    const caller = '+14155559876';
    const el = await startElevenLabsEmulator({ speed: 4, apiKey: secrets.ELEVENLABS_API_KEY });
    const carrier = new TwilioCarrierEmulator({ authToken: secrets.TWILIO_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: 4 });
    const rest = await startTwilioRestMock({ carrier, accountSid: TEST_ACCOUNT_SID, authToken: secrets.TWILIO_AUTH_TOKEN });
    const out = capture();
    const srv = buildServer(
      testConfig({ PUBLIC_URL, TWILIO_API_BASE: rest.url, ELEVENLABS_API_BASE: el.httpUrl, LOG_LEVEL: 'info', PROVIDER_FAILOVER: 'true', ...secrets }),
      createLogger('info', out.stream),
    );
    await new Promise<void>((r) => srv.server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
    try {
      const place = (signature?: 'forged') =>
        carrier.placeCall({
          serverBase: base,
          publicUrl: PUBLIC_URL,
          path: '/inbound',
          from: caller,
          to: '+15550000000',
          audio: fixture('caller-booking-8k.wav'),
          signature,
        });
      const forged = await place('forged');
      expect(forged.webhook.status).toBe(403);
      const call = await place();
      await call.waitFor('media', 10_000);
      await until('the caller to be heard', () => el.seen.userTranscripts.length > 0 && el.seen.agentResponses.length > 1, 20_000);
      await adminRequest(base, 'GET', `/api/calls/${call.callSid}`, undefined, 'wrong-admin-key');
      await adminRequest(base, 'GET', `/api/calls/${call.callSid}`, undefined, secrets.ADMIN_API_KEY);
      await adminRequest(base, 'POST', `/api/calls/${call.callSid}/hangup`, undefined, secrets.ADMIN_API_KEY);
      await call.closed;
      await until('the call to end', () => srv.registry.size === 0);
      const body = JSON.stringify({
        type: 'post_call_transcription',
        event_timestamp: Math.floor(Date.now() / 1000),
        data: { conversation_id: 'conv_logs', transcript: [{ role: 'user', message: 'my number is 4155559876' }] },
      });
      const t = Math.floor(Date.now() / 1000);
      const signature = `t=${t},v0=${createHmac('sha256', secrets.ELEVENLABS_WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`;
      for (const sig of [signature, signature, signature.replace(/v0=./, 'v0=0')]) {
        await fetch(`${base}/webhooks/elevenlabs/post-call`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'ElevenLabs-Signature': sig },
          body,
        });
      }

      const text = out.text();
      expect(out.lines().some((l) => l.msg === 'call ended' && l.callSid === call.callSid)).toBe(true);
      const mediaToken = call.twiml.parameters.token!;
      const conversationSignatures = el.seen.upgrades.map((u) => u.query.conversation_signature).filter((s): s is string => !!s);
      expect(mediaToken).toBeTruthy();
      expect(conversationSignatures.length).toBeGreaterThan(0);
      const spoken = [...el.seen.userTranscripts, ...el.seen.agentResponses.map((r) => r.text)].filter((s) => s.length >= 12);
      expect(spoken.length).toBeGreaterThan(1);
      const forbidden: Record<string, string> = {
        ...secrets,
        mediaToken,
        ...Object.fromEntries(conversationSignatures.map((s, i) => [`conversation_signature ${i}`, s])),
        caller,
        'caller digits': caller.slice(1),
        'post-call signature': signature.slice(signature.indexOf('v0=') + 3),
        ...Object.fromEntries(spoken.map((s, i) => [`spoken ${i}`, s])),
      };
      const found = Object.entries(forbidden)
        .filter(([, v]) => text.includes(v))
        .map(([k]) => k);
      expect(found).toEqual([]);
    } finally {
      await carrier.close();
      await srv.close();
      await rest.close();
      await el.close();
    }
  }, 60_000);

  it('tag every line of a call with its identity and never contain secrets or audio', async () => {
    const el = await startElevenLabsEmulator({ speed: 4 });
    const carrier = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: 4 });
    const rest = await startTwilioRestMock({ carrier });
    const out = capture();
    const srv = buildServer(
      testConfig({ PUBLIC_URL, TWILIO_API_BASE: rest.url, ELEVENLABS_API_BASE: el.httpUrl, LOG_LEVEL: 'debug' }),
      createLogger('debug', out.stream),
    );
    await new Promise<void>((r) => srv.server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
    try {
      const call = await carrier.placeCall({
        serverBase: base,
        publicUrl: PUBLIC_URL,
        path: '/inbound',
        from: '+14155550123',
        to: '+15550000000',
        audio: fixture('caller-booking-8k.wav'),
      });
      await call.waitFor('media', 10_000);
      await new Promise((r) => setTimeout(r, 1500));
      await adminRequest(base, 'GET', `/api/calls/${call.callSid}`);
      await adminRequest(base, 'POST', `/api/calls/${call.callSid}/hangup`);
      await call.closed;
      for (let i = 0; i < 100 && srv.registry.size > 0; i++) await new Promise((r) => setTimeout(r, 50));

      const session = out.lines().filter((l) => l.callSid === call.callSid && l.streamSid !== undefined);
      expect(session.map((l) => l.msg)).toEqual(expect.arrayContaining(['provider ready', 'first agent audio', 'call ended']));
      for (const l of session) expect(l).toMatchObject({ callSid: call.callSid, streamSid: call.streamSid, carrier: 'twilio', provider: 'elevenlabs' });

      const text = out.text();
      for (const secret of [TEST_AUTH_TOKEN, TEST_ADMIN_KEY, 'xi-test-key', 'sk-test']) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/conversation_signature|token=/);
      // No audio: nothing that looks like a base64 media payload (160-byte μ-law frames are 216 chars).
      expect(text).not.toMatch(/[A-Za-z0-9+/]{200,}/);
      // Callers' words stay out (pii is removed); turns are logged as events only.
      expect(session.some((l) => 'pii' in l)).toBe(false);

      // Redaction of fields a log line might carry by mistake.
      const probe = capture();
      createLogger('info', probe.stream).info(
        {
          token: 'T1',
          apiKey: 'K1',
          signedUrl: 'wss://x?conversation_signature=S1',
          payload: 'AAAA',
          err: { authorization: 'Bearer B1', signature: 'G1' },
          headers: { authorization: 'Bearer B2' },
          callSid: 'CA1',
        },
        'probe',
      );
      expect(probe.lines()[0]).toEqual(expect.objectContaining({ msg: 'probe', callSid: 'CA1', err: {}, headers: {} }));
      expect(probe.text()).not.toMatch(/T1|K1|S1|AAAA|B1|B2|G1/);
    } finally {
      await carrier.close();
      await srv.close();
      await rest.close();
      await el.close();
    }
  });
});

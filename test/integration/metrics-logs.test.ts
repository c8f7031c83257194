/**
 * Logs of a real call (pino JSON captured from the server): every line of the call carries callSid,
 * streamSid, carrier and provider; no line holds a secret (auth token, API keys, admin key, signed
 * URL, signature) or audio; the redaction also covers fields a future log line might add.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { buildServer } from '../../src/app/build-server';
import { createLogger } from '../../src/observability/logger';
import { startElevenLabsEmulator } from '../emulators/elevenlabs';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import { startTwilioRestMock } from '../emulators/twilio-rest';
import { adminRequest } from '../helpers/admin-http';
import { fixture, PUBLIC_URL } from '../helpers/bridge';
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

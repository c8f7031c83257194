/**
 * The operator API over HTTP against the real server, the Twilio carrier + REST emulators and the
 * ElevenLabs emulator: auth, outbound placement, live hang-up and transfer, status callbacks.
 */
import type { AddressInfo } from 'node:net';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import { silentLogger } from '../../src/observability/logger';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import { postSignedForm, voiceParams } from '../emulators/twilio/signed-post';
import { startTwilioRestMock, type TwilioRestMock, type TwilioRestMockOptions } from '../emulators/twilio-rest';
import { adminRequest, eventually, type JsonObject } from '../helpers/admin-http';
import { fixture, PUBLIC_URL } from '../helpers/bridge';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';

const SPEED = 4;

describe('admin API', () => {
  let el: ElevenLabsEmulator;
  let carrier: TwilioCarrierEmulator;
  let rest: TwilioRestMock;
  let srv: CallbridgeServer;
  let base: string;
  const restOpts: TwilioRestMockOptions = { carrier: undefined as unknown as TwilioCarrierEmulator };
  const api = <T = JsonObject>(method: string, path: string, body?: unknown, key?: string | null) => adminRequest<T>(base, method, path, body, key);
  const inbound = () =>
    carrier.placeCall({
      serverBase: base,
      publicUrl: PUBLIC_URL,
      path: '/inbound',
      from: '+14155550123',
      to: '+15550000000',
      audio: fixture('caller-booking-8k.wav'),
    });

  beforeAll(async () => {
    el = await startElevenLabsEmulator({ speed: SPEED });
    carrier = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: SPEED });
    restOpts.carrier = carrier;
    rest = await startTwilioRestMock(restOpts);
    srv = buildServer(testConfig({ PUBLIC_URL, TWILIO_API_BASE: rest.url, ELEVENLABS_API_BASE: el.httpUrl }), silentLogger);
    await new Promise<void>((r) => srv.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
    restOpts.answer = { serverBase: base, audio: fixture('caller-booking-8k.wav') };
  });

  afterAll(async () => {
    await carrier.close();
    await rest.close();
    await srv.close();
    await el.close();
  });

  it('answers 401 without the bearer key or with a wrong one, on reads and writes', async () => {
    for (const key of [null, 'wrong-key-0123456789', '']) {
      expect((await api('GET', '/api/calls/active', undefined, key)).status).toBe(401);
      expect((await api('POST', '/api/calls', { to: '+14155550100' }, key)).status).toBe(401);
      expect((await api('POST', '/api/calls/CA0/hangup', undefined, key)).status).toBe(401);
    }
    expect(rest.requests).toHaveLength(0);
  });

  it('rejects a bad placement body with one error per field', async () => {
    const res = await api<{ fields: Record<'to' | 'provider' | 'carrier', string[]> }>('POST', '/api/calls', {
      to: '4155550100',
      provider: 'bard',
      carrier: 'sip',
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields).sort()).toEqual(['carrier', 'provider', 'to']);
    expect(res.body.fields.to[0]).toMatch(/E\.164/);
  });

  it('places an outbound call through the Twilio REST API and applies the requested first message when it is answered', async () => {
    const res = await api<{ callSid: string }>('POST', '/api/calls', {
      to: '+14155550100',
      firstMessage: 'Hi, this is the clinic calling about your appointment.',
    });
    expect(res.status).toBe(201);
    const callSid = res.body.callSid;
    expect(callSid).toMatch(/^CA[0-9a-f]{32}$/);

    const create = rest.requests.find((r) => r.method === 'POST' && r.path === `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls.json`)!;
    expect(create.status).toBe(201);
    expect(create.auth).toEqual({ username: TEST_ACCOUNT_SID, password: TEST_AUTH_TOKEN });
    expect(create.form).toMatchObject({
      To: '+14155550100',
      From: '+15550000000',
      Method: 'POST',
      StatusCallback: `${PUBLIC_URL}/webhooks/twilio/status`,
      StatusCallbackMethod: 'POST',
    });
    expect(create.form.Url).toMatch(new RegExp(`^${PUBLIC_URL}/outbound\\?rid=[0-9a-f]{24}$`));
    expect(create.form.StatusCallbackEvent).toEqual(['initiated', 'ringing', 'answered', 'completed']);

    // The emulated callee answers: Twilio requests /outbound, the stream starts, the agent greets with our first message.
    const call = await carrier.waitForCall((c) => c.callSid === callSid, 10_000);
    await call.waitFor('media', 10_000);
    expect(el.seen.inits.at(-1)!.conversation_config_override?.agent?.first_message).toBe('Hi, this is the clinic calling about your appointment.');
    const live = await api('GET', '/api/calls/active');
    expect(live.body.calls).toContainEqual(expect.objectContaining({ callSid, direction: 'outbound', to: '+14155550100', status: 'in-progress' }));

    // Signed status callbacks reached /webhooks/twilio/status and were applied.
    await eventually('answered status callback', () =>
      carrier.statusCallbacks.some((s) => s.callSid === callSid && s.params.CallStatus === 'in-progress') ? true : undefined,
    );
    expect(carrier.statusCallbacks.filter((s) => s.callSid === callSid).map((s) => s.status)).toEqual([204, 204, 204]);
    const one = await api('GET', `/api/calls/${callSid}`);
    expect(one.body.carrierStatus).toMatchObject({ carrier: 'twilio', status: 'in-progress', sequence: 2 });

    await call.hangup();
    await eventually('completed status', async () =>
      (await api<{ carrierStatus?: { status: string } }>('GET', `/api/calls/${callSid}`)).body.carrierStatus?.status === 'completed' ? true : undefined,
    );
  });

  it('hangs up a live call on request, and answers 404 once it is gone or for an unknown call', async () => {
    const call = await inbound();
    await call.waitFor('media', 10_000);
    const res = await api('POST', `/api/calls/${call.callSid}/hangup`);
    expect(res).toEqual({ status: 200, body: { callSid: call.callSid, result: 'hangup' } });
    expect(rest.requests.at(-1)).toMatchObject({
      path: `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${call.callSid}.json`,
      form: { Status: 'completed' },
      status: 200,
    });
    await call.closed;
    expect(call.endReason).toBe('rest-hangup');
    const rec = await eventually('ended record', async () => {
      const r = await api('GET', `/api/calls/${call.callSid}`);
      return r.body.endedAt ? r.body : undefined;
    });
    expect(rec).toMatchObject({ status: 'completed', endReason: 'admin_hangup' });
    expect((await api('POST', `/api/calls/${call.callSid}/hangup`)).status).toBe(404);
    expect((await api('POST', '/api/calls/CA00000000000000000000000000000000/hangup')).status).toBe(404);
    expect((await api('GET', '/api/calls/CA00000000000000000000000000000000')).status).toBe(404);
  });

  it('transfers a live call with <Dial> and ends the session without hanging up', async () => {
    const call = await inbound();
    await call.waitFor('media', 10_000);
    expect((await api('POST', `/api/calls/${call.callSid}/transfer`, { to: 'nobody' })).status).toBe(400);
    const before = rest.requests.length;
    const res = await api('POST', `/api/calls/${call.callSid}/transfer`, { to: '+15551234567' });
    expect(res).toEqual({ status: 200, body: { callSid: call.callSid, result: 'transfer', to: '+15551234567' } });
    expect(rest.transfers.at(-1)).toMatchObject({ callSid: call.callSid, to: '+15551234567' });
    await call.closed;
    expect(call.endReason).toBe('transfer');
    const rec = await eventually('ended record', async () => {
      const r = await api('GET', `/api/calls/${call.callSid}`);
      return r.body.endedAt ? r.body : undefined;
    });
    expect(rec).toMatchObject({ status: 'transferred', endReason: 'transfer: admin_transfer' });
    // Exactly one REST request for this call: the <Dial> update, no Status=completed.
    const mine = rest.requests.slice(before).filter((r) => r.path.endsWith(`/Calls/${call.callSid}.json`));
    expect(mine.map((r) => r.form)).toEqual([{ Twiml: expect.stringContaining('<Dial>+15551234567</Dial>') }]);
    expect((await api('POST', `/api/calls/${call.callSid}/transfer`, { to: '+15551234567' })).status).toBe(404);
  });

  it('checks status-callback signatures and applies callbacks idempotently, never moving a call backwards', async () => {
    const callSid = 'CA' + 'b'.repeat(32);
    const url = `${PUBLIC_URL}/webhooks/twilio/status`;
    const post = (status: string, seq: number, signature?: 'forged' | 'missing') =>
      postSignedForm({
        target: `${base}/webhooks/twilio/status`,
        signedUrl: url,
        authToken: TEST_AUTH_TOKEN,
        signature,
        params: {
          ...voiceParams({ callSid, accountSid: TEST_ACCOUNT_SID, from: '+15550000000', to: '+14155550100', direction: 'outbound-api', callStatus: status }),
          SequenceNumber: String(seq),
          CallbackSource: 'call-progress-events',
          ...(status === 'completed' ? { CallDuration: '42' } : {}),
        },
      });
    expect((await post('ringing', 1, 'forged')).status).toBe(403);
    expect((await post('ringing', 1, 'missing')).status).toBe(403);
    expect((await api('GET', `/api/calls/${callSid}`)).status).toBe(404);
    const applied = async () =>
      sampleValue(parsePrometheusText(await (await fetch(`${base}/metrics`)).text()), 'callbridge_status_callbacks_total', {
        carrier: 'twilio',
        status: 'completed',
      }) ?? 0;
    const before = await applied();
    expect((await post('completed', 3)).status).toBe(204);
    expect((await post('in-progress', 2)).status).toBe(204); // late: ignored
    expect((await post('completed', 3)).status).toBe(204); // replay: ignored
    const rec = await api('GET', `/api/calls/${callSid}`);
    expect(rec.body.carrierStatus).toMatchObject({ status: 'completed', sequence: 3, durationS: 42 });
    expect(await applied()).toBe(before + 1);
  });

  it('puts an outbound call nobody answered on record from its final status callback', async () => {
    const callSid = 'CA' + 'c'.repeat(32);
    const res = await postSignedForm({
      target: `${base}/webhooks/twilio/status`,
      signedUrl: `${PUBLIC_URL}/webhooks/twilio/status`,
      authToken: TEST_AUTH_TOKEN,
      params: {
        ...voiceParams({ callSid, accountSid: TEST_ACCOUNT_SID, from: '+15550000000', to: '+14155550177', direction: 'outbound-api', callStatus: 'no-answer' }),
        SequenceNumber: '2',
        CallDuration: '0',
      },
    });
    expect(res.status).toBe(204);
    const stored = await eventually('stored unanswered call', async () => {
      const r = await api('GET', `/api/calls/${callSid}`);
      return r.body.source === 'store' ? r.body : undefined;
    });
    expect(stored).toMatchObject({
      callSid,
      carrier: 'twilio',
      direction: 'outbound',
      to: '+14155550177',
      status: 'no-answer',
      endReason: 'carrier: no-answer',
    });
  });
});

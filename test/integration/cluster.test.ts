/**
 * Two server processes sharing live calls through the real Redis (REDIS_URL, a random key prefix per
 * run): each lists both instances' calls, a hang-up or transfer sent to one instance is carried out by
 * the instance holding the call, options of an outbound call placed on one instance apply when the
 * other answers it, a media socket landing on the instance that did not answer the webhook is admitted
 * by its token alone (and only once; a replayed webhook for it is a duplicate), and a crashed instance’s calls disappear once their keys expire.
 */
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import { startTwilioRestMock, type TwilioRestMock, type TwilioRestMockOptions } from '../emulators/twilio-rest';
import { adminRequest, eventually } from '../helpers/admin-http';
import { fixture, inboundCall, PUBLIC_URL } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/config';
import { openStart } from '../helpers/twilio-start';
import { readTwiml } from '../emulators/twilio/twiml';
import { describeWithRedis, dropPrefix, TEST_REDIS_URL, testKeyPrefix } from '../helpers/redis';
import { baseServerEnv, startServerProcess, type ServerProcess } from '../helpers/server-process';

jest.setTimeout(120_000);

describeWithRedis()('two instances sharing calls through Redis', () => {
  const prefix = testKeyPrefix();
  let el: ElevenLabsEmulator;
  let carrier: TwilioCarrierEmulator;
  let rest: TwilioRestMock;
  const restOpts: TwilioRestMockOptions = { carrier: undefined as unknown as TwilioCarrierEmulator };
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    el = await startElevenLabsEmulator({ speed: 4 });
    carrier = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: 4 });
    restOpts.carrier = carrier;
    rest = await startTwilioRestMock(restOpts);
    const env = { TWILIO_API_BASE: rest.url, ELEVENLABS_API_BASE: el.httpUrl, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    [a, b] = await Promise.all([startServerProcess({ ...baseServerEnv(PUBLIC_URL), ...env }), startServerProcess({ ...baseServerEnv(PUBLIC_URL), ...env })]);
  });

  afterAll(async () => {
    a?.kill();
    b?.kill();
    await carrier.close();
    await rest.close();
    await el.close();
    await dropPrefix(prefix);
  });

  const callOpts = (s: ServerProcess) => inboundCall(s.base);
  const callTo = (s: ServerProcess) => carrier.placeCall(callOpts(s));
  const activeSids = async (s: ServerProcess) =>
    (await adminRequest(s.base, 'GET', '/api/calls/active')).body.calls as Array<{ callSid: string; instanceId: string }>;

  it('lists every instance’s calls and carries out hang-up and transfer on the instance holding the call', async () => {
    const onB = await callTo(b);
    const onA = await callTo(a);
    await Promise.all([onA.waitFor('media', 20_000), onB.waitFor('media', 20_000)]);
    const idA = a.logs.find((l) => l.msg === 'callbridge listening')!.instanceId;
    const idB = b.logs.find((l) => l.msg === 'callbridge listening')!.instanceId;
    expect(idA).not.toBe(idB);
    for (const s of [a, b]) {
      const calls = await activeSids(s);
      expect(calls).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ callSid: onA.callSid, instanceId: idA }),
          expect.objectContaining({ callSid: onB.callSid, instanceId: idB }),
        ]),
      );
    }
    // A call on B, read (as of B's last heartbeat) and hung up through A.
    expect((await adminRequest(a.base, 'GET', `/api/calls/${onB.callSid}`)).body).toMatchObject({
      callSid: onB.callSid,
      instanceId: idB,
      direction: 'inbound',
    });
    const hang = await adminRequest(a.base, 'POST', `/api/calls/${onB.callSid}/hangup`);
    expect(hang).toEqual({ status: 200, body: { callSid: onB.callSid, result: 'hangup' } });
    await onB.closed;
    expect(onB.endReason).toBe('rest-hangup');
    await b.waitForLog((l) => l.msg === 'control request from another instance' && l.callSid === onB.callSid && l.from === idA);
    await b.waitForLog((l) => l.msg === 'call ended' && l.callSid === onB.callSid);

    // A call on A, transferred through B.
    const tr = await adminRequest(b.base, 'POST', `/api/calls/${onA.callSid}/transfer`, { to: '+15551234567' });
    expect(tr.status).toBe(200);
    await onA.closed;
    expect(rest.transfers).toContainEqual(expect.objectContaining({ callSid: onA.callSid, to: '+15551234567' }));
    const ended = await a.waitForLog((l) => l.msg === 'call ended' && l.callSid === onA.callSid);
    expect(ended.status).toBe('transferred');

    await eventually('both lists empty', async () => ((await activeSids(a)).length === 0 && (await activeSids(b)).length === 0 ? true : undefined));
    expect((await adminRequest(a.base, 'POST', `/api/calls/${onB.callSid}/hangup`)).status).toBe(404);
  });

  it('applies the options of a call placed on one instance when the other answers it', async () => {
    restOpts.answer = { serverBase: b.base, audio: fixture('caller-booking-8k.wav') };
    const placed = await adminRequest(a.base, 'POST', '/api/calls', { to: '+14155550100', firstMessage: 'Calling from instance A.' });
    expect(placed.status).toBe(201);
    const call = await carrier.waitForCall((c) => c.callSid === placed.body.callSid, 20_000);
    await call.waitFor('media', 20_000);
    expect(el.seen.inits.at(-1)!.conversation_config_override?.agent?.first_message).toBe('Calling from instance A.');
    await b.waitForLog((l) => l.msg === 'call admitted' && l.callSid === call.callSid);
    await call.hangup();
    restOpts.answer = undefined;
  });

  it('admits a media socket on the instance that did not answer the webhook, once per token', async () => {
    const call = await carrier.placeCall({ ...callOpts(a), streamBase: b.base });
    await call.waitFor('media', 20_000);
    const started = await b.waitForLog((l) => l.msg === 'media stream admitted by its token alone: provider set-up starts here' && l.callSid === call.callSid);
    expect(started.provider).toBe('elevenlabs');
    // What landing elsewhere costs: provider ready after `start` here (own signed URL) against a call streaming where it was answered (prefetched).
    const local = await callTo(a);
    await local.waitFor('media', 20_000);
    const readyMs = async (s: ServerProcess, sid: string) => (await s.waitForLog((l) => l.msg === 'provider ready' && l.callSid === sid)).ms as number;
    console.log(`provider ready after start: ${await readyMs(a, local.callSid)} ms prefetched, ${await readyMs(b, call.callSid)} ms on another instance`);
    await local.hangup();
    await a.waitForLog((l) => l.msg === 'call admitted' && l.callSid === call.callSid);
    // The same start (same token) replayed on A, which answered the webhook, is refused: a token admits one stream.
    const token = readTwiml(call.twiml.raw).parameters.token;
    expect(await (await openStart(a.base, call.callSid, token)).closed).toBe(1008);
    await a.waitForLog((l) => l.msg === 'media token refused: already used' && l.callSid === call.callSid);
    // The webhook replayed to A, which no longer holds it as pending, is a duplicate of the call live on B: no second set-up.
    const again = await carrier.placeCall({ ...callOpts(a), callSid: call.callSid });
    await again.closed;
    await a.waitForLog((l) => l.msg === 'call refused' && l.callSid === call.callSid && l.reason === 'duplicate');
    await call.hangup();
  });

  it('forgets the calls of an instance that crashed once their keys expire', async () => {
    const call = await callTo(b);
    await call.waitFor('media', 20_000);
    await eventually('the call listed on A', async () => ((await activeSids(a)).some((c) => c.callSid === call.callSid) ? true : undefined));
    b.kill();
    await b.exited;
    await eventually('the crashed call to expire', async () => ((await activeSids(a)).some((c) => c.callSid === call.callSid) ? undefined : true), 40_000);
    const res = await adminRequest(a.base, 'POST', `/api/calls/${call.callSid}/hangup`);
    expect(res.status).toBe(404);
  });
});

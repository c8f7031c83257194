/**
 * The webhook URL's `?provider=` through the real webhooks: honoured on a signed Twilio request and on an
 * Exotel request authenticated by EXOTEL_WEBHOOK_TOKEN; ignored on an unsigned Twilio request
 * (TWILIO_SKIP_SIGNATURE=true) and on Exotel without a configured token; and never over the kill switch
 * (Unleash configured, USE_ELEVENLABS_CONVERSATIONAL_AI=false), while the operator's
 * `POST /api/calls {provider}` still wins over it. The provider chosen is the one whose set-up started.
 */
import request from 'supertest';
import twilio from 'twilio';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import type { CallControl, PlaceCallRequest } from '../../src/carriers/types';
import type { FlagSource } from '../../src/flags';
import { silentLogger } from '../../src/observability/logger';
import { idleConnectors } from '../helpers/idle-connectors';
import { TEST_ACCOUNT_SID, TEST_ADMIN_KEY, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';

const PUBLIC = 'https://calls.example.test';
const HOOK = 'hook-token-0123456789abcdef';

/** A flag source whose toggle answers `elevenlabs` for every call, as a fresh Unleash state would (source `unleash`). */
function toggle(elevenlabs: boolean): FlagSource {
  return {
    evaluate: () => ({ elevenlabs, source: 'unleash' }),
    status: () => ({ ready: true, synchronized: true, sinceLastFetchMs: 0, toggleKnown: true, toggle: { enabled: elevenlabs } }),
    close: async () => undefined,
  };
}

describe('webhook ?provider= override', () => {
  let srv: CallbridgeServer;
  let prepared: Map<string, string>;
  let placed: PlaceCallRequest[];
  let n = 0;

  function start(over: Record<string, string>, flags?: FlagSource) {
    prepared = new Map();
    placed = [];
    const connectors = idleConnectors((p, sid) => prepared.set(sid, p));
    const control: CallControl = {
      hangup: async () => true,
      transfer: async () => undefined,
      sayAndHangup: async () => undefined,
      placeCall: async (req) => {
        placed.push(req);
        return { callSid: 'CA' + 'c'.repeat(32) };
      },
    };
    srv = buildServer(testConfig(over), silentLogger, { connectors, control, flags });
  }
  afterEach(async () => {
    await srv.close();
  });

  /** A Twilio voice webhook to `pathAndQuery`, signed (or not); resolves with the provider whose set-up started. */
  async function twilioCall(pathAndQuery: string, signed = true, callSid = `CA${String(++n).padStart(32, '0')}`): Promise<string | undefined> {
    const params = { CallSid: callSid, AccountSid: TEST_ACCOUNT_SID, From: '+14155550123', To: '+15550000000', CallStatus: 'ringing', Direction: 'inbound' };
    let req = request(srv.app).post(pathAndQuery).type('form');
    if (signed) req = req.set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, PUBLIC + pathAndQuery, params));
    const res = await req.send(params);
    expect(res.text).toContain('<Stream');
    return prepared.get(callSid);
  }
  async function exotelCall(query: string): Promise<string | undefined> {
    const callSid = String(++n).padStart(32, 'e');
    const res = await request(srv.app).get(`/inbound?carrier=exotel${query}&CallSid=${callSid}&CallFrom=09876543210&CallTo=08047112345`);
    expect(res.status).toBe(200);
    return prepared.get(callSid);
  }

  it('honours ?provider= on a signed Twilio request and an Exotel request authenticated by its token', async () => {
    start({ EXOTEL_WEBHOOK_TOKEN: HOOK });
    expect(await twilioCall('/inbound')).toBe('elevenlabs');
    expect(await twilioCall('/inbound?provider=openai')).toBe('openai');
    expect(await exotelCall(`&token=${HOOK}`)).toBe('elevenlabs');
    expect(await exotelCall(`&token=${HOOK}&provider=openai`)).toBe('openai');
    // A name in no registry falls through to the default.
    expect(await twilioCall('/inbound?provider=nonesuch')).toBe('elevenlabs');
  });

  it('ignores ?provider= on an unsigned Twilio request (TWILIO_SKIP_SIGNATURE) and on Exotel without EXOTEL_WEBHOOK_TOKEN', async () => {
    start({ TWILIO_SKIP_SIGNATURE: 'true' });
    expect(await twilioCall('/inbound?provider=openai', false)).toBe('elevenlabs');
    expect(await exotelCall('&provider=openai')).toBe('elevenlabs');
  });

  it('never lets ?provider= beat the kill switch; the operator’s POST /api/calls {provider} still does', async () => {
    // Unleash is on and its toggle says ElevenLabs, but the kill switch is thrown.
    start({ USE_ELEVENLABS_CONVERSATIONAL_AI: 'false', EXOTEL_WEBHOOK_TOKEN: HOOK }, toggle(true));
    expect(await twilioCall('/inbound')).toBe('openai');
    expect(await twilioCall('/inbound?provider=elevenlabs')).toBe('openai');
    expect(await exotelCall(`&token=${HOOK}&provider=elevenlabs`)).toBe('openai');

    const res = await request(srv.app)
      .post('/api/calls')
      .set('Authorization', `Bearer ${TEST_ADMIN_KEY}`)
      .send({ to: '+14155550100', provider: 'elevenlabs' })
      .expect(201);
    expect(res.body.callSid).toMatch(/^CA/);
    const answer = new URL(placed[0]!.answerUrl);
    expect(answer.pathname).toBe('/outbound');
    // Twilio requests the answer URL when the callee picks up; a ?provider= added to it changes nothing.
    const callSid = 'CA' + 'd'.repeat(32);
    const params = {
      CallSid: callSid,
      AccountSid: TEST_ACCOUNT_SID,
      From: '+15550000000',
      To: '+14155550100',
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
    };
    const path = `${answer.pathname}${answer.search}&provider=openai`;
    const sig = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, PUBLIC + path, params);
    const twiml = await request(srv.app).post(path).type('form').set('X-Twilio-Signature', sig).send(params);
    expect(twiml.text).toContain('<Stream');
    expect(prepared.get(callSid)).toBe('elevenlabs');
  });

  it('lets ?provider= beat the Unleash toggle when the kill switch is off', async () => {
    start({ USE_ELEVENLABS_CONVERSATIONAL_AI: 'true', EXOTEL_WEBHOOK_TOKEN: HOOK }, toggle(false));
    expect(await twilioCall('/inbound')).toBe('openai');
    expect(await twilioCall('/inbound?provider=elevenlabs')).toBe('elevenlabs');
    expect(await exotelCall(`&token=${HOOK}&provider=elevenlabs`)).toBe('elevenlabs');
  });
});

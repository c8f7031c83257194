/**
 * Admissions that are not streaming yet, through the real webhooks (Twilio signed, Exotel dynamic URL):
 * MAX_PENDING_CALLS bounds them separately from MAX_CONCURRENT_CALLS (busy TwiML / Exotel 503, counted
 * as `callbridge_calls_refused_total{reason="pending_limit"}`), a refused call starts no provider set-up,
 * and an answered call whose socket never opens stops counting at PENDING_CALL_TTL_S: its slot frees and
 * its token no longer opens a stream (1008).
 */
import request from 'supertest';
import twilio from 'twilio';
import type { AddressInfo } from 'node:net';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import { silentLogger } from '../../src/observability/logger';
import { idleConnectors } from '../helpers/idle-connectors';
import { ExotelCarrierEmulator } from '../emulators/exotel-carrier';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';
import { until } from '../helpers/server-waits';

const PUBLIC = 'https://calls.example.test';

describe('admission limits for calls not streaming yet', () => {
  let srv: CallbridgeServer;
  let prepared: string[];

  function start(over: Record<string, string>) {
    prepared = [];
    const connectors = idleConnectors((p, sid) => prepared.push(`${p}:${sid}`));
    srv = buildServer(testConfig(over), silentLogger, { connectors });
  }
  afterEach(async () => {
    await srv.close();
  });

  const twilioCall = (callSid: string) => {
    const params = { CallSid: callSid, AccountSid: TEST_ACCOUNT_SID, From: '+14155550123', To: '+15550000000', CallStatus: 'ringing', Direction: 'inbound' };
    const sig = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, `${PUBLIC}/inbound`, params);
    return request(srv.app).post('/inbound').type('form').set('X-Twilio-Signature', sig).send(params);
  };
  const exotelCall = (callSid: string) => request(srv.app).get(`/inbound?carrier=exotel&CallSid=${callSid}&CallFrom=09876543210&CallTo=08047112345`);
  const refused = async (carrier: string, reason: string) =>
    sampleValue(parsePrometheusText((await request(srv.app).get('/metrics')).text), 'callbridge_calls_refused_total', { carrier, reason }) ?? 0;

  it('refuses answered calls beyond MAX_PENDING_CALLS as busy, below MAX_CONCURRENT_CALLS, with its own reason and no provider set-up', async () => {
    start({ MAX_PENDING_CALLS: '2', MAX_CONCURRENT_CALLS: '10' });
    const a = 'CA' + '1'.repeat(32);
    const c = 'CA' + '3'.repeat(32);
    expect((await twilioCall(a)).text).toContain('<Connect><Stream');
    expect((await exotelCall('e'.repeat(32))).status).toBe(200);

    const third = await twilioCall(c);
    expect(third.status).toBe(200);
    expect(third.text).toMatch(/<Say>Sorry, all our lines are busy.*<\/Say><Hangup\/>/);
    expect(third.text).not.toContain('<Stream');
    const fourth = await exotelCall('f'.repeat(32));
    expect(fourth.status).toBe(503);
    expect(fourth.body).toEqual({ error: 'pending_limit' });

    expect(await refused('twilio', 'pending_limit')).toBe(1);
    expect(await refused('exotel', 'pending_limit')).toBe(1);
    expect(await refused('twilio', 'busy')).toBe(0);
    // Only the two admitted calls started a provider set-up (the signed-URL request).
    expect(prepared.sort()).toEqual([`elevenlabs:${a}`, `elevenlabs:${'e'.repeat(32)}`].sort());
    expect(srv.pending.size).toBe(2);
  });

  it('defaults MAX_PENDING_CALLS to MAX_CONCURRENT_CALLS', async () => {
    start({ MAX_CONCURRENT_CALLS: '3' });
    for (const d of ['4', '5', '6']) expect((await twilioCall('CA' + d.repeat(32))).text).toContain('<Stream');
    expect((await twilioCall('CA' + '7'.repeat(32))).text).toContain('<Hangup/>');
    expect(await refused('twilio', 'pending_limit')).toBe(1);
    expect(prepared).toHaveLength(3);
  });

  it('stops counting an answered call whose stream never opened after PENDING_CALL_TTL_S, and its token no longer opens a stream', async () => {
    start({ MAX_PENDING_CALLS: '1', PENDING_CALL_TTL_S: '1' });
    await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
    const stale = 'a'.repeat(32);
    const answered = await exotelCall(stale);
    expect(answered.status).toBe(200);
    expect((await exotelCall('b'.repeat(32))).status).toBe(503);

    await until('the unstreamed call to pass its socket deadline', () => srv.pending.size === 0, 15_000);
    expect((await exotelCall('c'.repeat(32))).status).toBe(200);

    // The stale call's stream URL (its per-call token) is void now: the socket is closed 1008 at `start`.
    const exotel = new ExotelCarrierEmulator({ speed: 4 });
    const rec = await exotel.placeCall({
      serverBase: base,
      publicUrl: PUBLIC,
      streamUrl: (answered.body as { url: string }).url,
      callSid: stale,
      from: '09876543210',
      to: '08047112345',
    });
    expect(await rec.call.closed).toMatchObject({ by: 'server', code: 1008 });
    await exotel.close();
    expect(srv.registry.size).toBe(0);
  }, 30_000);
});

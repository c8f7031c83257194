import request from 'supertest';
import twilio from 'twilio';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import { silentLogger } from '../../src/observability/logger';
import { idleConnectors } from '../helpers/idle-connectors';
import { TEST_AUTH_TOKEN, testConfig } from '../helpers/config';

const PUBLIC = 'https://calls.example.test';

function form(callSid: string, extra: Record<string, string> = {}) {
  return {
    CallSid: callSid,
    AccountSid: 'AC' + 'a'.repeat(32),
    From: '+14155550123',
    To: '+15550000000',
    CallStatus: 'ringing',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

function sign(path: string, params: Record<string, string>) {
  return twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, PUBLIC + path, params);
}

describe('Twilio voice webhooks', () => {
  let srv: CallbridgeServer;
  let prepared: string[];

  function start(over: Record<string, string> = {}) {
    prepared = [];
    const connectors = idleConnectors((p, sid) => prepared.push(`${p}:${sid}`));
    srv = buildServer(testConfig(over), silentLogger, { connectors });
  }

  afterEach(async () => {
    await srv.close();
  });

  it('answers a signed inbound call with <Connect><Stream> to the public wss URL, the call token and <Hangup/>', async () => {
    start();
    const params = form('CA' + '1'.repeat(32));
    const res = await request(srv.app).post('/inbound').type('form').set('X-Twilio-Signature', sign('/inbound', params)).send(params);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/xml/);
    expect(res.text).toMatch(/<Response><Connect><Stream url="wss:\/\/calls\.example\.test\/media-stream">/);
    expect(res.text).toMatch(/<Parameter name="token" value="v1\.[\w-]+\.[\w-]{43}"\/>/);
    expect(res.text).toContain('<Parameter name="direction" value="inbound"/>');
    expect(res.text).toContain('<Parameter name="caller" value="+14155550123"/>');
    expect(res.text).toMatch(/<\/Connect><Hangup\/><\/Response>$/);
    expect(prepared).toEqual(['elevenlabs:CA' + '1'.repeat(32)]);
  });

  it('routes to OpenAI Realtime when USE_ELEVENLABS_CONVERSATIONAL_AI is false and marks outbound calls', async () => {
    start({ USE_ELEVENLABS_CONVERSATIONAL_AI: 'false' });
    const params = form('CA' + '2'.repeat(32), { Direction: 'outbound-api', CallStatus: 'in-progress' });
    const res = await request(srv.app).post('/outbound').type('form').set('X-Twilio-Signature', sign('/outbound', params)).send(params);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<Parameter name="direction" value="outbound"/>');
    expect(res.text).toContain('<Parameter name="caller" value="+15550000000"/>');
    expect(prepared).toEqual(['openai:CA' + '2'.repeat(32)]);
  });

  it('refuses a forged or missing signature with 403 and starts nothing', async () => {
    start();
    const params = form('CA' + '3'.repeat(32));
    const forged = await request(srv.app)
      .post('/inbound')
      .type('form')
      .set('X-Twilio-Signature', sign('/inbound', { ...params, From: '+1999' }))
      .send(params);
    expect(forged.status).toBe(403);
    const missing = await request(srv.app).post('/inbound').type('form').send(params);
    expect(missing.status).toBe(403);
    expect(prepared).toEqual([]);
  });

  it('says the lines are busy, in TwiML, once MAX_CONCURRENT_CALLS calls are waiting or live', async () => {
    start({ MAX_CONCURRENT_CALLS: '1' });
    const first = form('CA' + '4'.repeat(32));
    const second = form('CA' + '5'.repeat(32));
    await request(srv.app).post('/inbound').type('form').set('X-Twilio-Signature', sign('/inbound', first)).send(first).expect(200);
    const res = await request(srv.app).post('/inbound').type('form').set('X-Twilio-Signature', sign('/inbound', second)).send(second);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<Say>Sorry, all our lines are busy.*<\/Say><Hangup\/>/);
    expect(res.text).not.toContain('<Stream');
  });

  it('keeps the admin API behind the bearer key', async () => {
    start();
    await request(srv.app).get('/api/calls/active').expect(401);
    await request(srv.app).get('/api/calls/active').set('Authorization', 'Bearer wrong-key-wrong-key').expect(401);
    const ok = await request(srv.app).get('/api/calls/active').set('Authorization', 'Bearer test-admin-key-0123456789').expect(200);
    expect(ok.body).toEqual({ count: 0, calls: [] });
    await request(srv.app).get('/api/calls/CA404').set('Authorization', 'Bearer test-admin-key-0123456789').expect(404);
  });

  it('answers the probes', async () => {
    start();
    await request(srv.app).get('/health').expect(200);
    await request(srv.app).get('/ready').expect(200);
    srv.state.draining = true;
    await request(srv.app).get('/ready').expect(503);
    const m = await request(srv.app).get('/metrics').expect(200);
    expect(m.text).toContain('callbridge_calls_active');
  });
});

/**
 * Limits through the real server: MAX_CONCURRENT_CALLS (busy TwiML at N+1, counted), DAILY_BUDGET_USD
 * (fallback message, log, metric), per-address media sockets (429 before the handshake) and
 * per-address concurrent HTTP requests (429).
 */
import { connect } from 'node:net';
import { APOLOGY } from '../../src/call/session';
import { adminRequest, eventually } from '../helpers/admin-http';
import { fixture, startBridge, type Bridge } from '../helpers/bridge';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';

const metric = async (b: Bridge, name: string, labels: Record<string, string> = {}) => sampleValue(parsePrometheusText(await b.metricsText()), name, labels);

describe('limits', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('answers the N+1th concurrent call with a polite busy message in TwiML and counts it', async () => {
    b = await startBridge({ provider: 'elevenlabs', env: { MAX_CONCURRENT_CALLS: '2' } });
    const first = await b.call({ audio: fixture('caller-booking-8k.wav') });
    const second = await b.call({ audio: fixture('caller-booking-8k.wav') });
    await Promise.all([first.waitFor('media', 10_000), second.waitFor('media', 10_000)]);
    const third = await b.call();
    expect(third.webhook.status).toBe(200);
    expect(third.twiml.verbs).toEqual(['Say', 'Hangup']);
    expect(third.twiml.raw).toMatch(/all our lines are busy/);
    expect(third.endReason).toBe('twiml-ended');
    expect(first.isClosed || second.isClosed).toBe(false);
    expect(await metric(b, 'callbridge_calls_refused_total', { carrier: 'twilio', reason: 'busy' })).toBe(1);
    await Promise.all([first.hangup(), second.hangup()]);
    await b.waitIdle(10_000);
    const fourth = await b.call();
    expect(fourth.twiml.verbs).toContain('Connect');
  });

  it('gives new calls the fallback message once the daily budget is spent, with a metric', async () => {
    // 1 USD a minute and a 0.001 USD budget: a call of 60 ms or more spends it.
    b = await startBridge({ provider: 'elevenlabs', env: { DAILY_BUDGET_USD: '0.001', COST_PER_MIN_ELEVENLABS_USD: '1' } });
    const paid = await b.call({ audio: fixture('caller-booking-8k.wav') });
    await paid.waitFor('media', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await paid.hangup();
    await b.ended(paid.callSid);
    const refused = await b.call();
    expect(refused.twiml.verbs).toEqual(['Say', 'Hangup']);
    expect(refused.twiml.raw).toContain(APOLOGY);
    expect(await metric(b, 'callbridge_calls_refused_total', { carrier: 'twilio', reason: 'budget' })).toBe(1);
    expect(await metric(b, 'callbridge_budget_exceeded')).toBe(1);
    expect(await metric(b, 'callbridge_budget_spent_usd')).toBeGreaterThan(0.001);
    // The operator API refuses to place calls too.
    expect((await adminRequest(b.base, 'POST', '/api/calls', { to: '+14155550100' })).status).toBe(503);
  });

  it('refuses a media socket beyond MAX_MEDIA_SOCKETS_PER_IP with 429 before the handshake', async () => {
    b = await startBridge({ provider: 'elevenlabs', env: { MAX_MEDIA_SOCKETS_PER_IP: '1' } });
    const first = await b.call({ audio: fixture('caller-booking-8k.wav') });
    await first.waitFor('media', 10_000);
    const second = await b.call();
    expect(second.errors).toContainEqual(expect.objectContaining({ code: 31920, message: expect.stringContaining('429') }));
    expect(first.isClosed).toBe(false);
    expect(await metric(b, 'callbridge_sockets_refused_total', { reason: 'ip_limit' })).toBe(1);
    await first.hangup();
    await b.waitIdle(10_000);
    const third = await b.call({ audio: fixture('caller-booking-8k.wav') });
    await third.waitFor('media', 10_000);
  });

  it('answers 429 to an address that already has MAX_HTTP_INFLIGHT_PER_IP requests in flight', async () => {
    b = await startBridge({ provider: 'elevenlabs', env: { MAX_HTTP_INFLIGHT_PER_IP: '1' } });
    const port = new URL(b.base).port;
    // A request whose body never finishes stays in flight.
    const slow = connect(Number(port), '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write('POST /api/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to":');
    const refused = await eventually('a 429', async () => {
      const r = await adminRequest(b.base, 'GET', '/api/calls/active');
      return r.status === 429 ? r : undefined;
    });
    expect(refused.body.error).toBe('too_many_requests');
    expect((await fetch(`${b.base}/health`)).status).toBe(200); // probes are never limited
    slow.destroy();
    await eventually('the slot to be released', async () => ((await adminRequest(b.base, 'GET', '/api/calls/active')).status === 200 ? true : undefined));
    expect(await metric(b, 'callbridge_http_refused_total', { reason: 'ip_limit' })).toBeGreaterThanOrEqual(1);
  });
});

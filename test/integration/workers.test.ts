/**
 * One instance with WEB_CONCURRENCY=2 worker processes (`node:cluster`) and no Redis: the primary
 * holds the instance's state. Calls land on both workers (they share the port); the admin API on any
 * worker lists every call and hangs up one held by the other worker; MAX_CONCURRENT_CALLS counts the
 * instance, not the worker; `/metrics` sums the workers; the embedded store (held by the primary)
 * has every call's row whichever worker asks; SIGTERM to the primary drains every worker and exits 0.
 */
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import type { EmulatedCall } from '../emulators/twilio/call';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs';
import { startTwilioRestMock, type TwilioRestMock } from '../emulators/twilio-rest';
import { adminRequest, eventually } from '../helpers/admin-http';
import { inboundCall, PUBLIC_URL } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/config';
import { parsePrometheusText, sampleValue } from '../helpers/metrics-parser';
import { baseServerEnv, startServerProcess, type ServerProcess } from '../helpers/server-process';

jest.setTimeout(120_000);

describe('two worker processes, one instance', () => {
  let el: ElevenLabsEmulator;
  let carrier: TwilioCarrierEmulator;
  let rest: TwilioRestMock;
  let srv: ServerProcess;

  beforeAll(async () => {
    el = await startElevenLabsEmulator({ speed: 4 });
    carrier = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: 4 });
    rest = await startTwilioRestMock({ carrier });
    srv = await startServerProcess({
      ...baseServerEnv(PUBLIC_URL),
      TWILIO_API_BASE: rest.url,
      ELEVENLABS_API_BASE: el.httpUrl,
      WEB_CONCURRENCY: '2',
      MAX_CONCURRENT_CALLS: '5',
    });
    await srv.waitForLog((l) => l.msg === 'callbridge listening' && l.worker === 2);
  });

  afterAll(async () => {
    srv?.kill();
    await carrier?.close();
    await rest?.close();
    await el?.close();
  });

  it('spreads calls over both workers and counts, lists, hangs up and stores them as one instance', async () => {
    const calls: EmulatedCall[] = [];
    for (let i = 0; i < 6; i++) {
      const call = await carrier.placeCall(inboundCall(srv.base));
      if (i < 5) await call.waitFor('media', 30_000);
      calls.push(call);
    }
    // The sixth is over MAX_CONCURRENT_CALLS=5 of the instance, though each worker holds fewer than 5.
    await calls[5]!.closed;
    expect(calls[5]!.endReason).toBe('twiml-ended');
    const refused = await srv.waitForLog((l) => l.msg === 'call refused' && l.callSid === calls[5]!.callSid);
    expect(refused.reason).toBe('busy');
    // Each media socket is a new connection, handed to the workers in turn (webhooks may share a kept-alive one).
    const streamedBy = new Set(srv.logs.filter((l) => l.msg === 'provider ready').map((l) => l.pid));
    expect(streamedBy.size).toBe(2);

    const live = calls.slice(0, 5).map((c) => c.callSid);
    for (let i = 0; i < 4; i++) {
      const listed = (await adminRequest(srv.base, 'GET', '/api/calls/active')).body.calls as Array<{ callSid: string }>;
      expect(listed.map((c) => c.callSid).sort()).toEqual([...live].sort());
    }
    for (const c of calls.slice(0, 5)) {
      expect(await adminRequest(srv.base, 'POST', `/api/calls/${c.callSid}/hangup`)).toEqual({ status: 200, body: { callSid: c.callSid, result: 'hangup' } });
      await c.closed;
      expect(c.endReason).toBe('rest-hangup');
    }
    const listed = async () => (await adminRequest(srv.base, 'GET', '/api/calls/active')).body.calls as unknown[];
    await eventually('no live call left', async () => ((await listed()).length === 0 ? true : undefined));
    const total = async () =>
      sampleValue(parsePrometheusText(await (await fetch(`${srv.base}/metrics`)).text()), 'callbridge_calls_total', {
        carrier: 'twilio',
        provider: 'elevenlabs',
        outcome: 'completed',
      });
    await eventually('the instance counted 5 finished calls', async () => ((await total()) === 5 ? true : undefined));
    for (const sid of live)
      for (let i = 0; i < 2; i++) {
        const got = await eventually(`row of ${sid}`, async () => {
          const r = await adminRequest(srv.base, 'GET', `/api/calls/${sid}`);
          return r.status === 200 && r.body.endedAt ? r.body : undefined;
        });
        expect(got).toMatchObject({ callSid: sid, status: 'completed' });
      }
  });

  it('drains every worker on SIGTERM to the primary and exits 0', async () => {
    const call = await carrier.placeCall(inboundCall(srv.base));
    await call.waitFor('media', 30_000);
    srv.child.kill('SIGTERM');
    await srv.waitForLog((l) => l.msg === 'signal received: draining every worker');
    await new Promise((r) => setTimeout(r, 500));
    await call.hangup();
    expect(await srv.exited).toEqual({ code: 0, signal: null });
    expect(srv.logs.filter((l) => l.msg === 'drained').length).toBe(2);
    expect(srv.logs.some((l) => l.msg === 'all workers drained')).toBe(true);
  });
});

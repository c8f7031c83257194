/**
 * Three server processes sharing the real Redis (live calls, tokens, options) and one store (PostgREST
 * over the real PostgreSQL, as Supabase would be), behind a real HAProxy that round-robins every HTTP
 * request and WebSocket: so a call's webhook and its media socket usually land on different
 * instances. Calls on both carriers connect and talk; the admin API through the balancer lists every
 * call and hangs up one held by another instance; an Exotel transfer reaches its destination whichever
 * instance the Connect applet's request lands on; `kill -9` of an instance drops only its calls,
 * whose rows are completed once it is back; a rolling restart (SIGTERM one instance at a time, each
 * back before the next) drops no call.
 */
import { ExotelCarrierEmulator, type ExotelCallRecord } from '../emulators/exotel-carrier';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import type { EmulatedCall } from '../emulators/twilio/call';
import { startTwilioRestMock, type TwilioRestMock } from '../emulators/twilio-rest';
import { adminRequest, eventually } from '../helpers/admin-http';
import { fixture, inboundCall, PUBLIC_URL } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/config';
import { freePort, HAPROXY, startHaproxy, type Haproxy } from '../helpers/haproxy';
import { describeNeeding } from '../helpers/needs';
import { POSTGRES } from '../helpers/pg';
import { PostgrestDb } from '../helpers/postgrest-db';
import { dropPrefix, REDIS, TEST_REDIS_URL, testKeyPrefix } from '../helpers/redis';
import { baseServerEnv, startServerProcess, type ServerProcess } from '../helpers/server-process';

jest.setTimeout(300_000);

const INSTANCES = 3;
const KEY = 'lb-service-role-key-0123456789';
const audio = fixture('caller-booking-8k.wav');

type AnyCall = { carrier: 'twilio'; call: EmulatedCall } | { carrier: 'exotel'; rec: ExotelCallRecord };
const sidOf = (c: AnyCall) => (c.carrier === 'twilio' ? c.call.callSid : c.rec.call.callSid);

describeNeeding([REDIS, POSTGRES, HAPROXY], 'three instances behind a real HAProxy', () => {
  const prefix = testKeyPrefix();
  const pg = new PostgrestDb(KEY);
  let el: ElevenLabsEmulator;
  let twilio: TwilioCarrierEmulator;
  let exotel: ExotelCarrierEmulator;
  let rest: TwilioRestMock;
  let lb: Haproxy;
  const envs: Record<string, string>[] = [];
  const procs: ServerProcess[] = [];

  const start = async (i: number) => {
    procs[i] = await startServerProcess(envs[i]!);
  };
  const instanceOf = (p: ServerProcess) => p.logs.find((l) => l.msg === 'callbridge listening')!.instanceId as string;
  const active = async () => (await adminRequest(lb.base, 'GET', '/api/calls/active')).body.calls as Array<{ callSid: string; instanceId: string }>;
  const placeTwilio = async (): Promise<AnyCall> => ({
    carrier: 'twilio',
    call: await twilio.placeCall(inboundCall(lb.base, { audio })),
  });
  const placeExotel = async (): Promise<AnyCall> => ({
    carrier: 'exotel',
    rec: await exotel.placeCall({
      serverBase: lb.base,
      publicUrl: PUBLIC_URL,
      path: '/inbound?carrier=exotel',
      from: '09876543210',
      to: '08047112345',
      audio,
    }),
  });
  const agentAudio = (c: AnyCall) => (c.carrier === 'twilio' ? c.call.waitFor('media', 60_000) : c.rec.call.waitFor('media', 60_000));
  const hangup = (c: AnyCall) => (c.carrier === 'twilio' ? c.call.hangup() : c.rec.call.hangup());
  const closed = (c: AnyCall) => (c.carrier === 'twilio' ? c.call.closed : c.rec.call.closed);
  const mediaCount = (c: AnyCall) =>
    c.carrier === 'twilio' ? c.call.received.filter((r) => r.msg.event === 'media').length : c.rec.call.received.filter((r) => r.msg.event === 'media').length;

  beforeAll(async () => {
    await pg.start();
    el = await startElevenLabsEmulator({ speed: 4 });
    twilio = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed: 4 });
    exotel = new ExotelCarrierEmulator({ speed: 4, connectUrl: `${PUBLIC_URL}/webhooks/exotel/connect` });
    rest = await startTwilioRestMock({ carrier: twilio });
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    for (const port of ports)
      envs.push({
        ...baseServerEnv(PUBLIC_URL),
        PORT: String(port),
        TWILIO_API_BASE: rest.url,
        ELEVENLABS_API_BASE: el.httpUrl,
        SUPABASE_URL: pg.rest.url,
        SUPABASE_SERVICE_ROLE_KEY: KEY,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        MAX_CONCURRENT_CALLS: '100',
        DRAIN_READY_GRACE_S: '2',
        DRAIN_TIMEOUT_S: '40',
        LOST_CALL_GRACE_S: '16',
        LOST_CALL_CHECK_S: '2',
      });
    await Promise.all(envs.map((_, i) => start(i)));
    lb = await startHaproxy(ports);
  });

  afterAll(async () => {
    for (const p of procs) p?.kill();
    await lb?.close();
    await twilio?.close();
    await rest?.close();
    await el?.close();
    await pg.stop();
    await dropPrefix(prefix);
  });

  it('carries 60 calls on both carriers, lists them all, and hangs up a call held by another instance', async () => {
    const calls: AnyCall[] = [];
    for (let i = 0; i < 60; i++) {
      calls.push(await (i % 2 ? placeExotel() : placeTwilio()));
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(calls.map(agentAudio));
    // Webhooks and sockets were spread over every instance, and sockets landed on an instance that did not answer.
    for (const p of procs) expect(p.logs.filter((l) => l.msg === 'call admitted').length).toBeGreaterThan(5);
    const elsewhere = procs.flatMap((p) => p.logs.filter((l) => l.msg === 'media stream admitted by its token alone: provider set-up starts here'));
    expect(elsewhere.length).toBeGreaterThan(20);
    const sids = calls.map(sidOf);
    await eventually('all 60 listed through the balancer', async () => {
      const listed = new Set((await active()).map((c) => c.callSid));
      return sids.every((s) => listed.has(s)) ? true : undefined;
    });
    // Hang-ups through the balancer reach whichever instance holds the call.
    const twilioCalls = calls.filter((c): c is Extract<AnyCall, { carrier: 'twilio' }> => c.carrier === 'twilio').slice(0, 6);
    for (const c of twilioCalls) {
      const res = await adminRequest(lb.base, 'POST', `/api/calls/${c.call.callSid}/hangup`);
      expect(res).toEqual({ status: 200, body: { callSid: c.call.callSid, result: 'hangup' } });
      await c.call.closed;
      expect(c.call.endReason).toBe('rest-hangup');
    }
    // The others were still talking: the caller's speech reached the provider and the agent answered.
    await Promise.all(calls.filter((c) => !twilioCalls.includes(c as never)).map(hangup));
    await eventually('every call ended everywhere', async () => ((await active()).length === 0 ? true : undefined), 60_000);
    const endedLines = () => procs.flatMap((p) => p.logs.filter((l) => l.msg === 'call ended' && sids.includes(l.callSid as string)));
    const ended = await eventually('60 calls logged as ended', async () =>
      new Set(endedLines().map((l) => l.callSid)).size === 60 ? endedLines() : undefined,
    );
    expect(ended.filter((l) => l.status !== 'completed')).toEqual([]);
    const rows = await eventually(
      'all 60 rows ended in the shared store',
      async () => {
        const r = await pg.sql.query('select call_sid, status, end_reason from calls where call_sid = any($1) and ended_at is not null', [sids]);
        return r.rows.length === 60 ? r.rows : undefined;
      },
      30_000,
    ).catch(async (err: Error) => {
      const r = await pg.sql.query('select call_sid, status, end_reason, ended_at from calls where call_sid = any($1)', [sids]);
      throw new Error(`${err.message}: ${JSON.stringify(r.rows.filter((x: { status: string }) => x.status !== 'completed'))} of ${r.rows.length}`);
    });
    expect(rows.filter((x: { status: string }) => x.status !== 'completed')).toEqual([]);
    // What landing on another instance costs: provider ready (ms after `start`) with and without the answering instance's prefetch.
    const ready = await pg.sql.query("select call_sid, (metrics->>'providerReadyMs')::float as ms from calls where call_sid = any($1)", [sids]);
    const away = new Set(elsewhere.map((l) => l.callSid));
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const ms = (far: boolean) => ready.rows.filter((r: { call_sid: string }) => away.has(r.call_sid) === far).map((r: { ms: number }) => r.ms);
    console.log(`provider ready after start, median ms: socket on the answering instance ${median(ms(false)) ?? 'n/a'}, elsewhere ${median(ms(true))}`);
  });

  it('transfers Exotel calls whose Connect applet request lands on any instance', async () => {
    const recs = await Promise.all(Array.from({ length: 6 }, () => placeExotel()));
    await Promise.all(recs.map(agentAudio));
    for (const [i, c] of recs.entries()) {
      const to = `+1555123456${i}`;
      const res = await adminRequest(lb.base, 'POST', `/api/calls/${sidOf(c)}/transfer`, { to });
      expect(res.status).toBe(200);
      if (c.carrier !== 'exotel') throw new Error('placeExotel');
      await c.rec.done;
      expect(c.rec.transferTo).toBe(to);
    }
    // The holding instance closed each stream; the Connect requests were answered by whichever instance the balancer chose.
    // Log lines come through the instances' stdout, a little after the answers the carrier has already read.
    const connects = () => procs.flatMap((p) => p.logs.filter((l) => l.msg === 'exotel connect applet asked for a destination' && l.transfer === true));
    await eventually('6 connect requests logged with a destination', async () => (connects().length === 6 ? true : undefined));
    const where = (sid: string, msg: string) => procs.findIndex((p) => p.logs.some((l) => l.msg === msg && l.callSid === sid));
    const apart = recs.filter((c) => where(sidOf(c), 'exotel connect applet asked for a destination') !== where(sidOf(c), 'provider ready'));
    expect(apart.length).toBeGreaterThan(0);
  });

  it('kill -9 of one instance drops only its calls; their rows are completed once it is back', async () => {
    const calls = await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 3 === 2 ? placeExotel() : placeTwilio())));
    await Promise.all(calls.map(agentAudio));
    const holder = new Map<string, string>();
    await eventually('all 9 listed', async () => {
      for (const c of await active()) holder.set(c.callSid, c.instanceId);
      return calls.every((c) => holder.has(sidOf(c))) ? true : undefined;
    });
    const victim = procs.findIndex((p) => calls.some((c) => holder.get(sidOf(c)) === instanceOf(p)));
    const victimId = instanceOf(procs[victim]!);
    const lost = calls.filter((c) => holder.get(sidOf(c)) === victimId);
    const kept = calls.filter((c) => !lost.includes(c));
    expect(kept.length).toBeGreaterThan(0);
    const closedEarly = new Set<AnyCall>();
    for (const c of kept) void closed(c).then(() => closedEarly.add(c));
    procs[victim]!.child.kill('SIGKILL');
    await procs[victim]!.exited;
    await Promise.all(lost.map(closed));
    // The other instances' calls keep talking: more agent audio arrives after the kill.
    const before = kept.map(mediaCount);
    await eventually('kept calls still receive audio', async () => (kept.every((c, i) => mediaCount(c) > before[i]! + 5) ? true : undefined), 30_000);
    expect(closedEarly.size).toBe(0);
    await start(victim);
    const lostSids = lost.map(sidOf);
    await eventually(
      'lost rows completed',
      async () => {
        const r = await pg.sql.query('select call_sid, status, end_reason, ended_at from calls where call_sid = any($1)', [lostSids]);
        return r.rows.length === lostSids.length && r.rows.every((x: { end_reason: string }) => x.end_reason === 'instance_lost') ? r.rows : undefined;
      },
      60_000,
    );
    await Promise.all(kept.map(hangup));
  });

  it('a rolling restart, one instance at a time, drops no call', async () => {
    // Calls keep arriving during the restart; each talks for a few seconds, then the caller hangs up.
    const calls: AnyCall[] = [];
    const talks: Promise<unknown>[] = [];
    const placing = (async () => {
      for (let i = 0; i < 24; i++) {
        const c = await (i % 2 ? placeExotel() : placeTwilio());
        calls.push(c);
        talks.push(agentAudio(c).then(() => new Promise((r) => setTimeout(r, 3000)).then(() => hangup(c))));
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    for (let i = 0; i < INSTANCES; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      procs[i]!.child.kill('SIGTERM');
      await procs[i]!.exited;
      await start(i);
      await eventually(`s${i + 1} back in the balancer`, async () => ((await lb.states())[`s${i + 1}`] === 'UP' ? true : undefined), 20_000);
    }
    await placing;
    await Promise.all(talks);
    const sids = calls.map(sidOf);
    await eventually('rows of all 24 calls completed', async () => {
      const r = await pg.sql.query('select status from calls where call_sid = any($1)', [sids]);
      return r.rows.length === 24 ? r.rows : undefined;
    });
    const r = await pg.sql.query('select call_sid, status, end_reason from calls where call_sid = any($1)', [sids]);
    expect(r.rows.filter((x: { status: string }) => x.status !== 'completed')).toEqual([]);
  });
});

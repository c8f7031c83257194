/**
 * End to end: a Twilio call through the real server to the ElevenLabs emulator ends with its call
 * row and transcript in PostgreSQL (supabase-js → PostgREST test server), `logs/<call_sid>.json`
 * matching those rows, and the admin API reading the ended call back from the store.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { buildServer } from '../../src/app/build-server';
import type { CallRecord } from '../../src/call/call-record';
import type { CallLogFile } from '../../src/call/persist';
import { silentLogger } from '../../src/observability/logger';
import { defaultScript } from '../emulators/agent-script';
import { fixture, startBridge, type Bridge } from '../helpers/bridge';
import { TEST_ADMIN_KEY } from '../helpers/config';
import { describePg } from '../helpers/pg';
import { PostgrestDb } from '../helpers/postgrest-db';

jest.setTimeout(120_000);
const KEY = 'service-role-test-key';
const SPEED = 4;

describePg('a bridged call is stored in Supabase (PostgREST test server) and in logs/', () => {
  const pg = new PostgrestDb(KEY);
  let b: Bridge | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-e2e-'));
  const env = () => ({ SUPABASE_URL: pg.rest.url, SUPABASE_SERVICE_ROLE_KEY: KEY, DATA_DIR: join(dir, 'data'), LOGS_DIR: join(dir, 'logs') });

  beforeAll(() => pg.start());

  afterAll(async () => {
    await b?.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the call row and every turn once, in the order the admin API shows them', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: SPEED, env: env() });
    expect(b.srv.store.kind).toBe('supabase');
    const call = await b.call();
    const conv = await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    await conv.playout();
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await call.waitFor((r) => r.msg.event === 'media' && b!.el!.seen.agentResponses.length >= 2, 20_000);
    await conv.playout();
    await call.hangup();
    const record = await b.ended(call.callSid, 10_000);
    await b.waitIdle();
    expect(await b.srv.store.flush(30_000)).toBe(0);

    const calls = await pg.sql.query('select * from calls where call_sid = $1', [call.callSid]);
    expect(calls.rows).toHaveLength(1);
    expect(calls.rows[0]).toMatchObject({
      carrier: 'twilio',
      direction: 'inbound',
      provider: 'elevenlabs',
      flag_source: 'env',
      status: 'completed',
      from_number: '+14155550123',
    });
    expect(calls.rows[0].ended_at).not.toBeNull();
    const turns = await pg.sql.query('select seq, role, text, interrupted, at_ms from transcript_turns where call_sid = $1 order by at_ms, seq', [
      call.callSid,
    ]);
    expect(turns.rows.map((t) => [t.role, t.text])).toEqual(record.turns.map((t) => [t.role, t.text]));
    expect(turns.rows[0]).toMatchObject({ role: 'agent', text: defaultScript().greeting.text });
    expect(turns.rows.length).toBeGreaterThanOrEqual(3);
    expect(new Set(turns.rows.map((t) => t.seq)).size).toBe(turns.rows.length);

    // logs/<call_sid>.json: written at call end (asynchronously), same rows as the database.
    const path = join(dir, 'logs', `${call.callSid}.json`);
    let file: CallLogFile | undefined;
    for (let i = 0; i < 100 && !file; i++) {
      try {
        file = JSON.parse(readFileSync(path, 'utf8')) as CallLogFile;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(file!.turns).toEqual(turns.rows.map((t) => ({ call_sid: call.callSid, ...t })));
    expect(file!.call).toMatchObject({ call_sid: call.callSid, status: 'completed', provider: 'elevenlabs' });
    expect(new Date(file!.call.ended_at!).getTime()).toBe(new Date(calls.rows[0].ended_at).getTime());
    expect(file!.record).toMatchObject({ callSid: call.callSid, counters: expect.objectContaining({ framesIn: expect.any(Number) }) });

    // Another instance (nothing in memory) reads the ended call from the store.
    const other = buildServer(b.cfg, silentLogger);
    try {
      const res = await request(other.app).get(`/api/calls/${call.callSid}`).set('authorization', `Bearer ${TEST_ADMIN_KEY}`);
      expect(res.status).toBe(200);
      const body = res.body as CallRecord & { source: string };
      expect(body).toMatchObject({ source: 'store', callSid: call.callSid, status: 'completed', provider: 'elevenlabs' });
      expect(body.turns.map((t) => t.text)).toEqual(record.turns.map((t) => t.text));
      expect((await request(other.app).get('/ready')).status).toBe(200);
      await pg.rest.stop();
      await new Promise((r) => setTimeout(r, 1600)); // the readiness answer is reused for 1.5 s
      const notReady = await request(other.app).get('/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body.problems).toMatchObject({ store: 'supabase store unreachable' });
    } finally {
      await pg.rest.start();
      await other.close();
    }
  });
});

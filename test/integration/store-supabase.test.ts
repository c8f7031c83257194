/**
 * The Supabase store through the real supabase-js → the PostgREST test server → PostgreSQL: the
 * shared Store behaviour, PostgREST's error answers, writes kept through an outage, and
 * `npm run migrate` on a real database twice. Rows are checked with SQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { silentLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createStore } from '../../src/store';
import type { Store } from '../../src/store/types';
import { describePg } from '../helpers/pg';
import { migrateDatabase } from '../helpers/pg-migrate';
import { PostgrestDb } from '../helpers/postgrest-db';
import { callRow, storeContract } from './store-contract';

jest.setTimeout(120_000);

const KEY = 'service-role-test-key';

describePg('SupabaseStore (supabase-js → PostgREST test server → PostgreSQL)', () => {
  const pg = new PostgrestDb(KEY);
  let store: Store;
  const dataDir = mkdtempSync(join(tmpdir(), 'callbridge-supabase-'));
  const metrics = createMetrics();

  beforeAll(async () => {
    await pg.start(async (url) => {
      expect(await migrateDatabase(url)).toMatch(/applied 0001_init/);
      expect(await migrateDatabase(url)).toMatch(/up to date/);
    });
    store = createStore({ SUPABASE_URL: pg.rest.url, SUPABASE_SERVICE_ROLE_KEY: KEY, DATA_DIR: dataDir }, silentLogger, metrics);
    expect(store.kind).toBe('supabase');
  });

  afterAll(async () => {
    await store?.close();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  storeContract(() => store);

  it('answers supabase-js with PostgREST status codes and error bodies', async () => {
    const client = createClient(pg.rest.url, KEY, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } });
    const email = { kind: 'digest', recipient: 'a@example.com', subject: 's', idempotency_key: 'dup-key', status: 'pending' };
    expect((await client.from('emails').insert(email)).status).toBe(201);
    const dup = await client.from('emails').insert(email);
    expect(dup.status).toBe(409);
    expect(dup.error).toMatchObject({
      code: '23505',
      message: expect.stringContaining('emails_idempotency_key_key'),
      details: expect.stringContaining('dup-key'),
      hint: null,
    });
    const missing = await client.from('leads').select('id').eq('name', 'nobody').single();
    expect(missing.status).toBe(406);
    expect(missing.error?.code).toBe('PGRST116');
    const badCol = await client.from('leads').insert({ name: 'x', nope: 1 });
    expect([badCol.status, badCol.error?.code]).toEqual([400, 'PGRST204']);
    const fk = await client.from('transcript_turns').insert({ call_sid: 'CAnone', seq: 1, role: 'user', text: 'x', interrupted: false, at_ms: 0 });
    expect([fk.status, fk.error?.code]).toEqual([409, '23503']);
    const wrongKey = createClient(pg.rest.url, 'wrong', { auth: { persistSession: false }, realtime: { transport: WebSocket as never } });
    expect((await wrongKey.from('calls').select('*').retry(false)).status).toBe(401);
  });

  it('keeps journaled writes through an outage and stores each turn once when the server is back', async () => {
    const cs = 'CAoutage' + Date.now();
    await store.saveCall(callRow(cs));
    expect(await store.flush(20_000)).toBe(0);
    const retriesBefore = (await metrics.storeRetriesTotal.get()).values[0]?.value ?? 0;
    await pg.rest.stop();
    // Writes resolve once journaled, while the database is unreachable.
    for (let seq = 1; seq <= 10; seq++)
      await store.saveTurns([{ call_sid: cs, seq, role: seq % 2 ? 'agent' : 'user', text: `turn ${seq}`, interrupted: false, at_ms: seq * 1000 }]);
    await new Promise((r) => setTimeout(r, 1600)); // healthy() reuses its answer for 1.5 s
    expect(await store.healthy()).toBe(false);
    expect(await store.flush(1500)).toBeGreaterThan(0);
    await pg.rest.start();
    expect(await store.flush(30_000)).toBe(0);
    const rows = await pg.sql.query('select seq, count(*)::int as n from transcript_turns where call_sid = $1 group by seq order by seq', [cs]);
    expect(rows.rows).toEqual(Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, n: 1 })));
    expect((await metrics.storeRetriesTotal.get()).values[0]!.value).toBeGreaterThan(retriesBefore);
  });

  it('gives a booking a clear error when the database stays unreachable', async () => {
    await pg.rest.stop();
    try {
      await expect(store.saveLead({ call_sid: null, name: 'Ada', phone: null, email: null, company: null, need: null })).rejects.toMatchObject({
        code: 'CB_STORE_UNAVAILABLE',
        category: 'connectivity',
      });
    } finally {
      await pg.rest.start();
    }
  });
});

/**
 * The journal through the Store API and its files: refused input never reaches it, a row the
 * database refuses for good is kept in journal-rejected.jsonl (never dropped) without blocking the
 * writes behind it, and the journal is emptied once drained.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/observability/logger';
import { createStore } from '../../src/store';
import type { Store } from '../../src/store/types';
import { callRow } from './store-contract';

jest.setTimeout(120_000);

const dataDir = mkdtempSync(join(tmpdir(), 'callbridge-journal-'));
let store: Store;

beforeAll(async () => {
  store = createStore({ DATA_DIR: dataDir }, silentLogger);
  await store.healthy();
});

afterAll(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const journalBytes = () => readdirSync(join(dataDir, 'journal')).reduce((n, f) => n + statSync(join(dataDir, 'journal', f)).size, 0);

it('refuses a NUL character in a turn with the field named, before journaling', async () => {
  await expect(store.saveTurns([{ call_sid: 'CAnul', seq: 1, role: 'user', text: 'a\u0000b', interrupted: false, at_ms: 0 }])).rejects.toThrow(
    /0\.text: contains a NUL character/,
  );
  expect(journalBytes()).toBe(0);
});

it('keeps a row the database refuses in journal-rejected.jsonl and goes on with the next writes', async () => {
  // jsonb cannot hold U+0000 (SQLSTATE 22P05): a permanent refusal, not worth retrying.
  await store.saveCall(callRow('CArefused', { metrics: { note: 'x\u0000y' } }));
  await store.saveCall(callRow('CAfine'));
  expect(await store.flush(30_000)).toBe(0);
  const rejected = readFileSync(join(dataDir, 'journal-rejected.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(rejected).toEqual([expect.objectContaining({ op: 'call', sqlState: '22P05', data: expect.objectContaining({ call_sid: 'CArefused' }) })]);
  expect(await store.getCall('CAfine')).toBeDefined();
  expect(await store.getCall('CArefused')).toBeUndefined();
});

it('empties the journal once every entry is acknowledged', async () => {
  for (let seq = 1; seq <= 50; seq++) await store.saveTurns([{ call_sid: 'CAfine', seq, role: 'user', text: `t${seq}`, interrupted: false, at_ms: seq }]);
  expect(await store.flush(30_000)).toBe(0);
  expect(journalBytes()).toBe(0);
  expect((await store.getCall('CAfine'))!.turns).toHaveLength(50);
});

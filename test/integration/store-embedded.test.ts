/**
 * The embedded store (PGlite under DATA_DIR): the shared Store behaviour, the journal replay after a
 * crash, and migrations applied by `npm run migrate` twice.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../../src/observability/logger';
import { createStore } from '../../src/store';
import type { Store } from '../../src/store/types';
import { callRow, storeContract } from './store-contract';

jest.setTimeout(120_000);

const dataDir = mkdtempSync(join(tmpdir(), 'callbridge-store-'));
let store: Store;

beforeAll(async () => {
  store = createStore({ DATA_DIR: dataDir }, silentLogger);
  expect(store.kind).toBe('embedded');
  await store.healthy(); // opens PGlite (seconds on a new directory)
});

afterAll(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('EmbeddedStore', () => {
  storeContract(() => store);

  it('replays journal entries left by a process that died, exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbridge-replay-'));
    try {
      mkdirSync(join(dir, 'journal'));
      const turns = [1, 2, 3].map((seq) => ({ call_sid: 'CAreplay', seq, role: 'user', text: `t${seq}`, interrupted: false, at_ms: seq * 100 }));
      const lines = [
        { n: 1, op: 'call', data: callRow('CAreplay') },
        { n: 2, op: 'turns', data: turns.slice(0, 2) },
        { n: 3, op: 'turns', data: turns.slice(1) }, // seq 2 again: a retried write
      ]
        .map((l) => JSON.stringify(l))
        .join('\n');
      // pid 2^22+1 is above Linux's pid_max default: no such process. The torn last line is ignored.
      writeFileSync(join(dir, 'journal', `1-4194305-dead.jsonl`), lines + '\n{"n":4,"op":"tur');
      const s = createStore({ DATA_DIR: dir }, silentLogger);
      try {
        expect(await s.flush(60_000)).toBe(0);
        expect((await s.getCall('CAreplay'))?.turns.map((t) => t.text)).toEqual(['t1', 't2', 't3']);
      } finally {
        await s.close();
      }
      expect(readdirSync(join(dir, 'journal'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run migrate applies the migrations to DATA_DIR once and is a no-op the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbridge-migrate-'));
    const run = () =>
      promisify(execFile)('npx', ['tsx', 'scripts/migrate.ts'], { env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '' }, cwd: join(__dirname, '../..') });
    try {
      expect((await run()).stdout).toMatch(/applied 0001_init\n.*1 applied/);
      expect((await run()).stdout).toMatch(/up to date/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

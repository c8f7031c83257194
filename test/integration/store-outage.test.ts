/**
 * Outage: the PostgREST test server goes away mid-call for 30 s and the server process is killed
 * (SIGKILL) once in the middle of it. After a restart on the same DATA_DIR, every turn the call
 * produced is in PostgreSQL exactly once: journaled writes survive the outage and the kill.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TranscriptTurn } from '../../src/call/transcript';
import { describePg } from '../helpers/pg';
import { REPO_ROOT } from '../helpers/pg-migrate';
import { PostgrestDb } from '../helpers/postgrest-db';

const OUTAGE_MS = 30_000;
const KEY = 'service-role-test-key';
jest.setTimeout(240_000);

interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the first output line starting with `prefix` (already seen or to come). */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

function startChild(mode: 'call' | 'serve', env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'store-outage-child.ts'), mode], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const line = (prefix: string, timeoutMs = 120_000) =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child ${mode}: no "${prefix}" within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
      const check = () => {
        const found = lines.find((l) => l.startsWith(prefix));
        if (found) {
          clearTimeout(t);
          resolve(found);
        } else waiters.push(check);
      };
      check();
    });
  return { proc, lines, line, exited };
}

describePg('store outage and crash', () => {
  const pg = new PostgrestDb(KEY);
  let child: Child | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-outage-'));

  beforeAll(() => pg.start());

  afterAll(async () => {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`stores every turn exactly once after a ${OUTAGE_MS / 1000} s PostgREST outage and a SIGKILL mid-call`, async () => {
    const env = { SUPABASE_URL: pg.rest.url, SUPABASE_SERVICE_ROLE_KEY: KEY, DATA_DIR: join(dir, 'data'), LOGS_DIR: join(dir, 'logs') };
    child = startChild('call', env);
    const callSid = (await child.line('GREETED')).split(' ')[1]!;

    await pg.rest.stop();
    const outageStart = Date.now();
    child.proc.stdin.write('talk\n');
    await child.line('QUIET', 90_000);
    const turnLines = child.lines.filter((l) => l.startsWith('TURNS '));
    const spoken = JSON.parse(turnLines[turnLines.length - 1]!.slice(6)) as TranscriptTurn[];
    expect(spoken.length).toBeGreaterThanOrEqual(5); // greeting, 2 × (caller, agent)
    child.proc.kill('SIGKILL');
    await child.exited;
    const killedAfterMs = Date.now() - outageStart;

    // Restart on the same DATA_DIR while the database is still unreachable.
    child = startChild('serve', env);
    await child.line('UP');
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    await pg.rest.start();
    const outageMs = Date.now() - outageStart;

    const deadline = Date.now() + 60_000;
    let rows: { seq: number; role: string; text: string; interrupted: boolean }[] = [];
    while (Date.now() < deadline) {
      rows = (await pg.sql.query('select seq, role, text, interrupted from transcript_turns where call_sid = $1 order by at_ms, seq', [callSid])).rows;
      if (rows.length >= spoken.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Exactly once: one row per turn (the unique (call_sid, seq) key makes a replayed write an update).
    expect(rows.map((r) => [r.role, r.text, r.interrupted])).toEqual(spoken.map((t) => [t.role, t.text, t.interrupted]));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    const call = await pg.sql.query('select status, provider from calls where call_sid = $1', [callSid]);
    expect(call.rows).toEqual([{ status: 'in-progress', provider: 'elevenlabs' }]);
    process.stderr.write(`store outage: ${rows.length} turns stored once, 0 duplicates; outage ${outageMs} ms, killed ${killedAfterMs} ms into it\n`);

    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});

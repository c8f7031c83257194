/**
 * The real server as a child process (`node --import tsx src/index.ts`, the deploy start command), for tests
 * that need signals, exit codes or several instances. Reads its JSON log lines from stdout; the
 * listening port comes from the `callbridge listening` line (PORT=0 by default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_ACCOUNT_SID, TEST_ADMIN_KEY, TEST_AUTH_TOKEN, TEST_CALL_TOKEN_SECRET } from './config';

const ROOT = resolve(__dirname, '../..');

/** One pino line as an object (`msg`, `level`, fields). */
export type LogLine = Record<string, unknown> & { msg: string };

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Every JSON log line so far, in order. */
  logs: LogLine[];
  /** Text the process wrote to stderr. */
  stderr(): string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line (past or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGKILL the process group: a crash, or test clean-up. */
  kill(): void;
}

/** The environment a test server needs besides the emulators' URLs. */
export function baseServerEnv(publicUrl: string): Record<string, string> {
  return {
    PORT: '0',
    PUBLIC_URL: publicUrl,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    CALL_TOKEN_SECRET: TEST_CALL_TOKEN_SECRET,
    // One process per instance unless a test asks for workers (the default is one per core).
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'info',
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: '+15550000000',
    ELEVENLABS_API_KEY: 'xi-test-key',
    ELEVENLABS_AGENT_ID: 'agent_test',
    OPENAI_API_KEY: 'sk-test',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'callbridge-data-')),
  };
}

/**
 * Start the server with `env` (on top of PATH/HOME only, so a developer's variables and
 * `.env` values never leak in: `.env` is only read when present in the repository root).
 * @throws when the server does not log `callbridge listening` within `timeoutMs`.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  // `node --import tsx` (the railway.json / Dockerfile start command): one process, so SIGTERM reaches
  // the drain handler itself. The tsx CLI (`npm start`) relays signals but SIGKILLs its child when the
  // child does not acknowledge within 30 ms, which a busy 2-core machine can miss.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so `kill()` also reaches anything the server started.
    detached: true,
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let err = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of [...waiters])
        if (w.pred(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const waitForLog = (pred: (l: LogLine) => boolean, ms = 30_000) => {
    const hit = logs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise<LogLine>((resolveLog, reject) => {
      const w = { pred, resolve: (l: LogLine) => (clearTimeout(t), resolveLog(l)) };
      const t = setTimeout(() => (waiters.delete(w), reject(new Error(`no log line matched within ${ms} ms; stderr: ${err.slice(-500)}`))), ms);
      waiters.add(w);
    });
  };
  const listening = await Promise.race([
    waitForLog((l) => l.msg === 'callbridge listening', timeoutMs),
    exited.then(({ code }) => Promise.reject(new Error(`server exited with ${code} before listening: ${err.slice(-800)}`))),
  ]);
  return {
    child,
    logs,
    exited,
    waitForLog,
    base: `http://127.0.0.1:${listening.port}`,
    stderr: () => err,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * A real unleash-server 7.5.1 for the tests, in a child process (the package is ESM-only; jest runs
 * CJS), against the local PostgreSQL (127.0.0.1:5432, user postgres, trust auth; PGHOST/PGPORT/
 * PGUSER/PGPASSWORD override) in a database created with a random name and dropped afterwards.
 *
 * Suites using it are declared with `describePg` (./pg.ts): skipped with a one-line reason without
 * PostgreSQL, failing under CI=true.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { UnleashAdmin } from '../../src/flags/unleash-admin';

const PG = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  password: process.env.PGPASSWORD ?? '',
};
const CHILD = join(__dirname, 'unleash-server-child.mjs');
/** The environment the client token reads and the tests flip. */
export const UNLEASH_ENV = 'development';

export interface UnleashTestServer {
  /** Client API base, as UNLEASH_URL: `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  readonly clientToken: string;
  readonly adminToken: string;
  /** Admin API client for the toggle in `UNLEASH_ENV`. */
  readonly admin: UnleashAdmin;
  /** Stop the server (the database stays): an Unleash outage. */
  stop(): Promise<void>;
  /** Stop and drop the database. */
  close(): Promise<void>;
}

async function pgAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ ...PG, database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Start unleash-server on a free port in a fresh database; resolves once it listens (migrations done). */
export async function startUnleashServer(timeoutMs = 120_000): Promise<UnleashTestServer> {
  const database = `unleash_test_${randomBytes(6).toString('hex')}`;
  await pgAdmin((c) => c.query(`CREATE DATABASE ${database}`));
  const adminToken = `*:*.admin-${randomBytes(12).toString('hex')}`;
  const clientToken = `default:${UNLEASH_ENV}.client-${randomBytes(12).toString('hex')}`;
  const child: ChildProcess = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      UNLEASH_TEST_DB: database,
      UNLEASH_TEST_PORT: '0',
      UNLEASH_TEST_ADMIN_TOKEN: adminToken,
      UNLEASH_TEST_CLIENT_TOKEN: clientToken,
      PGHOST: PG.host,
      PGPORT: String(PG.port),
      PGUSER: PG.user,
      PGPASSWORD: PG.password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dropDb = () => pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => undefined);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`unleash-server did not start within ${timeoutMs} ms: ${stderr.slice(-800)}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /UNLEASH_READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      void exited.then(() => (clearTimeout(timer), reject(new Error(`unleash-server exited during start: ${stderr.slice(-800)}`))));
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await dropDb();
    throw err;
  }
  const url = `http://127.0.0.1:${port}/api/`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  return {
    url,
    clientToken,
    adminToken,
    admin: new UnleashAdmin({ url, token: adminToken, environment: UNLEASH_ENV }),
    stop,
    async close() {
      await stop();
      await dropDb();
    },
  };
}

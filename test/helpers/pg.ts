/**
 * Real PostgreSQL for tests (127.0.0.1:5432, trust auth, database `test`). Each test file gets its
 * own fresh database with a random name, dropped at the end, so parallel jest workers never meet.
 * Without a server, tests skip with a one-line reason, except under CI=true, where they fail.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeNeeding, type Need } from './needs';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let available: boolean | undefined;

/** True when PostgreSQL answers at PG_ADMIN_URL (checked once, synchronously, in a child process). */
export function pgAvailable(): boolean {
  if (available === undefined) {
    const probe = [
      "const {Client}=require('pg');",
      'const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});',
      'c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))',
    ].join('');
    try {
      execFileSync(process.execPath, ['-e', probe, PG_ADMIN_URL], { stdio: 'ignore', timeout: 10_000 });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** PostgreSQL as a suite's need (./needs.ts). */
export const POSTGRES: Need = { what: 'PostgreSQL', missing: () => (pgAvailable() ? undefined : `PostgreSQL not reachable at ${PG_ADMIN_URL}`) };

/**
 * `describe` when PostgreSQL is reachable; otherwise a skipped block with the reason on one line,
 * or, under CI=true, a failing test (a CI run must not pass without the database).
 */
export function describePg(name: string, fn: () => void): void {
  describeNeeding([POSTGRES], name, fn);
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Create an empty database `cb_<random>` and return its URL; `drop()` removes it (forcing clients off). */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = `cb_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

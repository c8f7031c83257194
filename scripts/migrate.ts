/**
 * `npm run migrate`: applies migrations/ to DATABASE_URL (Supabase Postgres or any PostgreSQL 15+,
 * through `pg`), or, when DATABASE_URL is unset, to the embedded PGlite store under DATA_DIR.
 * Each file runs in its own transaction and is recorded in schema_migrations, so running it again
 * applies only new files. Prints one line per applied version; exit 1 with the error otherwise.
 */
import { Client } from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadDotEnv } from '../src/config';
import { applyMigrations, type SqlConnection } from '../src/store/migrate';

async function withTarget<T>(fn: (db: SqlConnection, where: string) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL?.trim();
  if (url) {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return await fn({ query: (q, p) => client.query(q, p), exec: (q) => client.query(q) }, url.replace(/\/\/[^@/]*@/, '//***@'));
    } finally {
      await client.end();
    }
  }
  const dir = resolve(join(process.env.DATA_DIR?.trim() || './data', 'pglite'));
  mkdirSync(dir, { recursive: true });
  const pg = await PGlite.create({ dataDir: dir });
  try {
    return await fn({ query: (q, p) => pg.query(q, p), exec: (q) => pg.exec(q) }, `embedded ${dir}`);
  } finally {
    await pg.close();
  }
}

async function main(): Promise<void> {
  loadDotEnv();
  const t0 = Date.now();
  await withTarget(async (db, where) => {
    const applied = await applyMigrations(db);
    for (const v of applied) process.stdout.write(`applied ${v}\n`);
    process.stdout.write(`migrate: ${where}: ${applied.length ? `${applied.length} applied` : 'up to date'} in ${Date.now() - t0} ms\n`);
  });
}

main().catch((err: Error) => {
  process.stderr.write(`migrate: ${err.message}\n`);
  process.exit(1);
});

/**
 * Applies migrations/NNNN_name.sql in order to one database, each file in its own transaction, and
 * records the applied versions in `schema_migrations (version, applied_at)`, so running it again
 * applies only new files. Used by `npm run migrate` (pg) and by the embedded store on open (PGlite).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository's migrations folder. */
export const MIGRATIONS_DIR = resolve(__dirname, '../../migrations');

/** What the runner needs of a connection: `pg.Client` and `PGlite` both fit. */
export interface SqlConnection {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Run a script of several statements (simple query protocol). */
  exec(sql: string): Promise<unknown>;
}

export interface Migration {
  version: string;
  file: string;
  sql: string;
}

/** Migration files of `dir`, sorted by name (`0001_init.sql` → version `0001_init`). */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: file.replace(/\.sql$/, ''), file, sql: readFileSync(join(dir, file), 'utf8') }));
}

/**
 * Apply the migrations not yet recorded. A session advisory lock keeps two instances starting at
 * once from applying the same file twice.
 * @returns the versions applied now (empty when the database was up to date).
 * @throws the database error of the failing file (that file's transaction is rolled back).
 */
export async function applyMigrations(db: SqlConnection, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db.exec('create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())');
  await db.query('select pg_advisory_lock(hashtext($1))', ['callbridge_migrations']);
  try {
    const done = new Set(((await db.query('select version from schema_migrations')).rows as { version: string }[]).map((r) => r.version));
    const applied: string[] = [];
    for (const m of listMigrations(dir)) {
      if (done.has(m.version)) continue;
      await db.exec('begin');
      try {
        await db.exec(m.sql);
        await db.query('insert into schema_migrations (version) values ($1)', [m.version]);
        await db.exec('commit');
      } catch (err) {
        await db.exec('rollback');
        throw new Error(`migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await db.query('select pg_advisory_unlock(hashtext($1))', ['callbridge_migrations']);
  }
}

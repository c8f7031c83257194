/** Apply migrations/ to a test database with `npm run migrate`'s own script (DATABASE_URL). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const REPO_ROOT = join(__dirname, '../..');

/** Run `tsx scripts/migrate.ts` against `databaseUrl`; resolves with its stdout. */
export async function migrateDatabase(databaseUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/migrate.ts'], { env: { ...process.env, DATABASE_URL: databaseUrl }, cwd: REPO_ROOT });
  return stdout;
}

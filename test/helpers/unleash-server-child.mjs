/**
 * Child process that runs a real unleash-server 7.5.1 for the tests (the package is ESM-only, so
 * jest in CJS mode cannot import it). Reads its settings from the environment:
 *   UNLEASH_TEST_DB   PostgreSQL database name (created by the parent), on 127.0.0.1:5432, user postgres
 *   UNLEASH_TEST_PORT port to listen on (0 → any free port)
 *   UNLEASH_TEST_ADMIN_TOKEN  admin API token to create at start (`*:*.secret` form)
 *   UNLEASH_TEST_CLIENT_TOKEN backend (client) token for the development environment
 * Prints one line `UNLEASH_READY <port>` on stdout once listening; stops on SIGTERM.
 * Options: unleash-server `dist/lib/types/option.d.ts`; https://docs.getunleash.io/reference/deploy/configuring-unleash
 */
import { start } from 'unleash-server';

const env = process.env;
const unleash = await start({
  db: {
    host: env.PGHOST ?? '127.0.0.1',
    port: Number(env.PGPORT ?? 5432),
    user: env.PGUSER ?? 'postgres',
    password: env.PGPASSWORD ?? '',
    database: env.UNLEASH_TEST_DB,
    ssl: false,
  },
  server: { host: '127.0.0.1', port: Number(env.UNLEASH_TEST_PORT ?? 0) },
  authentication: {
    type: 'open-source',
    createAdminUser: false,
    initApiTokens: [
      { type: 'admin', secret: env.UNLEASH_TEST_ADMIN_TOKEN, environment: '*', projects: ['*'], tokenName: 'test-admin' },
      { type: 'backend', secret: env.UNLEASH_TEST_CLIENT_TOKEN, environment: 'development', projects: ['*'], tokenName: 'test-client' },
    ],
  },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: 'error',
});
const address = unleash.server.address();
process.stdout.write(`UNLEASH_READY ${typeof address === 'object' && address ? address.port : env.UNLEASH_TEST_PORT}\n`);
// A test runner killed without its afterAll leaves no server behind: exit once orphaned.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(0), 1000).unref();
process.once('SIGTERM', async () => {
  await unleash.stop();
  process.exit(0);
});

/**
 * `npm run tunnel` through its CLI: without NGROK_AUTHTOKEN it stops before opening anything, with one
 * clear line and exit code 2; a config error names the variable and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ADMIN_KEY, TEST_AUTH_TOKEN, TEST_CALL_TOKEN_SECRET } from '../helpers/config';

const ROOT = join(__dirname, '../..');
const run = (env: Record<string, string>) =>
  spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/tunnel.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
const valid = {
  ADMIN_API_KEY: TEST_ADMIN_KEY,
  CALL_TOKEN_SECRET: TEST_CALL_TOKEN_SECRET,
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  ELEVENLABS_API_KEY: 'xi-test-key',
  ELEVENLABS_AGENT_ID: 'agent_test',
};

describe('npm run tunnel (CLI)', () => {
  it('fails with a clear message and exit 2 without NGROK_AUTHTOKEN', () => {
    const r = run(valid);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^npm run tunnel: NGROK_AUTHTOKEN is not set\. Get a token at https:\/\/dashboard\.ngrok\.com/m);
    expect(r.stdout).toBe('');
  });

  it('names a bad variable and exits 1 before opening a tunnel', () => {
    const r = run({ ...valid, ADMIN_API_KEY: 'short', NGROK_AUTHTOKEN: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm run tunnel: config error: ADMIN_API_KEY: expected at least 16 characters/);
  });
});

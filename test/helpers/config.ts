/** Test configuration: every contract variable a test needs, pointing at loopback. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { processAlive } from '../../src/store/journal';

export const TEST_AUTH_TOKEN = '0123456789abcdef0123456789abcdef';
export const TEST_ACCOUNT_SID = 'AC' + 'a'.repeat(32);
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';
export const TEST_CALL_TOKEN_SECRET = 'test-call-token-secret-0123456789';

/**
 * The embedded store's directory for this test file: never ./data, which parallel jest workers
 * would share (PGlite is one process per directory), and never another file's, whose calls would
 * show up here. Files of one worker run one after another, so directories of earlier files, and of
 * workers that have exited, are removed here (each holds a ~40 MB database).
 */
function testDataDir(): string {
  for (const d of readdirSync(tmpdir())) {
    const pid = /^callbridge-test-(\d+)$/.exec(d)?.[1];
    if (pid && Number(pid) !== process.pid && !processAlive(Number(pid))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  const root = join(tmpdir(), `callbridge-test-${process.pid}`);
  mkdirSync(root, { recursive: true });
  for (const d of readdirSync(root)) rmSync(join(root, d), { recursive: true, force: true });
  return mkdtempSync(join(root, 'file-'));
}

export const TEST_DATA_DIR = testDataDir();

export function testConfig(over: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    PUBLIC_URL: 'https://calls.example.test',
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    CALL_TOKEN_SECRET: TEST_CALL_TOKEN_SECRET,
    LOG_LEVEL: 'silent',
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: '+15550000000',
    ELEVENLABS_API_KEY: 'xi-test-key',
    ELEVENLABS_AGENT_ID: 'agent_test',
    OPENAI_API_KEY: 'sk-test',
    DATA_DIR: TEST_DATA_DIR,
    LOGS_DIR: join(TEST_DATA_DIR, 'logs'),
    ...over,
  });
}

/** Test configuration: every contract variable a test needs, pointing at loopback. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';

export const TEST_AUTH_TOKEN = '0123456789abcdef0123456789abcdef';
export const TEST_ACCOUNT_SID = 'AC' + 'a'.repeat(32);
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * The embedded store's directory for this jest worker process: never ./data, which parallel workers
 * would share (PGlite is one process per directory). Test files of one worker run one after the
 * other and reuse it (a reopen is fast; a fresh PGlite directory takes seconds).
 */
export const TEST_DATA_DIR = join(tmpdir(), `callbridge-test-${process.pid}`);

export function testConfig(over: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    PUBLIC_URL: 'https://calls.example.test',
    ADMIN_API_KEY: TEST_ADMIN_KEY,
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

/**
 * `npm run flag` (scripts/flag.ts) run as a process against a real unleash-server 7.5.1: status,
 * rollout, on, off, seen by the callbridge Unleash client; and the Railway explanation without Unleash.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createFlagSource, type FlagSource } from '../../src/flags';
import { silentLogger } from '../../src/observability/logger';
import { until } from '../helpers/bridge';
import { testConfig } from '../helpers/config';
import { describePg } from '../helpers/pg';
import { startUnleashServer, UNLEASH_ENV, type UnleashTestServer } from '../helpers/unleash';

const ROOT = join(__dirname, '..', '..');

/** Run the CLI; resolves with its exit code and output. */
async function flag(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const base: Record<string, string | undefined> = { ...process.env, UNLEASH_URL: undefined, UNLEASH_ADMIN_TOKEN: undefined, ...env };
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'flag.ts'), ...args], {
      cwd: ROOT,
      env: base as NodeJS.ProcessEnv,
      timeout: 60_000,
    });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

describe('npm run flag without Unleash', () => {
  it('explains how to set the env var on Railway and changes nothing (exit 2)', async () => {
    const off = await flag(['off'], {});
    expect(off.code).toBe(2);
    expect(off.out).toContain('railway variables --set USE_ELEVENLABS_CONVERSATIONAL_AI=false');
    const bad = await flag(['rollout', 'half'], {});
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('usage: npm run flag');
  }, 90_000);
});

describePg('npm run flag against a real Unleash server', () => {
  let unleash: UnleashTestServer;
  let client: FlagSource;
  let env: Record<string, string>;

  beforeAll(async () => {
    unleash = await startUnleashServer();
    env = { UNLEASH_URL: unleash.url, UNLEASH_ADMIN_TOKEN: unleash.adminToken, UNLEASH_ENVIRONMENT: UNLEASH_ENV };
    client = createFlagSource(
      testConfig({ UNLEASH_URL: unleash.url, UNLEASH_API_TOKEN: unleash.clientToken, UNLEASH_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'cb-flag-backup-')) }),
      silentLogger,
    )!;
  }, 180_000);
  afterAll(async () => {
    await client?.close();
    await unleash?.close();
  }, 60_000);

  it('status, rollout, on and off drive the toggle that callbridge instances read', async () => {
    const before = await flag(['status'], env);
    expect(before).toMatchObject({ code: 0 });
    expect(before.out).toContain('does not exist yet');

    const r = await flag(['rollout', '25'], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`USE_ELEVENLABS_CONVERSATIONAL_AI in ${UNLEASH_ENV}: on: 25 % of new calls to ElevenLabs (sticky on callSid)`);
    await until('rollout 25 at the client', () => client.status().toggle?.rollout === 25 && client.status().toggle?.enabled === true);

    expect((await flag(['on'], env)).out).toContain('on: 100 % of new calls to ElevenLabs');
    await until('rollout 100 at the client', () => client.status().toggle?.rollout === 100);
    expect(client.evaluate({ callSid: 'CA' + '1'.repeat(32), carrier: 'twilio', direction: 'inbound' })).toEqual({ elevenlabs: true, source: 'unleash' });

    expect((await flag(['off'], env)).out).toContain('off: every new call takes OpenAI Realtime');
    await until('toggle off at the client', () => client.status().toggle?.enabled === false);
    expect(client.evaluate({ callSid: 'CA' + '1'.repeat(32), carrier: 'twilio', direction: 'inbound' })).toEqual({ elevenlabs: false, source: 'unleash' });

    const status = await flag(['status', '--env', UNLEASH_ENV], env);
    expect(status.out).toMatch(/flexibleRollout .*"rollout":"100".*"stickiness":"callSid"/);

    const wrongToken = await flag(['on'], { ...env, UNLEASH_ADMIN_TOKEN: '*:*.wrong' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.out).toMatch(/flag: .*401/);
  }, 120_000);
});

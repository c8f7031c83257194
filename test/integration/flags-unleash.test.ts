/**
 * Per-call provider flag against a real unleash-server 7.5.1 (child process, own PostgreSQL
 * database): rollout 0 / 100 / 50 sticky on callSid, a flip during a live call, an Unleash outage
 * (last known state), a restart while Unleash is down (backup file), and the env kill switch.
 * Calls come in as signed Twilio webhooks; a signed-URL request at the ElevenLabs emulator is
 * "this call went to ElevenLabs" (the OpenAI path makes no request before the media socket opens).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../../src/call/call-record';
import { createFlagSource, type FlagSource } from '../../src/flags';
import { silentLogger } from '../../src/observability/logger';
import { newSid } from '../emulators/twilio/ids';
import { postSignedForm, voiceParams } from '../emulators/twilio/signed-post';
import { fixture, PUBLIC_URL, startBridge, until, type Bridge } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';
import { describePg } from '../helpers/pg';
import { startUnleashServer, type UnleashTestServer } from '../helpers/unleash';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describePg('provider flag from a real Unleash server', () => {
  let unleash: UnleashTestServer;
  let b: Bridge;
  let flags: FlagSource;
  const backupDir = mkdtempSync(join(tmpdir(), 'callbridge-unleash-'));
  const extra: Bridge[] = [];

  /** Env of a bridge on this Unleash server (1 s polls, the production default). */
  const unleashEnv = (over: Record<string, string> = {}) => ({
    UNLEASH_URL: unleash.url,
    UNLEASH_API_TOKEN: unleash.clientToken,
    UNLEASH_BACKUP_DIR: backupDir,
    MAX_CONCURRENT_CALLS: '1000',
    ...over,
  });

  /** A bridge with both provider emulators whose FlagSource the test can read. */
  async function bridgeOn(over: Record<string, string> = {}): Promise<{ bridge: Bridge; flags: FlagSource }> {
    const e = unleashEnv(over);
    const f = createFlagSource(testConfig(e), silentLogger)!;
    const bridge = await startBridge({ provider: 'elevenlabs', both: true, env: e, server: { flags: f } });
    return { bridge, flags: f };
  }

  /** Only the webhook, as Twilio posts it; resolves with the call SID once answered 200. */
  async function webhook(bridge: Bridge, callSid = newSid('CA')): Promise<string> {
    const params = voiceParams({
      callSid,
      accountSid: TEST_ACCOUNT_SID,
      from: '+14155550123',
      to: '+15550000000',
      direction: 'inbound',
      callStatus: 'ringing',
    });
    const res = await postSignedForm({ target: `${bridge.base}/inbound`, signedUrl: `${PUBLIC_URL}/inbound`, authToken: TEST_AUTH_TOKEN, params });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Stream');
    return callSid;
  }

  /** Signed-URL requests the ElevenLabs emulator saw, once no more arrive for 300 ms. */
  async function elRequests(bridge: Bridge): Promise<number> {
    let last = -1;
    for (;;) {
      const n = bridge.el!.seen.requests.length;
      if (n === last) return n;
      last = n;
      await sleep(300);
    }
  }

  /** A full call: webhook + media socket; resolves with its live record (provider, flagSource). */
  async function fullCall(bridge: Bridge, callSid?: string) {
    const call = await bridge.carrier.placeCall({
      serverBase: bridge.base,
      publicUrl: PUBLIC_URL,
      path: '/inbound',
      from: '+14155550123',
      to: '+15550000000',
      callSid,
    });
    const rec = await until(`record of ${call.callSid}`, () => bridge.srv.registry.find(call.callSid), 30_000);
    return { call, rec };
  }

  async function endCall(bridge: Bridge, c: { call: { callSid: string; hangup(): Promise<unknown> } }): Promise<CallRecord> {
    await c.call.hangup();
    return bridge.ended(c.call.callSid, 10_000);
  }

  beforeAll(async () => {
    unleash = await startUnleashServer();
    await unleash.admin.setRollout(0);
    ({ bridge: b, flags } = await bridgeOn());
    await until('first Unleash fetch', () => flags.status().synchronized, 30_000);
  }, 180_000);

  afterAll(async () => {
    for (const x of extra) await x.close();
    await b?.close();
    await unleash?.close();
  }, 60_000);

  it('0 % → no call goes to ElevenLabs', async () => {
    expect(flags.status().toggle).toEqual({ enabled: true, rollout: 0 });
    for (let i = 0; i < 40; i++) await webhook(b);
    expect(await elRequests(b)).toBe(0);
    const c = await fullCall(b);
    expect(c.rec).toMatchObject({ provider: 'openai', flagSource: 'unleash' });
    await endCall(b, c);
  }, 60_000);

  it('100 % → every call goes to ElevenLabs; flip-to-effect measured', async () => {
    const before = await elRequests(b);
    const t0 = Date.now();
    await unleash.admin.setRollout(100);
    const tFlipped = Date.now();
    // Post calls every ~50 ms until one takes the new path (a signed-URL request at ElevenLabs).
    let effectAt = 0;
    while (!effectAt) {
      const at = Date.now();
      await webhook(b);
      await sleep(40);
      if (b.el!.seen.requests.length > before) effectAt = at;
      if (Date.now() - t0 > 20_000) throw new Error('flip never took effect');
    }
    console.log(`flip-to-effect: ${effectAt - t0} ms from the admin API call (${tFlipped - t0} ms of it in the admin API)`);
    const base = await elRequests(b);
    for (let i = 0; i < 40; i++) await webhook(b);
    expect((await elRequests(b)) - base).toBe(40);
    const c = await fullCall(b);
    expect(c.rec).toMatchObject({ provider: 'elevenlabs', flagSource: 'unleash' });
    await endCall(b, c);
  }, 60_000);

  it('50 % sticky on callSid → about half of 200 calls each way, the same callSid always the same provider', async () => {
    await unleash.admin.setRollout(50);
    await until('rollout 50 seen', () => flags.status().toggle?.rollout === 50, 30_000);
    const base = await elRequests(b);
    for (let i = 0; i < 200; i++) await webhook(b);
    const toEl = (await elRequests(b)) - base;
    console.log(`rollout 50 %: ${toEl} of 200 calls to ElevenLabs`);
    expect(toEl).toBeGreaterThan(70);
    expect(toEl).toBeLessThan(130);

    const seen = new Map<string, string[]>();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 8; i++) {
        const sid = 'CA' + String(i).repeat(32).slice(0, 32);
        const c = await fullCall(b, sid);
        seen.set(sid, [...(seen.get(sid) ?? []), c.rec.provider]);
        expect(c.rec.flagSource).toBe('unleash');
        await endCall(b, c);
      }
    }
    for (const [sid, providers] of seen) expect({ sid, providers }).toEqual({ sid, providers: [providers[0], providers[0]] });
  }, 120_000);

  it('a flip during a live call does not move that call', async () => {
    await unleash.admin.setRollout(100);
    await until('rollout 100 seen', () => flags.status().toggle?.rollout === 100, 30_000);
    const live = await fullCall(b);
    expect(live.rec.provider).toBe('elevenlabs');
    await live.call.waitFor('media', 10_000);

    await unleash.admin.setEnabled(false);
    await until('toggle off seen', () => flags.status().toggle?.enabled === false, 30_000);
    const next = await fullCall(b);
    expect(next.rec).toMatchObject({ provider: 'openai', flagSource: 'unleash' });
    await endCall(b, next);

    // The first call is still on ElevenLabs and still answering.
    expect(live.call.isClosed).toBe(false);
    expect(b.srv.registry.find(live.call.callSid)).toMatchObject({ provider: 'elevenlabs', status: 'in-progress' });
    const replies = b.el!.seen.agentResponses.length;
    live.call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('an ElevenLabs reply on the live call', () => b.el!.seen.agentResponses.length > replies, 30_000);
    const rec = await endCall(b, live);
    expect(rec).toMatchObject({ provider: 'elevenlabs', status: 'completed' });
  }, 60_000);

  it('Unleash stopped → the last known state keeps routing; a restart reads the backup file; the env var is the kill switch', async () => {
    await unleash.admin.setRollout(100);
    await until('rollout 100 and on', () => flags.status().toggle?.enabled === true, 30_000);
    await unleash.stop();
    // Polls now fail; decisions keep the last known state and say so once it is stale.
    const base = await elRequests(b);
    for (let i = 0; i < 20; i++) await webhook(b);
    expect((await elRequests(b)) - base).toBe(20);
    await until('state marked stale', () => (flags.status().sinceLastFetchMs ?? 0) > 7000, 30_000);
    const c = await fullCall(b);
    expect(c.rec).toMatchObject({ provider: 'elevenlabs', flagSource: 'unleash-stale' });
    await endCall(b, c);

    // A new instance while Unleash is down: the backup file written by the first one decides.
    const restarted = await bridgeOn();
    extra.push(restarted.bridge);
    await until('backup read', () => restarted.flags.status().ready, 30_000);
    const r = await fullCall(restarted.bridge);
    expect(r.rec).toMatchObject({ provider: 'elevenlabs', flagSource: 'unleash-backup' });
    await endCall(restarted.bridge, r);

    // No backup and no server: the env var decides.
    const fresh = await bridgeOn({ UNLEASH_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'callbridge-unleash-empty-')), USE_ELEVENLABS_CONVERSATIONAL_AI: 'true' });
    extra.push(fresh.bridge);
    const f = await fullCall(fresh.bridge);
    expect(f.rec).toMatchObject({ provider: 'elevenlabs', flagSource: 'env' });
    await endCall(fresh.bridge, f);

    // Kill switch: USE_ELEVENLABS_CONVERSATIONAL_AI=false beats the toggle (here at 100 % from the backup).
    const killed = await bridgeOn({ USE_ELEVENLABS_CONVERSATIONAL_AI: 'false' });
    extra.push(killed.bridge);
    await until('backup read', () => killed.flags.status().ready, 30_000);
    const k = await fullCall(killed.bridge);
    expect(k.rec).toMatchObject({ provider: 'openai', flagSource: 'kill-switch' });
    await endCall(killed.bridge, k);
  }, 120_000);
});

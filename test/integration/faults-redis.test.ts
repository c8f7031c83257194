/**
 * Redis refusing mid-call: the server reaches the real Redis through a loopback TCP proxy that the
 * test cuts (every connection reset, new ones refused) for 30 s, then restores. The call keeps
 * talking through the outage (the agent answers the caller twice while Redis is gone), a new call
 * placed during the outage is admitted and talks (its media token's single use falls back to this
 * process's ledger after 500 ms), the live-call directory is rewritten by the next heartbeat after
 * recovery, and the call's key is gone once it ends.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { describeWithRedis, dropPrefix, testKeyPrefix } from '../helpers/redis';
import { carrierTimeline, report, resources, settledLeaks } from './faults-helpers';

jest.setTimeout(150_000);
const OUTAGE_MS = 30_000;

/** A TCP proxy to Redis on 127.0.0.1:6379 that can be cut and restored. */
async function redisProxy(): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (down) return void client.destroy();
    const upstream = createConnection(6379, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of open) s.destroy();
    },
    restore() {
      down = false;
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describeWithRedis()('Redis refusing mid-call', () => {
  const prefix = testKeyPrefix();
  let b: Bridge | undefined;
  let proxy: Awaited<ReturnType<typeof redisProxy>> | undefined;

  afterAll(async () => {
    await b?.close();
    await proxy?.close();
    await dropPrefix(prefix);
  });

  it(`the call keeps talking through a ${OUTAGE_MS / 1000} s outage; the directory has it again after recovery and not after it ends`, async () => {
    proxy = await redisProxy();
    const br = (b = await startBridge({ provider: 'elevenlabs', speed: 4, env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix } }));
    const direct = new Redis('redis://127.0.0.1:6379');
    try {
      await direct.ping();
      await br.srv.store.healthy(); // warm-up: the embedded store's worker starts on first use
      const baseline = resources();
      const call = await br.call();
      const conv = await br.el!.waitForConversation(5000);
      await call.waitFor('media', 5000);
      await conv.playout();
      const key = `${prefix}call:${call.callSid}`;
      await until('the call in Redis', async () => (await direct.exists(key)) === 1);

      proxy.cut();
      const cutAt = Date.now();
      await direct.del(key); // what a lost write looks like: the key must come back from the heartbeat
      const timeline = carrierTimeline(call);
      const replies = br.el!.seen.agentResponses.length;
      call.sendAudio(fixture('caller-booking-8k.wav'));
      await until('an agent reply during the outage', () => br.el!.seen.agentResponses.length > replies, 15_000);
      await until('its audio at the carrier', () => timeline.playouts[0], 15_000);
      expect(call.isClosed).toBe(false);
      // A call arriving while Redis is gone is admitted and talks.
      const second = await br.call();
      await second.waitFor('media', 15_000);
      await second.hangup();
      expect((await br.ended(second.callSid, 15_000)).status).toBe('completed');
      // The first call is still talking half-way through the outage.
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS / 2 - (Date.now() - cutAt))));
      const later = br.el!.seen.agentResponses.length;
      call.sendAudio(fixture('caller-booking-8k.wav'));
      await until('another agent reply during the outage', () => br.el!.seen.agentResponses.length > later, 15_000);
      expect(call.isClosed).toBe(false);
      const cutFor = OUTAGE_MS - (Date.now() - cutAt);
      if (cutFor > 0) await new Promise((r) => setTimeout(r, cutFor));
      proxy.restore();
      const restoredAt = Date.now();

      await until('the heartbeat rewrote the call', async () => (await direct.exists(key)) === 1, 20_000);
      const back = Date.now() - restoredAt;
      await conv.playout();
      await call.hangup();
      expect((await br.ended(call.callSid)).status).toBe('completed');
      await br.waitIdle(10_000);
      await until('the key deleted at the end', async () => (await direct.exists(key)) === 0, 10_000);
      report(
        `Redis cut for ${OUTAGE_MS / 1000} s mid-call`,
        `call kept talking (agent answered twice during the outage), a call placed during it talked, directory rewritten ${back} ms after recovery`,
        Math.max(0, ...timeline.playouts.map((p) => p.idleMs)),
      );
      expect(await settledLeaks(br, baseline)).toEqual([]);
    } finally {
      direct.disconnect();
    }
  });
});

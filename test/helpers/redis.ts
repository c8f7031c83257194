/**
 * The real Redis on 127.0.0.1:6379 for scale-out tests. `redisOrSkip()` tells whether it answers;
 * absent, tests skip with a one-line reason, except under CI=true where absence fails the run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { Need } from './needs';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * True when Redis answers PING within 2 s. Synchronous (a short child process), because jest
 * registers `describe` blocks synchronously.
 */
export function redisAnswers(url = TEST_REDIS_URL): boolean {
  const script = [
    "const R=require('ioredis');",
    `const r=new R(${JSON.stringify(url)},{lazyConnect:true,connectTimeout:2000,maxRetriesPerRequest:0,retryStrategy:()=>null});`,
    "r.on('error',()=>{});",
    "r.connect().then(()=>r.ping()).then((p)=>{process.exit(p==='PONG'?0:1)},()=>process.exit(1))",
  ].join('');
  return spawnSync(process.execPath, ['-e', script], { cwd: __dirname, timeout: 5000 }).status === 0;
}

/** A fresh key prefix per test run, so runs never see each other's keys. */
export const testKeyPrefix = (): string => `cbtest:${randomBytes(4).toString('hex')}:`;

/** Delete every key under `prefix`. */
export async function dropPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const r = new Redis(url);
  const keys = await r.keys(`${prefix}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
}

/** Redis as a suite's need (./needs.ts). */
export const REDIS: Need = { what: 'Redis', missing: () => (redisAnswers() ? undefined : `Redis not reachable at ${TEST_REDIS_URL}`) };

/**
 * `describe` when Redis answers, else `describe.skip` with the reason printed once.
 * @throws under CI=true when Redis is absent (scale-out must be tested there).
 */
export function describeWithRedis(available = redisAnswers()): jest.Describe {
  if (!available && process.env.CI === 'true') throw new Error(`Redis is required under CI=true but ${TEST_REDIS_URL} does not answer`);
  if (!available) process.stdout.write(`skipping Redis tests: ${TEST_REDIS_URL} does not answer\n`);
  return available ? describe : describe.skip;
}

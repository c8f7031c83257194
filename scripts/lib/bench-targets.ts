/**
 * The processes of `npm run bench`: the bench provider and the two bridges measured against it,
 * callbridge (`src/index.ts`, WEB_CONCURRENCY worker processes) and the floor (bench/forwarder.ts),
 * each a `node --import tsx` child of this process with its stdout ignored and stderr inherited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ForwarderOptions } from '../../bench/forwarder';
import { processTree } from './bench-proc';
import { LatencyHistogram, type LatencySummary } from './bench-stats';

export const ROOT = join(__dirname, '..', '..');
export const AUTH = '0123456789abcdef0123456789abcdef';
export const ACCOUNT = 'AC' + 'b'.repeat(32);
export const PUBLIC_URL = 'https://bench.callbridge.test';
const ADMIN = 'bench-admin-key-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bridge under test. */
export interface Target {
  name: 'callbridge' | 'forwarder';
  proc: ChildProcess;
  pid: number;
  /** http://127.0.0.1:port */
  base: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function tsxChild(script: string, env: Record<string, string>, prof?: string, cwd = ROOT): ChildProcess {
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  return spawn(process.execPath, [...flags, '--import', 'tsx', script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

/** The bench provider (./bench-provider.ts) with agent chunks of `chunkFrames` × 20 ms; resolves once it listens. */
export async function startProvider(chunkFrames: number): Promise<{ proc: ChildProcess; base: string }> {
  const proc = tsxChild('scripts/lib/bench-provider.ts', { PORT: '0', CHUNK_FRAMES: String(chunkFrames) });
  const port = await new Promise<number>((resolve) => proc.on('message', (m: { port?: number }) => m.port && resolve(m.port)));
  return { proc, base: `http://127.0.0.1:${port}` };
}

type Drained = ReturnType<LatencyHistogram['drain']>;

/** Carrier → provider latencies recorded by the provider since the last call: all, and without its own stalls. */
export function providerStats(p: ChildProcess): Promise<{ all: LatencySummary; clean: LatencySummary }> {
  return new Promise((resolve) => {
    const on = (m: { stats?: { all: Drained; clean: Drained } }) => {
      if (!m.stats) return;
      p.off('message', on);
      const [all, clean] = [new LatencyHistogram(), new LatencyHistogram()];
      all.merge(m.stats.all);
      clean.merge(m.stats.clean);
      resolve({ all: all.summary(), clean: clean.summary() });
    };
    p.on('message', on);
    p.send('stats');
  });
}

async function ready(t: Target): Promise<Target> {
  for (let i = 0; ; i++) {
    if ((await fetch(`${t.base}/ready`).catch(() => undefined))?.ok) return t;
    if (t.proc.exitCode !== null) throw new Error(`${t.name} exited with ${t.proc.exitCode} before it was ready`);
    if (i > 600) throw new Error(`${t.name} did not become ready in 60 s`);
    await sleep(100);
  }
}

/**
 * callbridge on the Twilio ⇄ ElevenLabs path against the bench provider, with WEB_CONCURRENCY=`workers`
 * (1 unless --workers; ignored by a build without cluster support). `maxCalls` sizes its limits.
 * BENCH_CPU_PROF=<dir> adds `--cpu-prof` (stop it with SIGINT to write the profile). BENCH_CALLBRIDGE_DIR=<dir>
 * runs the callbridge of another checkout (e.g. a `git archive` of an older commit, to compare) instead of this one.
 */
export async function startCallbridge(providerBase: string, workers: number, maxCalls: number): Promise<Target> {
  const port = await freePort();
  const proc = tsxChild(
    'src/index.ts',
    {
      PORT: String(port),
      PUBLIC_URL,
      ADMIN_API_KEY: ADMIN,
      CALL_TOKEN_SECRET: 'bench-call-token-secret-0123456789',
      LOG_LEVEL: 'error',
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: AUTH,
      TWILIO_API_BASE: providerBase,
      ELEVENLABS_API_KEY: 'xi-bench',
      ELEVENLABS_AGENT_ID: 'agent_bench',
      ELEVENLABS_API_BASE: providerBase,
      USE_ELEVENLABS_CONVERSATIONAL_AI: 'true',
      WEB_CONCURRENCY: String(workers),
      MAX_CONCURRENT_CALLS: String(maxCalls),
      MAX_MEDIA_SOCKETS_PER_IP: '100000',
      MAX_HTTP_INFLIGHT_PER_IP: '100000',
      DRAIN_TIMEOUT_S: '0',
      DATA_DIR: join(ROOT, 'out', 'bench-data'),
    },
    process.env.BENCH_CPU_PROF,
    process.env.BENCH_CALLBRIDGE_DIR || ROOT,
  );
  return ready({ name: 'callbridge', proc, pid: proc.pid!, base: `http://127.0.0.1:${port}` });
}

/** The floor, bench/forwarder.ts, against the same provider. */
export async function startForwarderProcess(providerBase: string): Promise<Target> {
  const port = await freePort();
  const env: Record<keyof ForwarderOptions, string> = {
    port: String(port),
    publicUrl: PUBLIC_URL,
    apiBase: providerBase,
    apiKey: 'xi-bench',
    agentId: 'agent_bench',
  };
  const proc = tsxChild('bench/forwarder.ts', {
    PORT: env.port,
    PUBLIC_URL: env.publicUrl,
    ELEVENLABS_API_BASE: env.apiBase,
    ELEVENLABS_API_KEY: env.apiKey,
    ELEVENLABS_AGENT_ID: env.agentId,
  });
  return ready({ name: 'forwarder', proc, pid: proc.pid!, base: `http://127.0.0.1:${port}` });
}

/** A target's event-loop lag p99 and max (ms) since the previous scrape (both reset it on each scrape); NaN when it does not answer. */
export async function lagMs(base: string): Promise<{ p99: number; max: number }> {
  const text = (await (await fetch(`${base}/metrics`).catch(() => undefined))?.text().catch(() => '')) ?? '';
  const get = (q: string) => Number(new RegExp(`^\\w*nodejs_eventloop_lag_${q}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: get('p99'), max: get('max') };
}

/** Stop a target: SIGINT under BENCH_CPU_PROF (callbridge drains and writes its profile), else SIGKILL of its whole tree. */
export function stopTarget(t: Target): void {
  if (process.env.BENCH_CPU_PROF && t.name === 'callbridge') return void t.proc.kill('SIGINT');
  for (const pid of processTree(t.pid).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

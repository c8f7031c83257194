/**
 * Bridge load benchmark (`npm run bench`): the real server (`src/index.ts`) in its own process, the
 * bench provider (scripts/lib/bench-provider.ts) in another, and this process as the Twilio side
 * (scripts/lib/bench-carrier.ts). Concurrent calls ramp through STEPS; every call streams μ-law both
 * ways at real time (caller frames echoed by the provider). Per step it prints, and never asserts:
 * - latency the bridge adds per frame, carrier → provider and provider → carrier, p50/p99/max (ms),
 *   from send/receive times stamped in the audio (one monotonic clock for all processes; includes
 *   the loopback sockets and the peers' own event-loop delays);
 * - frames/s through the bridge (both directions), CPU % of the bridge process (/proc/<pid>/stat),
 *   RSS per call (growth over the idle baseline), event-loop lag p99 (the bridge's /metrics);
 * - call-setup time: webhook POST → first agent audio frame at the carrier, p50/p99.
 * A step whose p99 passes 20 ms ends the ramp. Writes bench/results/<date>.json.
 * Run: npm run bench, or npx tsx scripts/bench-bridge.ts [steps, e.g. 50,100,200] [window s]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BenchCarrier } from './lib/bench-carrier';

const STEPS = (process.argv[2] ?? '50,100,200,500,1000').split(',').map(Number);
const WINDOW_S = Number(process.argv[3] ?? 8);
const P99_LIMIT_MS = 20;
const ROOT = join(__dirname, '..');
const AUTH = '0123456789abcdef0123456789abcdef';
const ACCOUNT = 'AC' + 'b'.repeat(32);
const PUBLIC_URL = 'https://bench.callbridge.test';
const ADMIN = 'bench-admin-key-0123456789';
const CLK_TCK = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function tsxChild(script: string, env: Record<string, string>): ChildProcess {
  const prof = script === 'src/index.ts' && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return spawn(process.execPath, [...prof, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
    .split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
};
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const max = (xs: number[]) => (xs.length ? xs.reduce((a, b) => (b > a ? b : a), -Infinity) : NaN);
const r2 = (v: number) => Math.round(v * 100) / 100;

/** The bridge's event-loop lag p99 and max (ms) since the previous scrape (prom-client resets it). */
async function lagMs(base: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const get = (q: string) => Number(new RegExp(`^\\w*nodejs_eventloop_lag_${q}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: get('p99'), max: get('max') };
}

/** Share of the last 10 s in which some task waited for a CPU (%), from Linux PSI; NaN where absent. */
function cpuPressurePct(): number {
  try {
    return Number(/some avg10=(\S+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function providerStats(p: ChildProcess): Promise<number[]> {
  return new Promise((resolve) => {
    const on = (m: { stats?: number[] }) => {
      if (!m.stats) return;
      p.off('message', on);
      resolve(m.stats);
    };
    p.on('message', on);
    p.send('stats');
  });
}

interface StepResult {
  calls: number;
  failedCalls: number;
  inboundMs: { p50: number; p99: number; max: number };
  outboundMs: { p50: number; p99: number; max: number };
  framesPerS: number;
  cpuPct: number;
  rssMiB: number;
  rssPerCallKiB: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** Machine-wide CPU pressure (PSI some avg10, %): how often something waited for a CPU. */
  cpuPressurePct: number;
  /** CPU % of the two emulator processes, to judge whether they, not the bridge, were the limit. */
  peersCpuPct: { carrier: number; provider: number };
  setupMs: { p50: number; p99: number };
}

async function main(): Promise<void> {
  const provider = tsxChild('scripts/lib/bench-provider.ts', { PORT: '0' });
  const providerPort = await new Promise<number>((resolve) => provider.on('message', (m: { port?: number }) => m.port && resolve(m.port)));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bridge = tsxChild('src/index.ts', {
    PORT: String(port),
    PUBLIC_URL,
    ADMIN_API_KEY: ADMIN,
    LOG_LEVEL: 'error',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: AUTH,
    TWILIO_API_BASE: `http://127.0.0.1:${providerPort}`,
    ELEVENLABS_API_KEY: 'xi-bench',
    ELEVENLABS_AGENT_ID: 'agent_bench',
    ELEVENLABS_API_BASE: `http://127.0.0.1:${providerPort}`,
    USE_ELEVENLABS_CONVERSATIONAL_AI: 'true',
    MAX_CONCURRENT_CALLS: String(Math.max(...STEPS) + 100),
    MAX_MEDIA_SOCKETS_PER_IP: '100000',
    MAX_HTTP_INFLIGHT_PER_IP: '100000',
    DRAIN_TIMEOUT_S: '0',
    DATA_DIR: join(ROOT, 'out', 'bench-data'),
  });
  const pid = bridge.pid!;
  for (let i = 0; ; i++) {
    if ((await fetch(`${base}/ready`).catch(() => undefined))?.ok) break;
    if (i > 300) throw new Error('bridge did not become ready in 30 s');
    await sleep(100);
  }
  const baseRss = rssKiB(pid);
  const carrier = new BenchCarrier({ base, publicUrl: PUBLIC_URL, authToken: AUTH, accountSid: ACCOUNT });
  const results: StepResult[] = [];
  console.log(
    `bridge pid ${pid}, idle RSS ${(baseRss / 1024).toFixed(1)} MiB; ${WINDOW_S} s window per step; ` +
      '2-core machine shared with other work: figures are pessimistic',
  );
  const head = [
    'calls',
    'c→p p50/p99/max ms ',
    'p→c p50/p99/max ms ',
    'frames/s',
    'CPU %',
    'RSS MiB',
    'KiB/call',
    'loop lag p99/max ms',
    'setup p50/p99 ms',
    'carrier/provider CPU %',
    'CPU pressure %',
  ].join(' | ');
  console.log(head);
  try {
    for (const target of STEPS) {
      const setups = await carrier.add(target - carrier.calls.length);
      await sleep(1000);
      carrier.take();
      await providerStats(provider);
      await lagMs(base); // resets the bridge's lag histogram
      const cpu0 = cpuTicks(pid);
      const prov0 = cpuTicks(provider.pid!);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(WINDOW_S * 1000);
      const secs = (performance.now() - t0) / 1000;
      const cpuPct = ((cpuTicks(pid) - cpu0) / CLK_TCK / secs) * 100;
      const own = process.cpuUsage(own0);
      const peersCpuPct = {
        carrier: Math.round(((own.user + own.system) / 1e6 / secs) * 100),
        provider: Math.round(((cpuTicks(provider.pid!) - prov0) / CLK_TCK / secs) * 100),
      };
      const lag = await lagMs(base);
      const cpuPressure = cpuPressurePct();
      const inbound = await providerStats(provider);
      const { outboundMs, framesIn } = carrier.take();
      const rss = rssKiB(pid);
      const live = carrier.calls.filter((c) => !c.closed).length;
      const step: StepResult = {
        calls: live,
        failedCalls: carrier.failures,
        inboundMs: { p50: r2(pct(inbound, 50)), p99: r2(pct(inbound, 99)), max: r2(max(inbound)) },
        outboundMs: { p50: r2(pct(outboundMs, 50)), p99: r2(pct(outboundMs, 99)), max: r2(max(outboundMs)) },
        framesPerS: Math.round((inbound.length + framesIn) / secs),
        cpuPct: Math.round(cpuPct),
        rssMiB: r2(rss / 1024),
        rssPerCallKiB: Math.round((rss - baseRss) / Math.max(1, live)),
        eventLoopLagP99Ms: r2(lag.p99),
        eventLoopLagMaxMs: r2(lag.max),
        cpuPressurePct: cpuPressure,
        peersCpuPct,
        setupMs: { p50: r2(pct(setups, 50)), p99: r2(pct(setups, 99)) },
      };
      results.push(step);
      const f = (x: { p50: number; p99: number; max: number }) => `${x.p50}/${x.p99}/${x.max}`.padEnd(19);
      const row = [
        String(step.calls).padStart(5),
        f(step.inboundMs),
        f(step.outboundMs),
        String(step.framesPerS).padStart(8),
        String(step.cpuPct).padStart(5),
        String(step.rssMiB).padStart(7),
        String(step.rssPerCallKiB).padStart(8),
        `${step.eventLoopLagP99Ms}/${step.eventLoopLagMaxMs}`.padStart(18),
        `${step.setupMs.p50}/${step.setupMs.p99}`.padEnd(16),
        `${peersCpuPct.carrier}/${peersCpuPct.provider}`.padEnd(22),
        cpuPressure,
      ];
      console.log(row.join(' | '));
      if (Math.max(step.inboundMs.p99, step.outboundMs.p99) > P99_LIMIT_MS) {
        console.log(`p99 over ${P99_LIMIT_MS} ms at ${step.calls} calls: ramp stopped`);
        break;
      }
    }
  } finally {
    await carrier.close();
    bridge.kill(process.env.BENCH_CPU_PROF ? 'SIGINT' : 'SIGKILL'); // SIGINT drains and exits, writing the profile
    provider.kill('SIGKILL');
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), node: process.version, windowS: WINDOW_S, p99LimitMs: P99_LIMIT_MS, idleRssMiB: r2(baseRss / 1024), steps: results },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

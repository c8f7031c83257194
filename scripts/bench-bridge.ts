/**
 * Bridge load benchmark (`npm run bench`), callbridge beside the floor in one run: the real server
 * (`src/index.ts`) and a minimal forwarder (bench/forwarder.ts), each in its own process, both
 * against the bench provider (scripts/lib/bench-provider.ts, another process) and driven by the same
 * Twilio load generator, this process (scripts/lib/bench-carrier.ts).
 *
 * For each step (concurrent calls) and each target in turn: the step's calls are dialled one every
 * `--spacing-ms` (10), stream μ-law both ways at real time for the window, and are hung up before
 * the other target's turn, so the two never share the machine. Per target and step it prints, and
 * never asserts:
 * - latency the bridge adds per frame, carrier → provider and provider → carrier, p50/p99/max (ms),
 *   from send times stamped in the audio (one monotonic clock; includes the loopback sockets and
 *   the peers' own event-loop delays), and the p99 without the frames in flight while the receiving
 *   peer itself stalled (a late load generator is not a slow bridge; the share left out is printed);
 * - CPU per call (% of one core; the target's whole process tree from /proc, cluster workers
 *   included), RSS per call (growth over the target's RSS after a warm-up), messages sent to the
 *   carrier per call-second, event-loop lag p99/max (the target's /metrics);
 * - set-up: CPU per call while the calls were dialled in (less the streaming they did meanwhile),
 *   webhook-answer time and webhook → greeting time, p50/p99 (ms);
 * - the peers: this generator's CPU % and event-loop lag p99, the provider's CPU %, CPU pressure.
 * A target whose worse-direction p99 (stalls left out) passes `--stop-ms` (100) or that fails calls leaves the ramp. At the end:
 * the most calls per target with both directions' p99 ≤ 20 ms, the JSON (bench/results/<date>.json)
 * and the chart (bench/results/<date>.svg and bench/chart.svg).
 *
 * Run: npm run bench, or npx tsx scripts/bench-bridge.ts [steps, e.g. 50,100,200] [window s]
 *   [--workers N] (WEB_CONCURRENCY for callbridge, default 1) [--chunk-ms 200] (agent chunk size)
 *   [--spacing-ms 10] [--stop-ms 100] [--only callbridge|forwarder]; BENCH_CPU_PROF=<dir> profiles callbridge;
 *   --chart bench/results/<date>.json draws that run's chart again.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BenchCarrier } from './lib/bench-carrier';
import { chartSvg } from './lib/bench-chart';
import { cpuMeter, cpuPressurePct, processTree, treeRssKiB } from './lib/bench-proc';
import { header, row, summary, worseP99, writeRun, type BenchRun, type TargetStep } from './lib/bench-report';
import { pct, r2 } from './lib/bench-stats';
import {
  ACCOUNT,
  AUTH,
  lagMs,
  providerStats,
  PUBLIC_URL,
  ROOT,
  startCallbridge,
  startForwarderProcess,
  startProvider,
  stopTarget,
  type Target,
} from './lib/bench-targets';

const P99_LIMIT_MS = 20;
const WARMUP_CALLS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]) {
  const flags: Record<string, string> = {};
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i]!.startsWith('--')) flags[argv[i]!.slice(2)] = argv[++i] ?? '';
    else pos.push(argv[i]!);
  }
  return {
    steps: (pos[0] ?? '50,100,200,500,1000').split(',').map(Number),
    windowS: Number(pos[1] ?? 8),
    workers: Math.max(1, Number(flags.workers ?? 1)),
    chunkMs: Math.max(20, Math.round(Number(flags['chunk-ms'] ?? 200) / 20) * 20),
    spacingMs: Number(flags['spacing-ms'] ?? 10),
    only: flags.only,
    stopMs: Number(flags['stop-ms'] ?? 5 * P99_LIMIT_MS),
    chart: flags.chart,
  };
}

const args = parseArgs(process.argv.slice(2));
if (args.chart) redraw(args.chart);
const ownLag = monitorEventLoopDelay({ resolution: 10 });
ownLag.enable();

/** `--chart <results.json>`: draw an earlier run's chart again (beside the JSON and as bench/chart.svg), and exit. */
function redraw(file: string): never {
  const svg = chartSvg(JSON.parse(readFileSync(file, 'utf8')) as BenchRun);
  writeFileSync(file.replace(/\.json$/, '') + '.svg', svg);
  writeFileSync(join(ROOT, 'bench', 'chart.svg'), svg);
  console.log(`chart of ${file}: bench/chart.svg`);
  process.exit(0);
}

function carrierFor(t: Target): BenchCarrier {
  return new BenchCarrier({ base: t.base, publicUrl: PUBLIC_URL, authToken: AUTH, accountSid: ACCOUNT });
}

/** Dial a few calls, stream 2 s, hang up: JIT and pools warmed, start-up memory settled; returns the tree's RSS (KiB) then. */
async function warmUp(t: Target): Promise<number> {
  const c = carrierFor(t);
  await c.dial(WARMUP_CALLS, args.spacingMs);
  await sleep(2000);
  await c.close();
  await sleep(1500);
  return treeRssKiB(t.pid);
}

/** One target at one step: dial `n` calls, measure a window, hang up. */
async function measure(t: Target, n: number, provider: { proc: ChildProcess }, baseRss: number): Promise<TargetStep> {
  const carrier = carrierFor(t);
  const setupCpu = cpuMeter(t.pid);
  const dial = await carrier.dial(n, args.spacingMs);
  const setup = setupCpu.stop();
  await sleep(1000);
  carrier.take();
  await providerStats(provider.proc);
  await lagMs(t.base); // resets the target's lag histogram
  ownLag.reset();
  const cpu = cpuMeter(t.pid);
  const prov = cpuMeter(provider.proc.pid!);
  const own0 = process.cpuUsage();
  await sleep(args.windowS * 1000);
  const win = cpu.stop();
  const provCpu = prov.stop();
  const own = process.cpuUsage(own0);
  const lag = await lagMs(t.base).catch(() => ({ p99: NaN, max: NaN }));
  const inbound = await providerStats(provider.proc);
  const { outbound, messagesIn } = carrier.take();
  const rss = treeRssKiB(t.pid);
  const calls = carrier.live;
  const steadyMsPerCallS = calls ? win.ms / (calls * win.secs) : 0;
  const greeted = dial.greetMs.length;
  const step: TargetStep = {
    target: t.name,
    calls,
    failed: dial.failed,
    inboundMs: inbound.all,
    outboundMs: outbound.all,
    inboundCleanMs: inbound.clean,
    outboundCleanMs: outbound.clean,
    cpuPct: Math.round(win.pct),
    cpuPerCallPct: calls ? Number((win.pct / calls).toFixed(3)) : NaN,
    rssMiB: r2(rss / 1024),
    rssPerCallKiB: calls ? Math.round((rss - baseRss) / calls) : NaN,
    carrierMsgsPerCallS: calls ? r2(messagesIn / (calls * win.secs)) : NaN,
    lagP99Ms: r2(lag.p99),
    lagMaxMs: r2(lag.max),
    setupCpuMsPerCall: greeted ? r2(Math.max(0, setup.ms - steadyMsPerCallS * dial.streamSecs) / greeted) : NaN,
    answerMs: { p50: r2(pct(dial.answerMs, 50)), p99: r2(pct(dial.answerMs, 99)) },
    greetMs: { p50: r2(pct(dial.greetMs, 50)), p99: r2(pct(dial.greetMs, 99)) },
    peers: {
      generatorCpuPct: Math.round(((own.user + own.system) / 1e6 / win.secs) * 100),
      generatorLagP99Ms: r2(ownLag.percentile(99) / 1e6),
      providerCpuPct: Math.round(provCpu.pct),
      cpuPressurePct: cpuPressurePct(),
    },
  };
  await carrier.close();
  await sleep(1500); // let the hang-ups settle before the next measurement
  return step;
}

async function main(): Promise<void> {
  const provider = await startProvider(args.chunkMs / 20);
  const targets: Target[] = [];
  const run: BenchRun = {
    date: new Date().toISOString(),
    node: process.version,
    windowS: args.windowS,
    spacingMs: args.spacingMs,
    chunkMs: args.chunkMs,
    workers: args.workers,
    p99LimitMs: P99_LIMIT_MS,
    idleRssMiB: {},
    steps: [],
  };
  try {
    const maxCalls = 2 * Math.max(...args.steps) + 100;
    if (args.only !== 'forwarder') targets.push(await startCallbridge(provider.base, args.workers, maxCalls));
    if (args.only !== 'callbridge') targets.push(await startForwarderProcess(provider.base));
    const baseRss: Record<string, number> = {};
    for (const t of targets) {
      run.idleRssMiB[t.name] = r2(treeRssKiB(t.pid) / 1024);
      baseRss[t.name] = await warmUp(t);
    }
    const idle = targets.map((t) => `${t.name} ${run.idleRssMiB[t.name]} MiB in ${processTree(t.pid).length} processes`).join(', ');
    console.log(
      `idle RSS ${idle}; ${args.windowS} s window per step; calls dialled ${args.spacingMs} ms apart; agent chunks of ${args.chunkMs} ms; ` +
        `callbridge WEB_CONCURRENCY=${args.workers}; 2-core machine: other work running makes the figures pessimistic (see PSI %)`,
    );
    console.log(header());
    const active = new Set(targets);
    for (const n of args.steps) {
      for (const t of targets) {
        if (!active.has(t)) continue;
        const s = await measure(t, n, provider, baseRss[t.name]!);
        run.steps.push(s);
        console.log(row(s));
        if (worseP99(s) > args.stopMs || s.failed > 0 || !Number.isFinite(worseP99(s))) {
          console.log(`${t.name}: p99 over ${args.stopMs} ms or failed calls at ${n} calls: leaves the ramp`);
          active.delete(t);
        }
      }
      if (!active.size) break;
    }
  } finally {
    for (const t of targets) stopTarget(t);
    provider.proc.kill('SIGKILL');
  }
  for (const line of summary(run)) console.log(line);
  const stamp = run.date.replace(/[:.]/g, '-');
  const file = writeRun(ROOT, stamp, run);
  const svg = chartSvg(run);
  writeFileSync(join(ROOT, 'bench', 'results', `${stamp}.svg`), svg);
  writeFileSync(join(ROOT, 'bench', 'chart.svg'), svg);
  console.log(`results: ${file} (+ .svg), chart: bench/chart.svg`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

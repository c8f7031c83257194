/**
 * What `npm run bench` prints and keeps: one row per target per step, the capacity summary, and the
 * JSON of the whole run (bench/results/<date>.json). Prints only; never asserts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { r2, type LatencySummary } from './bench-stats';

/** One target measured at one step. */
export interface TargetStep {
  target: string;
  /** Calls streaming during the window. */
  calls: number;
  /** Calls of the step that got no answer, socket or greeting. */
  failed: number;
  /** Carrier → provider through the bridge (ms). */
  inboundMs: LatencySummary;
  /** Provider → carrier through the bridge (ms). */
  outboundMs: LatencySummary;
  /** The same without the frames in flight while the receiving peer (provider, generator) itself stalled (bench-stats.ts StallWatch). */
  inboundCleanMs: LatencySummary;
  outboundCleanMs: LatencySummary;
  /** CPU of the target's whole process tree, % of one core. */
  cpuPct: number;
  /** `cpuPct` / calls. */
  cpuPerCallPct: number;
  rssMiB: number;
  /** RSS growth over the target's RSS after the warm-up calls hung up, per call (KiB; noisy at small steps). */
  rssPerCallKiB: number;
  /** Messages the bridge sent to the carrier per call per second. */
  carrierMsgsPerCallS: number;
  /** Event-loop lag p99 and max over the window (ms; the primary's only under WEB_CONCURRENCY). */
  lagP99Ms: number;
  lagMaxMs: number;
  /** CPU (ms) the target spent per call while the step's calls were dialled in, steady streaming taken out. */
  setupCpuMsPerCall: number;
  /** Webhook POST → TwiML answer (ms) for calls arriving `spacingMs` apart. */
  answerMs: { p50: number; p99: number };
  /** Webhook POST → greeting audio at the carrier (ms). */
  greetMs: { p50: number; p99: number };
  /** The other processes during the window: this generator (CPU %, event-loop lag p99 ms), the provider (CPU %), machine CPU pressure (PSI some avg10 %). */
  peers: { generatorCpuPct: number; generatorLagP99Ms: number; providerCpuPct: number; cpuPressurePct: number };
}

/** The whole run, as written to JSON. */
export interface BenchRun {
  date: string;
  node: string;
  windowS: number;
  spacingMs: number;
  chunkMs: number;
  workers: number;
  p99LimitMs: number;
  idleRssMiB: Record<string, number>;
  steps: TargetStep[];
}

const COLUMNS: [string, number][] = [
  ['calls', 5],
  ['target', 10],
  ['c→p p50/p99/max ms', 19],
  ['p→c p50/p99/max ms', 19],
  ['p99 w/o stalls', 14],
  ['stalled %', 9],
  ['CPU %/call', 10],
  ['KiB/call', 8],
  ['msg/call·s', 10],
  ['lag p99/max ms', 14],
  ['setup CPU ms/call', 17],
  ['answer p50/p99 ms', 17],
  ['greet p50/p99 ms', 16],
  ['fail', 4],
  ['gen CPU %/lag ms', 16],
  ['prov CPU %', 10],
  ['PSI %', 5],
];

/** The table header line. */
export function header(): string {
  return COLUMNS.map(([h, w]) => h.padEnd(w)).join(' | ');
}

const lat = (x: LatencySummary) => `${x.p50}/${x.p99}/${x.max}`;
const two = (x: { p50: number; p99: number }) => `${x.p50}/${x.p99}`;

/** One table line. */
export function row(s: TargetStep): string {
  const cells = [
    s.calls,
    s.target,
    lat(s.inboundMs),
    lat(s.outboundMs),
    `${s.inboundCleanMs.p99}/${s.outboundCleanMs.p99}`,
    stalledPct(s),
    s.cpuPerCallPct,
    s.rssPerCallKiB,
    s.carrierMsgsPerCallS,
    `${s.lagP99Ms}/${s.lagMaxMs}`,
    s.setupCpuMsPerCall,
    two(s.answerMs),
    two(s.greetMs),
    s.failed,
    `${s.peers.generatorCpuPct}/${s.peers.generatorLagP99Ms}`,
    s.peers.providerCpuPct,
    s.peers.cpuPressurePct,
  ];
  return cells.map((c, i) => (typeof c === 'number' ? String(c).padStart(COLUMNS[i]![1]) : c.padEnd(COLUMNS[i]![1]))).join(' | ');
}

/** Worse direction's p99 (ms), leaving out frames in flight while the receiving peer stalled (the raw p99 for older JSON without them). */
export const worseP99 = (s: TargetStep): number => Math.max((s.inboundCleanMs ?? s.inboundMs).p99, (s.outboundCleanMs ?? s.outboundMs).p99);

/** Share of the frames left out of `worseP99` because a peer stalled (%). */
export function stalledPct(s: TargetStep): number {
  if (!s.inboundCleanMs || !s.outboundCleanMs) return NaN;
  const all = s.inboundMs.frames + s.outboundMs.frames;
  return all ? r2((100 * (all - s.inboundCleanMs.frames - s.outboundCleanMs.frames)) / all) : NaN;
}

/** Per target, the most calls measured with both directions' p99 ≤ `limitMs` and no failed call (0 when none). */
export function capacity(steps: TargetStep[], limitMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) {
    out[s.target] ??= 0;
    if (worseP99(s) <= limitMs && s.failed === 0 && s.calls > out[s.target]!) out[s.target] = s.calls;
  }
  return out;
}

/** Lines that close the table: capacity per target, and the CPU slope per call and the calls per core it implies. */
export function summary(run: BenchRun): string[] {
  const lines: string[] = [];
  const cap = capacity(run.steps, run.p99LimitMs);
  const procs = run.workers > 1 ? ` (callbridge with WEB_CONCURRENCY=${run.workers})` : '';
  lines.push(
    `most calls with both directions' p99 <= ${run.p99LimitMs} ms${procs}: ` +
      Object.entries(cap)
        .map(([t, n]) => `${t} ${n || 'none of the steps'}`)
        .join(', '),
  );
  for (const t of Object.keys(cap)) {
    // The slope where the target kept up (p99 within budget); past that its CPU saturates and the slope flattens.
    const all = run.steps.filter((x) => x.target === t && x.calls > 0 && x.failed === 0);
    const kept = all.filter((x) => worseP99(x) <= run.p99LimitMs);
    const s = kept.length >= 2 ? kept : all.slice(0, 2);
    if (s.length < 2) continue;
    const a = s[0]!;
    const b = s[s.length - 1]!;
    const slope = (b.cpuPct - a.cpuPct) / (b.calls - a.calls); // % of a core per added call
    const cores = slope > 0 ? Math.round((100 - Math.max(0, a.cpuPct - slope * a.calls)) / slope) : NaN;
    lines.push(`${t}: CPU slope ${slope.toFixed(3)} % of a core per call between ${a.calls} and ${b.calls} calls → about ${cores} calls per core`);
  }
  return lines;
}

/** Write the run to bench/results/<stamp>.json; returns the path. */
export function writeRun(root: string, stamp: string, run: BenchRun): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stamp}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2));
  return file;
}

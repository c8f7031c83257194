/**
 * CPU and memory of a whole process tree on Linux, for the bench: a target may fork workers
 * (node:cluster under WEB_CONCURRENCY) or helpers (tsx's esbuild), and every one of them is charged.
 * Children are found through /proc/<pid>/task/<tid>/children (proc(5), CONFIG_PROC_CHILDREN), or,
 * where that file is missing, from the parent pid in every /proc/<pid>/stat (what `ps --ppid` reads,
 * without blocking the load generator on a fork). CPU is utime + stime + cutime + cstime of /proc/<pid>/stat
 * (fields 14–17, clock ticks of USER_HZ = 100), so children that exited and were reaped still count.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc/<pid>/stat times are in these ticks per second. */
export const CLK_TCK = 100;

/** Parent pid of every process, from /proc/<pid>/stat (field 4); no fork, unlike `ps`. */
function parents(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(Number(name))?.[1]);
    if (!ppid) continue;
    const list = kids.get(ppid) ?? [];
    list.push(Number(name));
    kids.set(ppid, list);
  }
  return kids;
}

function children(pid: number, scan: () => Map<number, number[]>): number[] {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(' ')) out.push(Number(c));
    }
    return out;
  } catch {
    return scan().get(pid) ?? []; // no CONFIG_PROC_CHILDREN (or pid gone)
  }
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  let map: Map<number, number[]> | undefined;
  const scan = () => (map ??= parents());
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]!, scan));
  return all;
}

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
  } catch {
    return undefined; // exited meanwhile
  }
}

/** CPU time (ticks) used so far by the tree under `pid`, its reaped children included. */
export function treeCpuTicks(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) sum += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return sum;
}

/** Resident set size (KiB) of the tree under `pid` (shared pages counted once per process). */
export function treeRssKiB(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      sum += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}

/** Share of the last 10 s in which some task waited for a CPU (%), from Linux PSI; NaN where absent. */
export function cpuPressurePct(): number {
  try {
    return Number(/some avg10=(\S+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** CPU use of a tree between two reads: `stop()` gives % of one core and the ms used. */
export function cpuMeter(pid: number): { stop(): { pct: number; ms: number; secs: number } } {
  const t0 = performance.now();
  const c0 = treeCpuTicks(pid);
  return {
    stop() {
      const secs = (performance.now() - t0) / 1000;
      const ms = ((treeCpuTicks(pid) - c0) / CLK_TCK) * 1000;
      return { pct: ms / 10 / secs, ms, secs };
    },
  };
}

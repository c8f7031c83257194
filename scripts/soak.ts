/**
 * `npm run soak -- [--calls 300] [--minutes 10] [--speed 1] [--every 60] [--warmup 60] [--json out.json]`
 *
 * Soak test (README.md "Soak"): the real server in its own process (./lib/soak-stack.ts) takes
 * `--calls` emulated calls at once for `--minutes`, each finished call replaced by a new one
 * (./lib/soak-load.ts: Twilio and Exotel, ElevenLabs and OpenAI, barge-ins and tool calls). Every
 * `--every` seconds, and at the end, it prints the server's RSS, heap used, active handles and
 * event-loop lag p99 (its `/metrics`), calls completed, and turns stored vs spoken. Then it stops
 * placing calls, lets the last ones finish, waits for the server's handles to return to the
 * baseline taken before the first call, stops the server (SIGTERM: drain, store flush) and counts
 * the turns its store holds for every call.
 *
 * Exit 1 when a turn was lost (spoken > stored in the store), the server logged an error or wrote
 * to stderr (an unhandled error), it did not exit 0, its handles did not come back to baseline
 * within 30 s, or a call failed; 2 for bad options. `--json` writes every figure.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { exitFlushed } from './lib/exit-flushed';
import { SoakLoad, type LoadCounts } from './lib/soak-load';
import { startSoakStack, storedTurns, type ProcessFigures } from './lib/soak-stack';

/** One report line. */
interface Sample extends ProcessFigures {
  atS: number;
  counts: LoadCounts;
  /** Turns the server holds for the calls so far (API), live calls included. */
  stored: number;
  /** This process's own event-loop delay p99 since the previous sample, ms: a late load generator makes late callers and agents. */
  generatorLagP99Ms: number;
}

const MiB = (b: number) => Math.round((b / 1048576) * 10) / 10;
const r1 = (v: number) => Math.round(v * 10) / 10;

function row(s: Sample): string {
  const c = s.counts;
  return [
    `${String(Math.round(s.atS)).padStart(5)} s`,
    `RSS ${MiB(s.rssBytes)} MiB`,
    `heap ${MiB(s.heapUsedBytes)} MiB`,
    `handles ${s.activeHandles}`,
    `loop lag p99 ${r1(s.eventLoopLagP99Ms)} ms`,
    `live ${s.liveCalls}`,
    `generator lag p99 ${r1(s.generatorLagP99Ms)} ms`,
    `calls completed ${c.completed} (failed ${c.failed}, in flight ${c.inFlight})`,
    `turns stored ${s.stored} / spoken ${c.spoken}`,
    `barge-ins ${c.bargeIns}, tools ${c.toolResults}/${c.toolCalls}`,
  ].join(' | ');
}

function tally(stored: Map<string, number>, routes: Map<string, string>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [sid, n] of stored) {
    const byN = (out[routes.get(sid) ?? '?'] ??= {});
    byN[n] = (byN[n] ?? 0) + 1;
  }
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '300' },
      minutes: { type: 'string', default: '10' },
      speed: { type: 'string', default: '1' },
      every: { type: 'string' },
      warmup: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const calls = Number(values.calls);
  const minutes = Number(values.minutes);
  const speed = Number(values.speed);
  const everyS = Number(values.every ?? Math.min(60, (minutes * 60) / 3));
  const warmupS = Number(values.warmup ?? Math.min(60, (minutes * 60) / 3));
  for (const [name, v] of Object.entries({ calls, minutes, speed, every: everyS, warmup: warmupS }))
    if (!(v > 0) || (name === 'calls' && !Number.isInteger(v))) {
      console.error(`--${name} must be a positive ${name === 'calls' ? 'whole ' : ''}number`);
      return 2;
    }

  const t0 = Date.now();
  const atS = () => (Date.now() - t0) / 1000;
  const stack = await startSoakStack({ speed, maxCalls: calls });
  // Interrupted (Ctrl-C, a test's timeout): the server runs in its own process group, take it down too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      stack.server.kill();
      process.exit(130);
    });
  const load = new SoakLoad(stack, speed);
  await stack.figures(); // the first scrape starts the lag histogram
  await new Promise((r) => setTimeout(r, 1000));
  const baseline = await stack.figures();
  console.log(
    `soak: ${calls} calls in flight for ${minutes} min at ${speed}× real time against ${stack.server.base} (pid ${stack.server.child.pid}); ` +
      `baseline RSS ${MiB(baseline.rssBytes)} MiB, heap ${MiB(baseline.heapUsedBytes)} MiB, handles ${baseline.activeHandles}. ` +
      'The load generator and every emulator share this machine with the server.',
  );
  const samples: Sample[] = [];
  const ownLag = monitorEventLoopDelay({ resolution: 20 });
  ownLag.enable();
  const report = async () => {
    // Stored first, then spoken: a turn said while the calls are read counts as not yet stored, never the other way round.
    const at = atS();
    const proc = await stack.figures();
    const stored = await load.storedViaApi();
    const s: Sample = { atS: at, ...proc, counts: load.counts(), stored, generatorLagP99Ms: ownLag.percentile(99) / 1e6 };
    ownLag.reset();
    samples.push(s);
    load.trim();
    console.log(row(s));
  };
  const started = Date.now();
  const deadline = started + minutes * 60_000;
  let reporting = Promise.resolve();
  const timer = setInterval(() => (reporting = reporting.then(report)), everyS * 1000);
  await load.run(calls, deadline);
  clearInterval(timer);
  await reporting;
  const lastLoaded = samples.filter((s) => s.atS <= (deadline - t0) / 1000).at(-1) ?? samples.at(-1);
  const warm = samples.find((s) => s.atS - (started - t0) / 1000 >= warmupS) ?? samples[0];

  // Idle again: handles back to where they were before the first call?
  let idle = await stack.figures();
  for (const end = Date.now() + 30_000; idle.activeHandles > baseline.activeHandles && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 500));
    idle = await stack.figures();
  }
  const viaApi = await load.apiTurnsAll();
  await report();
  const exit = await stack.stop();
  const stored = await storedTurns(stack.dataDir, load.sids);
  const counts = load.counts();
  const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);
  const apiTotal = [...viaApi.values()].reduce((a, b) => a + b, 0);
  const problems = stack.problems();
  const rssGrowthPct = warm && lastLoaded ? ((lastLoaded.rssBytes - warm.rssBytes) / warm.rssBytes) * 100 : NaN;
  const figures = {
    date: new Date().toISOString(),
    node: process.version,
    options: { calls, minutes, speed, everyS, warmupS },
    wallS: r1(atS()),
    baseline,
    warm,
    lastLoaded,
    idle,
    rssGrowthPct: r1(rssGrowthPct),
    handlesBack: idle.activeHandles <= baseline.activeHandles,
    calls: counts,
    turns: { spoken: counts.spoken, stored: storedTotal, storedViaApi: apiTotal, lost: Math.max(0, counts.spoken - storedTotal) },
    callsWithoutTurns: [...stored].filter(([, n]) => n === 0).length,
    /** How many calls hold n turns in the store, by route: `{ 'twilio/openai': { '5': 60 } }`. */
    turnsPerCall: tally(stored, load.routes),
    failures: load.failures,
    server: {
      exit,
      errorLines: problems.errorLines.slice(0, 20),
      errorLineCount: problems.errorLines.length,
      warnLines: problems.warnLines.slice(0, 20),
      warnLineCount: problems.warnLines.length,
      stderr: problems.stderr.slice(-4000),
    },
    samples,
  };
  console.log(
    `\nsoak done in ${figures.wallS} s: ${counts.started} calls (${Object.entries(counts.byRoute)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}), completed ${counts.completed}, failed ${counts.failed}; barge-ins ${counts.bargeIns}; tool calls answered ${counts.toolResults}/${counts.toolCalls}`,
  );
  console.log(
    `RSS ${warm ? MiB(warm.rssBytes) : '?'} MiB after warm-up (${warmupS} s) → ${lastLoaded ? MiB(lastLoaded.rssBytes) : '?'} MiB at the last loaded sample ` +
      `(${figures.rssGrowthPct} %); baseline ${MiB(baseline.rssBytes)} MiB, idle after ${MiB(idle.rssBytes)} MiB`,
  );
  console.log(`handles: baseline ${baseline.activeHandles}, after the last call ${idle.activeHandles}${figures.handlesBack ? '' : ' (NOT back to baseline)'}`);
  console.log(`turns: spoken ${counts.spoken}, stored ${storedTotal} in the store (${apiTotal} via the API), lost ${figures.turns.lost}`);
  console.log(
    `server: exit ${exit.code ?? exit.signal}, ${problems.errorLines.length} error log lines ` +
      `(${problems.warnLines.length} warnings), stderr ${problems.stderr.length} bytes`,
  );
  for (const l of problems.errorLines.slice(0, 5)) console.log(`  error line: ${JSON.stringify(l).slice(0, 300)}`);
  if (problems.stderr) console.log(`  stderr: ${problems.stderr.slice(-1000)}`);
  for (const f of load.failures.slice(0, 10)) console.log(`  failed call: ${f}`);
  if (values.json) writeFileSync(values.json, JSON.stringify(figures, null, 2));

  const ok =
    figures.turns.lost === 0 &&
    storedTotal === counts.spoken &&
    problems.errorLines.length === 0 &&
    !problems.stderr &&
    exit.code === 0 &&
    figures.handlesBack &&
    counts.failed === 0;
  if (ok) rmSync(stack.dataDir, { recursive: true, force: true });
  else console.log(`the server's store is left in ${stack.dataDir}`);
  console.log(ok ? 'soak: OK' : 'soak: FAILED');
  return ok ? 0 : 1;
}

main().then(exitFlushed, (err) => {
  console.error(err);
  exitFlushed(1);
});

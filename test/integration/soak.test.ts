/**
 * The CI-sized soak: `npm run soak` as a child process, exactly as typed, with 40 calls in flight
 * for 48 s at twice real time (Twilio and Exotel, ElevenLabs and OpenAI, a tool call and a barge-in
 * in every call; each finished call replaced at once) against the real server in its own process.
 * Sized for a loaded 2-core machine: about 80 s of wall time, most of it the load itself.
 * Asserted from the figures it writes (`--json`): RSS grows at most 10 % from the end of the warm-up
 * (the first 16 s, a third of the run) to the last sample under load; the server's active handles
 * are back to the baseline taken before the first call; every call ran its scenario; the store holds
 * every turn the scripted agents said and transcribed; the server logged no error, wrote nothing to
 * stderr and exited 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(170_000);

const ROOT = resolve(__dirname, '../..');

/** What scripts/soak.ts writes with --json (the members asserted here). */
interface SoakFigures {
  options: { calls: number; minutes: number; speed: number };
  wallS: number;
  baseline: { rssBytes: number; activeHandles: number };
  warm: { atS: number; rssBytes: number };
  lastLoaded: { atS: number; rssBytes: number };
  idle: { activeHandles: number };
  rssGrowthPct: number;
  handlesBack: boolean;
  calls: {
    started: number;
    completed: number;
    failed: number;
    inFlight: number;
    byRoute: Record<string, number>;
    bargeIns: number;
    toolCalls: number;
    toolResults: number;
    spoken: number;
  };
  turns: { spoken: number; stored: number; storedViaApi: number; lost: number };
  callsWithoutTurns: number;
  failures: string[];
  server: { exit: { code: number | null }; errorLineCount: number; errorLines: unknown[]; stderr: string };
  samples: unknown[];
}

function npmRun(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  const t0 = Date.now();
  const child = spawn('npm', args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // SIGTERM first: the soak takes its server down with it; SIGKILL if that does not end it.
  const term = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), timeoutMs);
  const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs + 5000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      done({ code, stdout, stderr, wallMs: Date.now() - t0 });
    }),
  );
}

test('soak: 40 calls in flight for 48 s keep memory flat, return every handle and lose no turn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-soak-test-'));
  const file = join(dir, 'soak.json');
  try {
    const args = ['--calls', '40', '--minutes', '0.8', '--speed', '2', '--every', '8', '--warmup', '16', '--json', file];
    const run = await npmRun(['run', '--silent', 'soak', '--', ...args], 150_000);
    console.log(`npm run soak -- ${args.join(' ')}\n(wall ${Math.round(run.wallMs / 1000)} s, exit ${run.code})\n${run.stdout}${run.stderr}`);
    const f = JSON.parse(readFileSync(file, 'utf8')) as SoakFigures;

    // Every call ran its scenario: all four routes, a tool call answered and a barge-in in each.
    expect(f.failures).toEqual([]);
    expect(f.calls.failed).toBe(0);
    expect(f.calls.inFlight).toBe(0);
    expect(f.calls.completed).toBe(f.calls.started);
    expect(f.calls.started).toBeGreaterThan(40); // finished calls were replaced
    for (const route of ['twilio/elevenlabs', 'twilio/openai', 'exotel/elevenlabs', 'exotel/openai']) expect(f.calls.byRoute[route]).toBeGreaterThanOrEqual(10);
    expect(f.calls.toolCalls).toBeGreaterThanOrEqual(f.calls.started);
    expect(f.calls.toolResults).toBe(f.calls.toolCalls);
    expect(f.calls.bargeIns).toBeGreaterThanOrEqual(Math.floor(f.calls.started * 0.9));

    // No turn lost: the store holds what the agents said and the callers' transcripts, call by call.
    expect(f.turns.spoken).toBeGreaterThanOrEqual(3 * f.calls.started);
    expect(f.turns.stored).toBe(f.turns.spoken);
    expect(f.turns.storedViaApi).toBe(f.turns.spoken);
    expect(f.turns.lost).toBe(0);
    expect(f.callsWithoutTurns).toBe(0);

    // Memory flat after warm-up; handles back to baseline once the last call has ended.
    expect(f.warm.atS).toBeLessThan(f.lastLoaded.atS);
    expect(f.rssGrowthPct).toBeLessThanOrEqual(10);
    expect(f.handlesBack).toBe(true);
    expect(f.idle.activeHandles).toBeLessThanOrEqual(f.baseline.activeHandles);

    // No unhandled error: nothing at error level, nothing on stderr, a clean exit on SIGTERM.
    expect(f.server.errorLines).toEqual([]);
    expect(f.server.errorLineCount).toBe(0);
    expect(f.server.stderr).toBe('');
    expect(f.server.exit.code).toBe(0);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('soak: OK');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

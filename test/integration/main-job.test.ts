/**
 * The main job as a user runs it, each command a child process exactly as typed:
 * - `npm run demo -- --fast`: server, emulated Twilio and ElevenLabs, embedded store, one scripted call
 *   with a booking and a barge-in; checked by its exit code, what it prints and the files it leaves
 *   (the agent's audio in out/demo-agent.wav, the call's stored rows in LOGS_DIR, the confirmation email);
 * - `npm run call -- --url …` against a running server (the in-process harness with its emulators):
 *   a signed Twilio call whose agent audio, timings and transcript are printed and saved.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readWav } from '../../src/audio/wav';
import { defaultScript, FIXTURES } from '../emulators/agent-script';
import { PUBLIC_URL, startBridge, type Bridge } from '../helpers/bridge';
import { TEST_ACCOUNT_SID, TEST_ADMIN_KEY, TEST_AUTH_TOKEN } from '../helpers/config';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
const script = defaultScript();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/**
 * `npm <args>` in the repository root with only PATH, HOME and `env` (a developer's variables stay out;
 * a `.env` file, which both scripts read, only adds what `env` leaves unset). Killed with its process
 * group after `timeoutMs`.
 */
function npm(args: string[], env: Record<string, string>, timeoutMs = 150_000): Promise<Run> {
  const t0 = Date.now();
  const child = spawn('npm', args, {
    cwd: ROOT,
    // No update notice on stderr: the tests expect stderr to stay empty.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, wallMs: Date.now() - t0 });
    }),
  );
}

/** The first capture group of `re` in `text`. @throws naming the pattern when it does not match. */
function capture(text: string, re: RegExp): string {
  const m = re.exec(text);
  if (!m) throw new Error(`no line matching ${re} in:\n${text}`);
  return m[1]!;
}

/** Audio ms (8 kHz) of an agent turn's recording. */
const clipMs = (turn: { samples: Int16Array }) => turn.samples.length / 8;

describe('main job (npm scripts as child processes)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'callbridge-main-job-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('npm run demo -- --fast: exits 0 with "demo: OK", the transcript, a booking, stored rows, an email and out/demo-agent.wav', async () => {
    // out/demo-agent.wav is fixed by the demo (relative to the repository root): remove it afterwards unless it was there before.
    const wavPath = join(ROOT, 'out', 'demo-agent.wav');
    const outExisted = existsSync(join(ROOT, 'out'));
    const wavExisted = existsSync(wavPath);
    const dataDir = join(tmp, 'data');
    const logsDir = join(tmp, 'logs');
    const startedAt = Date.now();
    try {
      const run = await npm(['run', 'demo', '--', '--fast'], {
        DATA_DIR: dataDir,
        LOGS_DIR: logsDir,
        // Whatever a developer's .env holds: the emulated agent, the embedded store and calendar, the outbox, no flag service.
        ELEVENLABS_API_BASE: 'http://127.0.0.1:9',
        SUPABASE_URL: '',
        REDIS_URL: '',
        UNLEASH_URL: '',
        GOOGLE_SERVICE_ACCOUNT_JSON: '',
        RESEND_API_KEY: '',
      });
      console.log(`npm run demo -- --fast: exit ${run.code} after ${run.wallMs} ms`);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const out = run.stdout;
      expect(out).toMatch(/\ndemo: OK\n/);
      expect(out).toContain('callbridge demo: Twilio (emulated) ⇄ callbridge http://127.0.0.1:');
      expect(out).toContain('⇄ elevenlabs (emulated, scripted agent), audio at 4× real time');

      // The call record as GET /api/calls/:callSid has it: greeting, request, answer cut off by the barge-in, the caller's correction, answer.
      const callSid = capture(out, /^call (CA[0-9a-f]{32}) {2}twilio → elevenlabs \(env\) {2}status completed {2}end carrier_stop$/m);
      expect(out).toMatch(/; barge-ins 1; frames in \d+, out \d+$/m);
      const turns = [...out.matchAll(/^ {2}[ \d]\d\. \[ *\d+\.\d\d s\] (agent|user) {1,2}(.*)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(turns).toEqual([
        `agent ${script.greeting.text}`,
        `user ${script.userTranscripts[0]}`,
        expect.stringMatching(/^agent \(interrupted\) \S/),
        `user ${script.userTranscripts[1]}`,
        `agent ${script.replies[0]!.text}`,
      ]);
      const playedMs = Number(capture(out, /^agent audio: (\d+) ms played, saved to out\/demo-agent\.wav; webhook \d+ ms; clears 1; protocol violations 0$/m));
      // The greeting and the last answer in full, plus the start of the interrupted one.
      expect(playedMs).toBeGreaterThan(clipMs(script.greeting) + clipMs(script.replies[0]!));
      expect(playedMs).toBeLessThan(clipMs(script.greeting) + 2 * clipMs(script.replies[0]!));

      // The booking, in the business report and as the confirmation email in DATA_DIR/outbox.
      const appointment = capture(out, /^booking: \S+ \(UTC\), 60 min, appointment ([0-9a-f-]{36}), calendar embedded$/m);
      expect(out).toMatch(/^store \(embedded\): call row saved, 5 transcript rows$/m);
      const eml = join(dataDir, 'outbox', `confirmation_${appointment}.eml`);
      expect(out).toContain(`email (outbox): ${eml}\n`);
      expect(readFileSync(eml, 'utf8')).toMatch(/^To: john@example\.com\r$/m);

      // The call's stored rows, written to LOGS_DIR at call end: the same five turns.
      const stored = JSON.parse(readFileSync(join(logsDir, `${callSid}.json`), 'utf8')) as {
        call: { status: string; provider: string };
        turns: { seq: number; role: string; interrupted: boolean }[];
      };
      expect(stored.call).toMatchObject({ status: 'completed', provider: 'elevenlabs' });
      expect(stored.turns.map((t) => [t.seq, t.role, t.interrupted])).toEqual([
        [1, 'agent', false],
        [2, 'user', false],
        [3, 'agent', true],
        [4, 'user', false],
        [5, 'agent', false],
      ]);

      // The agent's side of the call, written by this run: 8 kHz, at least what was played (silent gaps included).
      expect(statSync(wavPath).mtimeMs).toBeGreaterThanOrEqual(startedAt);
      const wav = readWav(wavPath);
      expect(wav.sampleRate).toBe(8000);
      expect(wav.samples.length / 8).toBeGreaterThanOrEqual(playedMs);
    } finally {
      if (!wavExisted) rmSync(wavPath, { force: true });
      if (!outExisted && existsSync(join(ROOT, 'out'))) rmdirSync(join(ROOT, 'out'));
    }
  });

  describe('npm run call against a running server', () => {
    let b: Bridge;
    afterAll(async () => {
      await b?.close();
    });

    it('places a signed call, hears the greeting and the answer, saves the agent audio and prints timings and the transcript', async () => {
      b = await startBridge({ provider: 'elevenlabs', speed: 4 });
      const wavPath = join(tmp, 'agent.wav');
      const run = await npm(
        [
          'run',
          'call',
          '--',
          ...['--url', b.base, '--public-url', PUBLIC_URL, '--speed', '4', '--out', wavPath],
          ...['--audio', join(FIXTURES, 'caller-booking-8k.wav')],
        ],
        { TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID, ADMIN_API_KEY: TEST_ADMIN_KEY },
      );
      console.log(`npm run call: exit ${run.code} after ${run.wallMs} ms`);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const out = run.stdout;

      const callSid = capture(out, /^call (CA[0-9a-f]{32}) {2}stream MZ[0-9a-f]{32} {2}\(speed ×4: times are wall clock\)$/m);
      expect(out).toMatch(/^ {2}webhook: +200 in \d+ ms$/m);
      expect(out).toMatch(/^ {2}first agent audio: +\d+ ms after start$/m);
      expect(out).toMatch(/^ {2}agent replies at: +\d+ ms, \d+ ms$/m);
      expect(out).toMatch(/^ {2}clears: +—$/m);
      expect(out).toMatch(/^ {2}ended: +by carrier \(1000 [^)]*\) after \d+ ms$/m);
      expect(out).not.toMatch(/ERROR|protocol violations/);

      // Both agent turns were played in full: the greeting and the answer, give or take a padded 20 ms frame each and the rounding to 0.1 s.
      const playedS = Number(capture(out, /^ {2}agent audio played: +(\d+\.\d) s$/m));
      expect(Math.abs(playedS - (clipMs(script.greeting) + clipMs(script.replies[0]!)) / 1000)).toBeLessThanOrEqual(0.1);
      expect(out).toContain(`  agent audio saved:   ${wavPath}\n`);
      const wav = readWav(wavPath);
      expect(wav.sampleRate).toBe(8000);
      expect(wav.samples.length / 8000).toBeGreaterThanOrEqual(playedS - 0.05);

      // The transcript as GET /api/calls/:callSid returns it (ADMIN_API_KEY set), and as the server recorded it.
      expect(out).toContain(
        ['\ntranscript:', `   1 agent ${script.greeting.text}`, `   2 user  ${script.userTranscripts[0]}`, `   3 agent ${script.replies[0]!.text}`, ''].join(
          '\n',
        ),
      );
      const rec = await b.ended(callSid);
      expect(rec).toMatchObject({ status: 'completed', provider: 'elevenlabs', carrier: 'twilio', direction: 'inbound' });
      expect(rec.turns.map((t) => t.text)).toEqual([script.greeting.text, script.userTranscripts[0], script.replies[0]!.text]);
    });
  });
});

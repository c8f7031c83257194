/**
 * The call simulator's core (used by `npm run call` and `scripts/demo.ts`): one inbound Twilio call
 * placed with the carrier emulator against a running callbridge server (local or deployed), caller
 * speech streamed in real time × speed, an optional barge-in, hang-up once the agent goes quiet, and
 * what the agent said saved as a WAV. Wire behaviour: docs/protocols/twilio.md#emulator (see
 * test/emulators/twilio-carrier.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { mulawToSamples } from '../../src/audio/g711';
import { readWav, writeWav } from '../../src/audio/wav';
import {
  TwilioCarrierEmulator,
  type CallEvents,
  type ClearRecord,
  type EmulatedCall,
  type MarkRecord,
  type Violation,
} from '../../test/emulators/twilio-carrier';
import { newSid } from '../../test/emulators/twilio/ids';

export interface SimulateCallOptions {
  /** Where the server is reached: `http://127.0.0.1:3000` or `https://app.example.com`. */
  url: string;
  /** The server's PUBLIC_URL (signatures are computed over it). Default: `url`. */
  publicUrl?: string;
  /** Signs webhook and upgrade (`TWILIO_AUTH_TOKEN`). */
  authToken: string;
  /** `AccountSid` sent to the server. Default: a random `AC…`. */
  accountSid?: string;
  /** Caller speech, 8 kHz PCM16 (see `loadCallerWav`). */
  audio?: Int16Array;
  /** Barge-in clip, 8 kHz PCM16: played `bargeInDelayMs` after the agent starts its second reply. */
  bargeIn?: Int16Array;
  /** Audio ms into the second reply at which the barge-in starts. Default 1000. */
  bargeInDelayMs?: number;
  from?: string;
  to?: string;
  /** Wall-clock multiplier (1 = real time). */
  speed?: number;
  /** Wait for the greeting to finish before speaking (default true; gives up after `greetingWaitMs`). */
  speakAfterGreeting?: boolean;
  /** Audio ms to wait for a greeting before speaking anyway. Default 10000. */
  greetingWaitMs?: number;
  /** Audio ms of agent silence (nothing playing or arriving) after the caller finished before hanging up. Default 4000. */
  quietMs?: number;
  /** Audio ms after which the call is hung up regardless. Default 180000. */
  maxCallMs?: number;
  /**
   * Agent replies (the greeting counts) that must have started before the caller hangs up on a quiet
   * line, e.g. 3 with a barge-in: greeting, the interrupted reply, the answer to the barge-in. Keeps a
   * slow agent from being hung up on mid-turn. Default 0; `maxCallMs` still applies.
   */
  minReplies?: number;
  /** Save the agent's played audio (with silent gaps, 8 kHz PCM16 WAV) here. */
  outPath?: string;
  /** When set, `GET {url}/api/calls/{callSid}` with `Authorization: Bearer` for the transcript. */
  adminApiKey?: string;
  /** Progress lines as they happen (marks, clears, barge-in). */
  log?: (line: string) => void;
  /** Reuse a carrier emulator (e.g. the demo's); otherwise one is created and closed. */
  carrier?: TwilioCarrierEmulator;
  /** Place the call on another carrier instead (./exotel-call.ts); `attach` must run before its stream starts. */
  placeCall?: (callSid: string, attach: (call: SimCall) => void) => Promise<SimCall>;
  /** Call id to use (default a Twilio `CA…` SID). */
  callSid?: string;
}

/** What the scenario needs of a call: a Twilio `EmulatedCall`, or another carrier's call in its shape. */
export type SimCall = {
  on<K extends keyof CallEvents>(event: K, fn: (...args: CallEvents[K]) => void): unknown;
} & Pick<
  EmulatedCall,
  | 'callSid'
  | 'streamSid'
  | 'webhook'
  | 'errors'
  | 'notes'
  | 'marks'
  | 'clears'
  | 'violations'
  | 'endReason'
  | 'firstMediaAtMs'
  | 'isClosed'
  | 'closed'
  | 'bufferedBytes'
  | 'callerIdle'
  | 'playoutLog'
  | 'nowMs'
  | 'sendAudio'
  | 'hangup'
  | 'played'
>;

/** A transcript turn as `GET /api/calls/:callSid` returns it (src/call/transcript.ts). */
export interface TranscriptTurnView {
  seq: number;
  role: string;
  text: string;
  interrupted: boolean;
  atMs: number;
}

export interface SimulatedCallResult {
  callSid: string;
  streamSid: string;
  /** Carrier errors (11200, 12100, 31920); empty when the stream ran. */
  errors: { code: number; message: string }[];
  notes: string[];
  /** How the stream ended. */
  closed: { by: 'server' | 'carrier'; code: number; reason: string };
  endReason?: string;
  /** Wall ms the voice webhook took. */
  webhookLatencyMs: number;
  webhookStatus: number;
  /** Wall ms from `start` to the first agent media. */
  firstAgentAudioMs?: number;
  /** Wall ms since `start` at which each agent reply started playing. */
  replyStartsMs: number[];
  bargeInAtMs?: number;
  marks: MarkRecord[];
  clears: ClearRecord[];
  violations: Violation[];
  /** Agent audio actually played, in ms of audio. */
  playedMs: number;
  /** Wall ms from `start` to hang-up/close. */
  durationMs: number;
  outPath?: string;
  transcript?: TranscriptTurnView[];
  transcriptError?: string;
  call: SimCall;
}

/** A new reply starts when agent audio resumes after this many ms of audio time without playout. */
const REPLY_GAP_MS = 600;

/**
 * Read a caller clip as 8 kHz PCM16. 16/24/48 kHz files are decimated with a box filter (adequate for
 * a simulated caller; the server's own resampler is not involved).
 * @throws Error for other rates or non-WAV files.
 */
export function loadCallerWav(path: string): Int16Array {
  const wav = readWav(path);
  if (wav.sampleRate === 8000) return wav.samples;
  const k = wav.sampleRate / 8000;
  if (!Number.isInteger(k)) throw new Error(`${path}: ${wav.sampleRate} Hz is not a multiple of 8000 Hz; convert it to 8 kHz mono`);
  const out = new Int16Array(Math.floor(wav.samples.length / k));
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (let j = 0; j < k; j++) acc += wav.samples[i * k + j]!;
    out[i] = Math.round(acc / k);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Place one simulated inbound call and run it to the end. Never throws for call failures: see `errors`. */
export async function runSimulatedCall(opts: SimulateCallOptions): Promise<SimulatedCallResult> {
  const speed = opts.speed ?? 1;
  const wall = (audioMs: number) => audioMs / speed;
  const log = opts.log ?? (() => {});
  const own = !opts.carrier;
  const carrier = opts.carrier ?? new TwilioCarrierEmulator({ authToken: opts.authToken, accountSid: opts.accountSid, speed });
  const callSid = opts.callSid ?? newSid('CA');
  const replyStartsMs: number[] = [];
  let lastMediaAtMs = -Infinity;
  let bargeInAtMs: number | undefined;
  let bargeInTimer: NodeJS.Timeout | undefined;

  const attach = (call: SimCall) => {
    if (call.callSid !== callSid) return;
    carrier.off('call', attach);
    call.on('playout-start', (at, idle) => {
      if (idle * speed < REPLY_GAP_MS) return;
      replyStartsMs.push(at);
      log(`agent reply ${replyStartsMs.length} starts playing at ${Math.round(at)} ms`);
      if (replyStartsMs.length === 2 && opts.bargeIn) {
        bargeInTimer = setTimeout(
          () => {
            bargeInAtMs = call.nowMs();
            log(`caller barges in at ${Math.round(bargeInAtMs)} ms`);
            call.sendAudio(opts.bargeIn!);
          },
          wall(opts.bargeInDelayMs ?? 1000),
        );
      }
    });
    call.on('message', (r) => {
      if (r.msg.event === 'media') lastMediaAtMs = r.atMs;
    });
    call.on('mark', (m) => log(`mark ${m.name} ${m.cleared ? 'cleared' : 'played'} at ${Math.round(m.echoedAtMs!)} ms (sent at ${Math.round(m.sentAtMs)} ms)`));
    call.on('clear', (c) => log(`clear at ${Math.round(c.atMs)} ms: ${Math.round(c.discardedBytes / 8)} ms of queued audio discarded`));
    call.on('violation', (v) => log(`protocol violation ${v.code}: ${v.reason}`));
  };
  carrier.on('call', attach);

  const call: SimCall = opts.placeCall
    ? await opts.placeCall(callSid, attach)
    : await carrier.placeCall({
        serverBase: opts.url,
        publicUrl: opts.publicUrl ?? opts.url,
        path: '/inbound',
        callSid,
        from: opts.from ?? '+14155550123',
        to: opts.to ?? '+14155550100',
        direction: 'inbound',
        speed,
      });
  carrier.off('call', attach);
  const errors = call.errors.map((e) => `; error ${e.code}: ${e.message}`).join('');
  log(`webhook ${call.webhook.status} in ${Math.round(call.webhook.latencyMs)} ms${errors}`);

  if (!call.isClosed) {
    // The caller speaks once the greeting has finished (or at once / after greetingWaitMs).
    if (opts.audio) {
      if (opts.speakAfterGreeting ?? true) {
        const giveUp = wall(opts.greetingWaitMs ?? 10000);
        while (!call.isClosed) {
          const now = call.nowMs();
          const greetingDone =
            replyStartsMs.length > 0 &&
            call.bufferedBytes === 0 &&
            now - lastMediaAtMs >= wall(REPLY_GAP_MS) &&
            call.playoutLog.at(-1)?.endMs !== undefined &&
            now - call.playoutLog.at(-1)!.endMs! >= wall(REPLY_GAP_MS);
          if (greetingDone || (replyStartsMs.length === 0 && now >= giveUp)) break;
          await sleep(20);
        }
      }
      log(`caller speaks at ${Math.round(call.nowMs())} ms (${Math.round(opts.audio.length / 8)} ms of audio)`);
      call.sendAudio(opts.audio);
    }
    // Hang up once the caller is done and the agent has been quiet for quietMs (audio time).
    const quiet = wall(opts.quietMs ?? 4000);
    const maxMs = wall(opts.maxCallMs ?? 180000);
    let callerDoneAt: number | undefined;
    while (!call.isClosed) {
      const now = call.nowMs();
      const bargeInPending = !!opts.bargeIn && bargeInAtMs === undefined && replyStartsMs.length < 2;
      if (call.callerIdle && !(bargeInTimer && bargeInAtMs === undefined)) callerDoneAt ??= now;
      else callerDoneAt = undefined;
      const agentQuiet = call.bufferedBytes === 0 && now - lastMediaAtMs >= quiet && now - (call.playoutLog.at(-1)?.endMs ?? -Infinity) >= quiet;
      const callerQuiet = callerDoneAt !== undefined && now - callerDoneAt >= quiet;
      // A barge-in still waiting for the second reply keeps the call up until the cap or quiet on both sides.
      const answered = replyStartsMs.length >= (opts.minReplies ?? 0);
      if ((agentQuiet && callerQuiet && answered && (!bargeInPending || now - callerDoneAt! >= 2 * quiet)) || now >= maxMs) break;
      await sleep(20);
    }
    clearTimeout(bargeInTimer);
    if (!call.isClosed) {
      log(`caller hangs up at ${Math.round(call.nowMs())} ms`);
      await call.hangup();
    }
  }
  const closed = await call.closed;
  const durationMs = call.nowMs();
  const played = call.played(true);
  const playedMs = call.played().length / 8;

  let outPath: string | undefined;
  if (opts.outPath && played.length > 0) {
    mkdirSync(dirname(opts.outPath), { recursive: true });
    writeWav(opts.outPath, mulawToSamples(played), 8000);
    outPath = opts.outPath;
  }

  let transcript: TranscriptTurnView[] | undefined;
  let transcriptError: string | undefined;
  if (opts.adminApiKey && call.webhook.status === 200) {
    try {
      await sleep(300); // let the server record the last turns after the stream ended
      const res = await fetch(`${opts.url.replace(/\/+$/, '')}/api/calls/${call.callSid}`, { headers: { Authorization: `Bearer ${opts.adminApiKey}` } });
      if (res.ok) transcript = ((await res.json()) as { turns?: TranscriptTurnView[] }).turns ?? [];
      else transcriptError = `GET /api/calls/${call.callSid} answered ${res.status}`;
    } catch (err) {
      transcriptError = (err as Error).message;
    }
  }
  if (own) await carrier.close();

  return {
    callSid: call.callSid,
    streamSid: call.streamSid,
    errors: call.errors,
    notes: call.notes,
    closed,
    endReason: call.endReason,
    webhookLatencyMs: call.webhook.latencyMs,
    webhookStatus: call.webhook.status,
    firstAgentAudioMs: call.firstMediaAtMs,
    replyStartsMs,
    bargeInAtMs,
    marks: call.marks,
    clears: call.clears,
    violations: call.violations,
    playedMs,
    durationMs,
    outPath,
    transcript,
    transcriptError,
    call,
  };
}

/**
 * The soak's load (scripts/soak.ts): keeps N emulated calls in flight against the stack of
 * ./soak-stack.ts, a finished call replaced at once by a new one, until a deadline. Calls rotate
 * over the four routes, Twilio and Exotel × ElevenLabs and OpenAI (`?provider=openai`). Each call
 * is the simulator's scenario (./simulate-call.ts): greeting, the caller's booking request, a tool
 * call (`check_availability`: the OpenAI model takes it as a scripted step after the caller's
 * first turn; on ElevenLabs it is sent as a `client_tool_call` when the caller starts speaking),
 * the agent's answer, a barge-in 1.5 s into it, the answer to that, then the caller hangs up (once
 * three agent replies have started and the line has been quiet for 2 s of audio).
 *
 * "Spoken" turns are what the scripted agents said and transcribed (agent responses and caller
 * transcripts, counted by the provider emulators); "stored" turns are what the server holds for
 * the same calls (`GET /api/calls/:callSid`, admin key).
 */
import type { EmulatedConversation } from '../../test/emulators/elevenlabs';
import { FIXTURES } from '../../test/emulators/agent-script';
import { exotelId, exotelPlacer } from './exotel-call';
import { loadCallerWav, runSimulatedCall, type SimCall } from './simulate-call';
import { SOAK_ADMIN_KEY, SOAK_AUTH_TOKEN, SOAK_PUBLIC_URL, type SoakStack } from './soak-stack';

export type Route = 'twilio/elevenlabs' | 'twilio/openai' | 'exotel/elevenlabs' | 'exotel/openai';
const ROUTES: Route[] = ['twilio/elevenlabs', 'twilio/openai', 'exotel/elevenlabs', 'exotel/openai'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counters of the whole run so far. */
export interface LoadCounts {
  started: number;
  completed: number;
  /** Calls that did not run their scenario (webhook refused, stream error, protocol violation, no barge-in…). */
  failed: number;
  inFlight: number;
  byRoute: Record<Route, number>;
  bargeIns: number;
  toolCalls: number;
  toolResults: number;
  /** Turns the scripted agents said and transcribed, all calls so far. */
  spoken: number;
}

export class SoakLoad {
  readonly sids: string[] = [];
  /** The route of each call placed. */
  readonly routes = new Map<string, Route>();
  readonly failures: string[] = [];
  private readonly live = new Set<string>();
  private readonly finishedTurns = new Map<string, number>();
  private readonly mapped = new WeakSet<EmulatedConversation>();
  private readonly audio = loadCallerWav(`${FIXTURES}/caller-booking-8k.wav`);
  private readonly bargeIn = loadCallerWav(`${FIXTURES}/caller-bargein-8k.wav`);
  private elLock: Promise<void> = Promise.resolve();
  private next = 0;
  private readonly c = { started: 0, completed: 0, failed: 0, bargeIns: 0, toolCalls: 0, elToolResults: 0, oaToolCalls: 0, oaToolResults: 0, spoken: 0 };
  private readonly byRoute: Record<Route, number> = { 'twilio/elevenlabs': 0, 'twilio/openai': 0, 'exotel/elevenlabs': 0, 'exotel/openai': 0 };
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly stack: SoakStack,
    private readonly speed: number,
  ) {}

  /** Keep `n` calls in flight until `deadline` (epoch ms); resolves once the last call has ended. */
  async run(n: number, deadline: number): Promise<void> {
    const worker = async (w: number) => {
      await sleep((w * 50) / Math.max(1, n / 20)); // spread the first set-ups a little
      while (Date.now() < deadline) await this.one();
    };
    await Promise.all(Array.from({ length: n }, (_, w) => worker(w)));
    await Promise.all([...this.pending]);
  }

  counts(): LoadCounts {
    this.absorb();
    return {
      started: this.c.started,
      completed: this.c.completed,
      failed: this.c.failed,
      inFlight: this.c.started - this.c.completed - this.c.failed,
      byRoute: { ...this.byRoute },
      bargeIns: this.c.bargeIns,
      toolCalls: this.c.toolCalls + this.c.oaToolCalls,
      toolResults: this.c.elToolResults + this.c.oaToolResults,
      spoken: this.c.spoken,
    };
  }

  /**
   * Move what the provider emulators recorded into running totals and empty their lists (a response
   * record keeps its audio alive): turns spoken (agent responses, caller transcripts) and OpenAI tool calls.
   */
  private absorb(): void {
    const { el, oa } = this.stack;
    this.c.spoken += el.seen.agentResponses.splice(0).length + el.seen.userTranscripts.splice(0).length;
    for (const r of oa.seen.responses.splice(0)) {
      if (r.kind === 'audio') this.c.spoken++;
      else if (r.kind === 'tool') this.c.oaToolCalls++;
    }
    this.c.spoken += oa.seen.speech.splice(0).filter((x) => x.type === 'stopped').length;
    this.c.oaToolResults += oa.seen.toolOutputs.splice(0).filter((t) => t.known).length;
  }

  /** Turns the server holds for every call so far (finished calls read once after their end, live ones now). */
  async storedViaApi(): Promise<number> {
    let sum = 0;
    for (const v of this.finishedTurns.values()) sum += v;
    for (const n of await Promise.all([...this.live].map((sid) => this.apiTurns(sid)))) sum += n ?? 0;
    return sum;
  }

  /** Re-read every call's turns through the API (after the last call: nothing in flight). */
  async apiTurnsAll(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const sid of this.sids) out.set(sid, (await this.apiTurns(sid)) ?? 0);
    return out;
  }

  /** Drop bookkeeping nobody reads, so the load generator's own memory stays flat over a long run. */
  trim(): void {
    this.absorb();
    const { el, oa } = this.stack;
    for (const list of [oa.seen.clientEvents, oa.seen.items, oa.seen.cancels, oa.seen.truncates, oa.seen.closes, oa.seen.upgrades, oa.seen.sessionUpdates])
      list.length = 0;
    for (const list of [el.seen.requests, el.seen.upgrades, el.seen.inits, el.seen.toolCalls, el.seen.toolResults, el.seen.interruptions, el.seen.closes])
      list.length = 0;
    this.stack.trimLogs();
  }

  private async apiTurns(sid: string): Promise<number | undefined> {
    const res = await fetch(`${this.stack.server.base}/api/calls/${sid}`, { headers: { Authorization: `Bearer ${SOAK_ADMIN_KEY}` } }).catch(() => undefined);
    if (!res?.ok) return undefined;
    return ((await res.json()) as { turns?: unknown[] }).turns?.length ?? 0;
  }

  private async one(): Promise<void> {
    const route = ROUTES[this.next++ % ROUTES.length]!;
    const [carrierName, provider] = route.split('/') as ['twilio' | 'exotel', 'elevenlabs' | 'openai'];
    const callSid = carrierName === 'exotel' ? exotelId() : undefined;
    const { twilio, exotel } = this.stack;
    const query = provider === 'openai' ? 'provider=openai' : '';
    const place = (sid: string, attach: (c: SimCall) => void): Promise<SimCall> =>
      carrierName === 'exotel'
        ? exotelPlacer({
            carrier: exotel.carrier,
            serverBase: this.stack.server.base,
            publicUrl: SOAK_PUBLIC_URL,
            path: `/inbound?carrier=exotel${query ? `&${query}` : ''}`, // the flow adds &token=
            from: '09876543210',
            to: '08047112345',
          })(sid, attach)
        : twilio.placeCall({
            serverBase: this.stack.server.base,
            publicUrl: SOAK_PUBLIC_URL,
            path: `/inbound${query ? `?${query}` : ''}`,
            callSid: sid,
            from: '+14155550123',
            to: '+15550000000',
            direction: 'inbound',
            speed: this.speed,
          });
    let conv: EmulatedConversation | undefined;
    let sid = callSid ?? '';
    let failure: string | undefined;
    this.c.started++;
    this.byRoute[route]++;
    const result = await runSimulatedCall({
      url: this.stack.server.base,
      publicUrl: SOAK_PUBLIC_URL,
      authToken: SOAK_AUTH_TOKEN,
      carrier: twilio,
      callSid,
      speed: this.speed,
      audio: this.audio,
      bargeIn: this.bargeIn,
      bargeInDelayMs: 1500,
      quietMs: 2000,
      minReplies: 3,
      maxCallMs: 90_000,
      placeCall: async (s, attach) => {
        sid = s;
        this.sids.push(s);
        this.routes.set(s, route);
        this.live.add(s);
        if (provider === 'openai') return place(s, attach);
        const r = await this.withConversation(() => place(s, attach));
        conv = r.conv;
        return r.call;
      },
      log: (line) => {
        if (!conv || !line.startsWith('caller speaks')) return;
        this.c.toolCalls++;
        conv.callTool('check_availability', { date: '2030-01-15', duration_minutes: 60 }).then(
          () => void this.c.elToolResults++,
          (err: Error) => void (failure ??= `tool call: ${err.message}`),
        );
      },
    }).catch((err: Error) => {
      failure = `scenario threw: ${err.message}`;
      return undefined;
    });
    if (result) {
      if (result.errors.length) failure ??= `carrier errors: ${result.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`;
      else if (result.violations.length) failure ??= `protocol violations: ${result.violations.map((v) => `${v.code} ${v.reason}`).join('; ')}`;
      else if (provider === 'elevenlabs' && !conv) failure ??= 'no ElevenLabs conversation opened';
      else if (result.bargeInAtMs === undefined || result.replyStartsMs.length < 3)
        failure ??= `agent replies ${result.replyStartsMs.length} (3 expected), barge-in ${result.bargeInAtMs === undefined ? 'not made' : 'made'}`;
      if (result.bargeInAtMs !== undefined && result.clears.length > 0) this.c.bargeIns++;
      // Forget the finished call in the emulators: a long run must not keep every call's audio.
      const i = twilio.calls.findIndex((c) => c.callSid === result.callSid);
      if (i >= 0) twilio.calls.splice(i, 1);
      const rec = exotel.carrier.findCall(result.callSid);
      if (rec) void rec.done.then(() => exotel.carrier.calls.splice(exotel.carrier.calls.indexOf(rec), 1));
    }
    if (failure) {
      this.c.failed++;
      if (this.failures.length < 50) this.failures.push(`${route} ${sid}: ${failure}`);
    } else this.c.completed++;
    // Its stored turns, read once the server has recorded the end.
    const read = sleep(1000)
      .then(() => this.apiTurns(sid))
      .then((n) => {
        this.finishedTurns.set(sid, n ?? 0);
        this.live.delete(sid);
      });
    this.pending.add(read);
    void read.finally(() => this.pending.delete(read));
  }

  /**
   * ElevenLabs set-ups one at a time, so the conversation that opens is this call's: the emulator
   * names conversations by opening order only ("newest open"), and the tool call must reach the
   * right one.
   */
  private async withConversation(place: () => Promise<SimCall>): Promise<{ call: SimCall; conv?: EmulatedConversation }> {
    const prev = this.elLock;
    let release!: () => void;
    this.elLock = new Promise((r) => (release = r));
    await prev;
    try {
      const call = await place();
      for (const end = Date.now() + 10_000; Date.now() < end && !call.isClosed; await sleep(5)) {
        const c = this.stack.el.conversation();
        if (c && !this.mapped.has(c)) {
          this.mapped.add(c);
          return { call, conv: c };
        }
      }
      return { call };
    } finally {
      release();
    }
  }
}

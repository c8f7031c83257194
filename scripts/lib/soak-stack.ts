/**
 * What the soak (scripts/soak.ts) runs against: the real server (`node --import tsx src/index.ts`,
 * test/helpers/server-process.ts) as a child process on an embedded store, and in this process the
 * emulators of its peers: the Twilio carrier (+ REST), the Exotel carrier (+ Connect API), and both
 * providers with the scripted agent (ElevenLabs ConvAI, OpenAI Realtime). Also reads the server's
 * process figures from `GET /metrics` (prom-client default metrics, prefix `callbridge_`, enabled by
 * src/index.ts) and, once it has exited, the turns its store holds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded-store';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../../test/emulators/elevenlabs';
import { startOpenAiEmulator, type OpenAiEmulator, type ToolStep } from '../../test/emulators/openai-realtime';
import { TwilioCarrierEmulator } from '../../test/emulators/twilio-carrier';
import { startTwilioRestMock, type TwilioRestMock } from '../../test/emulators/twilio-rest';
import { startServerProcess, type LogLine, type ServerProcess } from '../../test/helpers/server-process';
import { startExotelDemo, type ExotelDemo } from './exotel-demo';

export const SOAK_AUTH_TOKEN = '0123456789abcdef0123456789abcdef';
export const SOAK_ACCOUNT_SID = 'AC' + '5'.repeat(32);
export const SOAK_ADMIN_KEY = 'soak-admin-key-0123456789';
export const SOAK_PUBLIC_URL = 'https://soak.callbridge.test';

/** The server's process figures at one moment (from its `/metrics`). */
export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  activeHandles: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets its histogram on each one), ms. */
  eventLoopLagP99Ms: number;
  liveCalls: number;
}

export interface SoakStack {
  server: ServerProcess;
  dataDir: string;
  twilio: TwilioCarrierEmulator;
  exotel: ExotelDemo;
  el: ElevenLabsEmulator;
  oa: OpenAiEmulator;
  /** Scrape `/metrics` (resets the event-loop lag histogram). */
  figures(): Promise<ProcessFigures>;
  /** Log lines at `error` or `fatal`, those at `warn`, and whatever the server wrote to stderr. */
  problems(): { errorLines: LogLine[]; warnLines: LogLine[]; stderr: string };
  /** Forget the server's log lines below `warn` (a long run logs a few lines per call). */
  trimLogs(): void;
  /** SIGTERM the server (drain, store flush) and wait for its exit; then stop the emulators. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A scripted OpenAI tool step that every session takes (a plain step is used once for the whole emulator). */
function everySession(step: Omit<ToolStep, 'used'>): ToolStep {
  return Object.defineProperty({ ...step }, 'used', { get: () => false, set: () => undefined, enumerable: true }) as ToolStep;
}

/** The sum of the samples `name{…} value` of the Prometheus text; NaN when there is none. */
function sample(text: string, name: string): number {
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.length ? values.reduce((a, b) => a + b, 0) : NaN;
}

/**
 * Start every emulator, then the server pointed at them (both carriers configured; ElevenLabs is
 * the default provider, a call asks for OpenAI with `?provider=openai`).
 * @param o.speed pace multiple of every peer's audio (1 = real time).
 * @param o.maxCalls the server's call cap (MAX_CONCURRENT_CALLS) and per-IP limits are set above it.
 * @throws when the server does not listen or its store does not answer within 60 s.
 */
export async function startSoakStack(o: { speed: number; maxCalls: number }): Promise<SoakStack> {
  const el = await startElevenLabsEmulator({ speed: o.speed, replyAfterTool: false, receiveTimeoutMs: 600_000 });
  // The caller's first turn asks for an appointment: the model checks the calendar before it answers.
  const step = everySession({ afterUserTurn: 0, name: 'check_availability', args: { date: '2030-01-15', duration_minutes: 60 } });
  const oa = await startOpenAiEmulator({ speed: o.speed, toolSteps: [step] });
  const twilio = new TwilioCarrierEmulator({ authToken: SOAK_AUTH_TOKEN, accountSid: SOAK_ACCOUNT_SID, speed: o.speed });
  const rest: TwilioRestMock = await startTwilioRestMock({ carrier: twilio, accountSid: SOAK_ACCOUNT_SID, authToken: SOAK_AUTH_TOKEN });
  const exotel = await startExotelDemo({ speed: o.speed, publicUrl: SOAK_PUBLIC_URL, rate: '8000' });
  // Every call in flight listens for its own `call` event on the shared carrier.
  twilio.setMaxListeners(0);
  exotel.carrier.setMaxListeners(0);
  const dataDir = mkdtempSync(join(tmpdir(), 'callbridge-soak-'));
  const limit = String(o.maxCalls * 4 + 100);
  const server = await startServerProcess({
    PORT: '0',
    PUBLIC_URL: SOAK_PUBLIC_URL,
    ADMIN_API_KEY: SOAK_ADMIN_KEY,
    CALL_TOKEN_SECRET: 'soak-call-token-secret-0123456789',
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'info', // start-up waits for the `callbridge listening` line; `trimLogs` keeps warnings and errors only
    TWILIO_ACCOUNT_SID: SOAK_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: SOAK_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: '+15550000000',
    TWILIO_API_BASE: rest.url,
    ELEVENLABS_API_KEY: 'xi-test-key',
    ELEVENLABS_AGENT_ID: 'agent_test',
    ELEVENLABS_API_BASE: el.httpUrl,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_REALTIME_URL: oa.url,
    USE_ELEVENLABS_CONVERSATIONAL_AI: 'true',
    PROVIDER_FAILOVER: 'false',
    ...exotel.env, // with EXOTEL_WEBHOOK_TOKEN, which the emulated flow appends to its applet URLs
    MAX_CONCURRENT_CALLS: limit,
    MAX_MEDIA_SOCKETS_PER_IP: limit,
    MAX_HTTP_INFLIGHT_PER_IP: limit,
    DRAIN_TIMEOUT_S: '5',
    DATA_DIR: dataDir,
  });
  for (const end = Date.now() + 60_000; ;) {
    const ready = await fetch(`${server.base}/ready`).catch(() => undefined);
    if (ready?.ok) break;
    if (Date.now() > end) {
      server.kill();
      throw new Error(`server not ready within 60 s (last ${ready?.status ?? 'no answer'}): ${server.stderr().slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  exotel.simOptions(server.base); // points the Connect API mock at the server

  return {
    server,
    dataDir,
    twilio,
    exotel,
    el,
    oa,
    async figures() {
      const text = await (await fetch(`${server.base}/metrics`)).text();
      return {
        rssBytes: sample(text, 'callbridge_process_resident_memory_bytes'),
        heapUsedBytes: sample(text, 'callbridge_nodejs_heap_size_used_bytes'),
        activeHandles: sample(text, 'callbridge_nodejs_active_handles_total'),
        eventLoopLagP99Ms: sample(text, 'callbridge_nodejs_eventloop_lag_p99_seconds') * 1000,
        liveCalls: sample(text, 'callbridge_calls_active'),
      };
    },
    problems() {
      const level = (l: LogLine) => (typeof l.level === 'number' ? l.level : 0);
      return {
        errorLines: server.logs.filter((l) => level(l) >= 50),
        warnLines: server.logs.filter((l) => level(l) === 40),
        stderr: server.stderr(),
      };
    },
    trimLogs() {
      const kept = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 40);
      server.logs.splice(0, server.logs.length, ...kept);
    },
    async stop() {
      server.child.kill('SIGTERM');
      const exit = await Promise.race([server.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
      if (!exit) server.kill();
      await exotel.close();
      await twilio.close();
      await rest.close();
      await el.close();
      await oa.close();
      return exit ?? { code: null, signal: 'SIGKILL' };
    },
  };
}

/**
 * Turns the embedded store holds per call, read from DATA_DIR once the server has exited (PGlite
 * allows one process per directory). A call the store does not know counts 0.
 */
export async function storedTurns(dataDir: string, callSids: Iterable<string>): Promise<Map<string, number>> {
  const store = new EmbeddedStore(dataDir);
  const out = new Map<string, number>();
  try {
    for (const sid of callSids) out.set(sid, (await store.getCall(sid))?.turns.length ?? 0);
  } finally {
    await store.close();
  }
  return out;
}

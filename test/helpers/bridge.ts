/**
 * Integration harness: the real server on port 0, the Twilio carrier emulator and REST mock, and
 * one provider emulator, all on loopback. Calls are placed exactly as Twilio would place them.
 */
import type { AddressInfo } from 'node:net';
import { buildServer, type CallbridgeServer, type ServerOverrides } from '../../src/app/build-server';
import { mulawToSamples } from '../../src/audio/g711';
import { readWav } from '../../src/audio/wav';
import type { CallRecord } from '../../src/call/call-record';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { FIXTURES } from '../emulators/agent-script';
import { startElevenLabsEmulator, type ElevenLabsEmulator, type ElevenLabsEmulatorOptions } from '../emulators/elevenlabs';
import { startOpenAiEmulator, type OpenAiEmulator, type OpenAiEmulatorOptions } from '../emulators/openai-realtime';
import { TwilioCarrierEmulator, type EmulatedCall, type PlaceCallOptions } from '../emulators/twilio-carrier';
import { startTwilioRestMock, type TwilioRestMock } from '../emulators/twilio-rest';
import { closeInOrder, serverWaits } from './server-waits';
import { TEST_ACCOUNT_SID, TEST_ADMIN_KEY, TEST_AUTH_TOKEN, testConfig } from './config';

export { until } from './server-waits';

export const PUBLIC_URL = 'https://calls.example.test';

export interface BridgeOptions {
  provider: 'elevenlabs' | 'openai';
  /** Start both provider emulators (flag routing, failover); `provider` still sets the env var. */
  both?: boolean;
  /** Passed to buildServer (e.g. a FlagSource the test inspects). */
  server?: ServerOverrides;
  /** Audio pace multiple for every emulator (1 = real time). */
  speed?: number;
  env?: Record<string, string>;
  elevenlabs?: ElevenLabsEmulatorOptions;
  openai?: OpenAiEmulatorOptions;
}

export interface Bridge {
  srv: CallbridgeServer;
  cfg: Config;
  base: string;
  carrier: TwilioCarrierEmulator;
  rest: TwilioRestMock;
  el?: ElevenLabsEmulator;
  oa?: OpenAiEmulator;
  /** Place an inbound call (signed like Twilio). */
  call(opts?: { audio?: Int16Array; signature?: 'valid' | 'forged' | 'missing'; path?: '/inbound' | '/outbound' }): Promise<EmulatedCall>;
  /** GET an admin API path with the bearer key. */
  admin<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  /** Poll until the server has forgotten every live call (ms budget). */
  waitIdle(timeoutMs?: number): Promise<void>;
  /** Wait until the call's final record shows it ended. */
  ended(callSid: string, timeoutMs?: number): Promise<CallRecord>;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

/** 8 kHz PCM16 samples of a fixture WAV in test/fixtures/audio. */
export function fixture(name: string): Int16Array {
  return readWav(`${FIXTURES}/${name}`).samples;
}

/**
 * A Twilio inbound call from +14155550123 to +15550000000 placed at `serverBase` (a server, a server
 * process or a load balancer), the booking request as the caller's speech unless `over` says otherwise.
 */
export function inboundCall(serverBase: string, over: Partial<PlaceCallOptions> = {}): PlaceCallOptions {
  return { serverBase, publicUrl: PUBLIC_URL, path: '/inbound', from: '+14155550123', to: '+15550000000', audio: fixture('caller-booking-8k.wav'), ...over };
}

/** RMS of μ-law bytes decoded to PCM16. */
export function rms(mulaw: Buffer): number {
  const s = mulawToSamples(mulaw);
  let acc = 0;
  for (const v of s) acc += v * v;
  return s.length ? Math.sqrt(acc / s.length) : 0;
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const speed = opts.speed ?? 4;
  const el = opts.provider === 'elevenlabs' || opts.both ? await startElevenLabsEmulator({ speed, ...opts.elevenlabs }) : undefined;
  const oa = opts.provider === 'openai' || opts.both ? await startOpenAiEmulator({ speed, ...opts.openai }) : undefined;
  const carrier = new TwilioCarrierEmulator({ authToken: TEST_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, speed });
  const rest = await startTwilioRestMock({ carrier, accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
  const cfg = testConfig({
    PUBLIC_URL,
    USE_ELEVENLABS_CONVERSATIONAL_AI: String(opts.provider === 'elevenlabs'),
    TWILIO_API_BASE: rest.url,
    ...(el ? { ELEVENLABS_API_BASE: el.httpUrl } : {}),
    ...(oa ? { OPENAI_REALTIME_URL: oa.url } : {}),
    ...opts.env,
  });
  const srv = buildServer(cfg, silentLogger, opts.server);
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;

  const admin = async <T>(path: string) => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    return { status: res.status, body: (await res.json()) as T };
  };

  return {
    srv,
    cfg,
    base,
    carrier,
    rest,
    el,
    oa,
    admin,
    call: (o = {}) => carrier.placeCall(inboundCall(base, { path: o.path ?? '/inbound', audio: o.audio, signature: o.signature })),
    ...serverWaits(srv),
    close: () => closeInOrder([carrier, srv, rest, el, oa]),
  };
}

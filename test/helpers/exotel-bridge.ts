/**
 * Integration harness for Exotel: the real server on port 0, the Exotel carrier emulator (flow with a
 * dynamic Connect applet after the Voicebot applet) and Connect API mock, and one provider emulator,
 * all on loopback.
 */
import type { AddressInfo } from 'node:net';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import type { CallRecord } from '../../src/call/call-record';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { startElevenLabsEmulator, type ElevenLabsEmulator, type ElevenLabsEmulatorOptions } from '../emulators/elevenlabs';
import { ExotelCarrierEmulator, type ExotelCallRecord, type ExotelPlaceCallOptions } from '../emulators/exotel-carrier';
import { startExotelRestMock, type ExotelRestMock } from '../emulators/exotel-rest';
import { startOpenAiEmulator, type OpenAiEmulator, type OpenAiEmulatorOptions } from '../emulators/openai-realtime';
import { PUBLIC_URL } from './bridge';
import { TEST_ADMIN_KEY, testConfig } from './config';
import { closeInOrder, serverWaits } from './server-waits';

export const EXOTEL = { accountSid: 'callbridgetest1', apiKey: 'exo-key-0123', apiToken: 'exo-token-0123456789', callerId: '08047112345', appId: '926' };

export interface ExotelBridgeOptions {
  provider: 'elevenlabs' | 'openai';
  rate?: 8000 | 16000 | 24000;
  speed?: number;
  env?: Record<string, string>;
  elevenlabs?: ElevenLabsEmulatorOptions;
  openai?: OpenAiEmulatorOptions;
  variant?: 'documented' | 'camel';
  /** Ms of caller audio per media message (default 100). */
  frameMs?: number;
}

export interface ExotelBridge {
  srv: CallbridgeServer;
  cfg: Config;
  base: string;
  exotel: ExotelCarrierEmulator;
  rest: ExotelRestMock;
  el?: ElevenLabsEmulator;
  oa?: OpenAiEmulator;
  /** An inbound call through the dynamic applet URL (or `streamUrl` for the static one). */
  call(o?: Partial<ExotelPlaceCallOptions>): Promise<ExotelCallRecord>;
  admin<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  ended(callSid: string, timeoutMs?: number): Promise<CallRecord>;
  waitIdle(timeoutMs?: number): Promise<void>;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

export async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Elevenlabs agent format matching the stream rate: μ-law 8 kHz for 8 kHz (G.711 only), PCM 16 kHz otherwise. */
export function agentFormatFor(rate: number): 'ulaw_8000' | 'pcm_16000' {
  return rate === 8000 ? 'ulaw_8000' : 'pcm_16000';
}

export async function startExotelBridge(opts: ExotelBridgeOptions): Promise<ExotelBridge> {
  const speed = opts.speed ?? 4;
  const rate = opts.rate ?? 8000;
  const fmt = agentFormatFor(rate);
  const el = opts.provider === 'elevenlabs' ? await startElevenLabsEmulator({ speed, inputFormat: fmt, outputFormat: fmt, ...opts.elevenlabs }) : undefined;
  const oa = opts.provider === 'openai' ? await startOpenAiEmulator({ speed, ...opts.openai }) : undefined;
  const exotel = new ExotelCarrierEmulator({
    accountSid: EXOTEL.accountSid,
    speed,
    variant: opts.variant,
    frameMs: opts.frameMs,
    connectUrl: `${PUBLIC_URL}/webhooks/exotel/connect`,
    webhookToken: opts.env?.EXOTEL_WEBHOOK_TOKEN,
  });
  const rest = await startExotelRestMock({ carrier: exotel, accountSid: EXOTEL.accountSid, apiKey: EXOTEL.apiKey, apiToken: EXOTEL.apiToken });
  const cfg = testConfig({
    PUBLIC_URL,
    USE_ELEVENLABS_CONVERSATIONAL_AI: String(opts.provider === 'elevenlabs'),
    EXOTEL_ACCOUNT_SID: EXOTEL.accountSid,
    EXOTEL_API_KEY: EXOTEL.apiKey,
    EXOTEL_API_TOKEN: EXOTEL.apiToken,
    EXOTEL_CALLER_ID: EXOTEL.callerId,
    EXOTEL_APP_ID: EXOTEL.appId,
    EXOTEL_API_BASE: rest.url,
    EXOTEL_SAMPLE_RATE: String(rate),
    TRANSFER_NUMBER: '+919812345678',
    ...(el ? { ELEVENLABS_API_BASE: el.httpUrl } : {}),
    ...(oa ? { OPENAI_REALTIME_URL: oa.url } : {}),
    ...opts.env,
  });
  const srv = buildServer(cfg, silentLogger);
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
  rest.answerWith({ serverBase: base, publicUrl: PUBLIC_URL });

  return {
    srv,
    cfg,
    base,
    exotel,
    rest,
    el,
    oa,
    call: (o = {}) =>
      exotel.placeCall({ serverBase: base, publicUrl: PUBLIC_URL, path: '/inbound?carrier=exotel', from: '09876543210', to: EXOTEL.callerId, ...o }),
    async admin<T>(path: string, init: { method?: string; body?: unknown } = {}) {
      const res = await fetch(base + path, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    ...serverWaits(srv),
    close: () => closeInOrder([exotel, srv, rest, el, oa]),
  };
}

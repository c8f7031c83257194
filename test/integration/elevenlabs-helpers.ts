/**
 * Helpers for the ElevenLabs provider tests: config pointing at the emulator, a call context, an
 * event recorder, and caller audio from the fixtures in any input format.
 */
import { join } from 'node:path';
import { MULAW_8K } from '../../src/audio/format';
import { readWav } from '../../src/audio/wav';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { createElevenLabsConnector, type ElevenLabsConnectorOptions } from '../../src/providers/elevenlabs/connector';
import type { ElevenLabsAudioFormat } from '../../src/providers/elevenlabs/wire';
import type { CallContext, ProviderConnector, ProviderEvent } from '../../src/providers/types';
import { testConfig } from '../helpers/config';
import { FIXTURES } from '../emulators/agent-script';
import { encodeAgentAudio, formatInfo } from '../emulators/elevenlabs-audio';
import { startElevenLabsEmulator, type ElevenLabsEmulator, type ElevenLabsEmulatorOptions } from '../emulators/elevenlabs';

export function elConfig(el: ElevenLabsEmulator, over: Record<string, string> = {}): Config {
  return testConfig({
    ELEVENLABS_API_BASE: el.httpUrl,
    SYSTEM_PROMPT: 'You are the receptionist of Acme Plumbing.',
    FIRST_MESSAGE: 'Hello, Acme Plumbing, how can I help?',
    BUSINESS_NAME: 'Acme Plumbing',
    ...over,
  });
}

export function elConnector(el: ElevenLabsEmulator, opts: ElevenLabsConnectorOptions = {}, over: Record<string, string> = {}): ProviderConnector {
  return createElevenLabsConnector(elConfig(el, over), silentLogger, opts);
}

export function callContext(over: Partial<CallContext> = {}): CallContext {
  return {
    callSid: 'CA' + 'f'.repeat(32),
    carrier: 'twilio',
    direction: 'inbound',
    from: '+15551230000',
    to: '+15550000000',
    carrierFormat: MULAW_8K,
    tools: [],
    ...over,
  };
}

/** Records provider events; `waitFor` resolves with the first (or next) match. */
export class EventLog {
  readonly events: ProviderEvent[] = [];
  private waiters: Array<() => void> = [];

  readonly onEvent = (ev: ProviderEvent): void => {
    this.events.push(ev);
    for (const w of this.waiters.splice(0)) w();
  };

  of<T extends ProviderEvent['type']>(type: T): Extract<ProviderEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ProviderEvent, { type: T }> => e.type === type);
  }

  async waitFor<T extends ProviderEvent['type']>(
    type: T,
    pred: (e: Extract<ProviderEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<ProviderEvent, { type: T }>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.of(type).find(pred);
      if (hit) return hit;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for provider event ${type}; saw ${this.events.map((e) => e.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }
}

/** Poll `check` until it is truthy (state kept by the emulator). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A caller fixture in `format`, cut into 20 ms frames (Twilio's frame size), followed by
 * `silenceMs` of digital silence so the emulator's VAD sees the end of the turn.
 */
export function callerFrames(file: string, format: ElevenLabsAudioFormat, silenceMs = 800): Buffer[] {
  const speech = encodeAgentAudio(readWav(join(FIXTURES, file)).samples, format);
  const silence = encodeAgentAudio(new Int16Array((8000 * silenceMs) / 1000), format);
  const all = Buffer.concat([speech, silence]);
  const frame = 20 * formatInfo(format).bytesPerMs;
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; at += frame) out.push(all.subarray(at, at + frame));
  return out;
}

/** Teardown steps of the current test, run in reverse by `runCleanups` (register it with afterEach). */
export const cleanups: Array<() => Promise<unknown> | void> = [];

export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** An ElevenLabs emulator at 8× speed that is closed after the test. */
export async function emulator(opts: ElevenLabsEmulatorOptions = {}): Promise<ElevenLabsEmulator> {
  const el = await startElevenLabsEmulator({ speed: 8, ...opts });
  cleanups.push(() => el.close());
  return el;
}

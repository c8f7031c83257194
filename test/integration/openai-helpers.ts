/**
 * Helpers for the OpenAI provider tests: config, a call context, an event recorder, fixture audio.
 */
import { join } from 'node:path';
import { MULAW_8K, type AudioFormat } from '../../src/audio/format';
import { samplesToMulaw } from '../../src/audio/g711';
import { readWav } from '../../src/audio/wav';
import { loadConfig, type Config } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { createOpenAiConnector } from '../../src/providers/openai-realtime/connector';
import type { CallContext, ProviderEvent, ProviderLeg } from '../../src/providers/types';
import { FIXTURES } from '../emulators/agent-script';

export function testConfig(over: Record<string, string> = {}): Config {
  return loadConfig({
    PUBLIC_URL: 'https://calls.example.com',
    ADMIN_API_KEY: 'x'.repeat(20),
    CALL_TOKEN_SECRET: 'c'.repeat(20),
    TWILIO_SKIP_SIGNATURE: 'true',
    USE_ELEVENLABS_CONVERSATIONAL_AI: 'false',
    OPENAI_API_KEY: 'sk-test',
    SYSTEM_PROMPT: 'You are the receptionist of Acme Plumbing.',
    FIRST_MESSAGE: 'Hello, thanks for calling. How can I help you today?',
    ...over,
  });
}

export function callContext(over: Partial<CallContext> = {}): CallContext {
  return {
    callSid: 'CA' + '0'.repeat(32),
    carrier: 'twilio',
    direction: 'inbound',
    carrierFormat: MULAW_8K,
    tools: [
      {
        name: 'check_availability',
        description: 'Free slots on a date',
        parameters: { type: 'object', properties: { date: { type: 'string' } }, required: ['date'] },
      },
    ],
    ...over,
  };
}

/** Records provider events and waits for one that matches. */
export class EventLog {
  readonly events: ProviderEvent[] = [];
  private waiters: Array<() => void> = [];

  readonly onEvent = (ev: ProviderEvent): void => {
    this.events.push(ev);
    for (const w of [...this.waiters]) w();
  };

  of<T extends ProviderEvent['type']>(type: T): Array<Extract<ProviderEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<ProviderEvent, { type: T }> => e.type === type);
  }

  waitFor<T extends ProviderEvent['type']>(
    type: T,
    pred: (e: Extract<ProviderEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<ProviderEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const test = () => {
        const hit = this.of(type).find(pred);
        if (!hit) return;
        done();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no '${type}' provider event within ${timeoutMs} ms; saw ${this.events.map((e) => e.type).join(',')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== test);
      };
      this.waiters.push(test);
      test();
    });
  }
}

/** Connect a leg to `url` with the real connector. */
export async function connect(cfg: Config, ctx = callContext(), connectTimeoutMs?: number): Promise<{ leg: ProviderLeg; log: EventLog }> {
  const log = new EventLog();
  const prepared = await createOpenAiConnector(cfg, silentLogger, { connectTimeoutMs }).prepare(ctx);
  const leg = await prepared.connect(ctx, log.onEvent);
  return { leg, log };
}

/** A caller fixture as μ-law 8 kHz bytes. */
export function callerMulaw(file: 'caller-booking-8k.wav' | 'caller-bargein-8k.wav'): Buffer {
  return samplesToMulaw(readWav(join(FIXTURES, file)).samples);
}

/** Send `audio` as 20 ms frames of `format`, all at once (the emulator's VAD runs on the appended clock). */
export function sendFrames(leg: ProviderLeg, audio: Buffer, format: AudioFormat = MULAW_8K): void {
  const frame = (format.sampleRate / 50) * (format.encoding === 'pcm16le' ? 2 : 1);
  for (let off = 0; off < audio.length; off += frame) leg.sendAudio(audio.subarray(off, off + frame));
}

/** μ-law silence for `ms`. */
export function mulawSilence(ms: number): Buffer {
  return Buffer.alloc(ms * 8, 0xff);
}

/**
 * Micro-benchmark of the audio hot path: μ-law encode/decode of a 160-sample (20 ms at 8 kHz)
 * frame and each resampler pair on a 20 ms frame (160 / 320 / 480 samples at 8 / 16 / 24 kHz).
 * 2,000 warm-up iterations, then 20,000 timed; prints µs per frame. Also A-law, the ambience mix of
 * one outbound frame (src/call/outbound-audio.ts), and the CPU cost of pacing 1,000 calls with one
 * timer each versus one shared ticker (src/call/ticker.ts). Figures only, no assertions.
 *
 * Run: npx tsx scripts/bench-audio.ts
 */
import { join } from 'node:path';
import { loadAmbience } from '../src/audio/ambience';
import { alawToSamples, mulawToPcm16, pcm16ToMulaw, mulawToSamples, samplesToAlaw, samplesToMulaw } from '../src/audio/g711';
import { OutboundAudio } from '../src/call/outbound-audio';
import { PlaybackTracker } from '../src/call/playback';
import { createTicker, TICK_MS } from '../src/call/ticker';
import { Resampler, type ResampleRate } from '../src/audio/resample';
import { createConverter } from '../src/audio/convert';

const WARMUP = 2_000;
const TIMED = 20_000;

function bench(label: string, fn: () => unknown): void {
  for (let i = 0; i < WARMUP; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < TIMED; i++) fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / TIMED;
  console.log(`${label.padEnd(34)} ${us.toFixed(2).padStart(7)} µs/frame`);
}

/** 20 ms of a 1037 Hz tone plus a little noise at `rate` Hz. */
function frame(rate: number): Int16Array {
  const n = rate / 50;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(12000 * Math.sin((2 * Math.PI * 1037 * i) / rate) + 500 * (Math.random() - 0.5));
  return out;
}

const pcm8 = frame(8000);
const pcmBuf = Buffer.from(pcm8.buffer, pcm8.byteOffset, pcm8.byteLength);
const mulaw = pcm16ToMulaw(pcmBuf);

bench('μ-law decode Buffer→Buffer (160)', () => mulawToPcm16(mulaw));
bench('μ-law encode Buffer→Buffer (160)', () => pcm16ToMulaw(pcmBuf));
bench('μ-law decode →Int16Array (160)', () => mulawToSamples(mulaw));
bench('μ-law encode Int16Array→ (160)', () => samplesToMulaw(pcm8));
const alaw = samplesToAlaw(pcm8);
bench('A-law decode →Int16Array (160)', () => alawToSamples(alaw));
bench('A-law encode Int16Array→ (160)', () => samplesToAlaw(pcm8));

const ambience = loadAmbience(join(__dirname, '..', 'assets', 'ambience', 'office-murmur-16k.wav'), -20);
const noTicker = { add: () => undefined, remove: () => undefined };
const mixer = new OutboundAudio({
  format: { encoding: 'mulaw', sampleRate: 8000 },
  send: () => undefined,
  playback: new PlaybackTracker(() => performance.now()),
  ambience,
  ticker: noTicker,
});
const passthrough = new OutboundAudio({
  format: { encoding: 'mulaw', sampleRate: 8000 },
  send: () => undefined,
  playback: new PlaybackTracker(() => performance.now()),
  ticker: noTicker,
});
const pcm16k = new OutboundAudio({
  format: { encoding: 'pcm16le', sampleRate: 16000 },
  send: () => undefined,
  playback: new PlaybackTracker(() => performance.now()),
  ambience,
  ticker: noTicker,
});
const frame16 = Buffer.alloc(640, 1);
bench('outbound chunk μ-law, no ambience', () => passthrough.push(mulaw, 'a'));
bench('outbound frame μ-law + ambience mix', () => mixer.push(mulaw, 'a'));
bench('outbound frame PCM16 16k + ambience', () => pcm16k.push(frame16, 'a'));

const rates: ResampleRate[] = [8000, 16000, 24000];
for (const from of rates) {
  for (const to of rates) {
    if (from === to) continue;
    const r = new Resampler(from, to);
    const input = frame(from);
    const out = new Int16Array(r.maxOutput(input.length));
    bench(`resample ${from}→${to} (K=${r.taps}, into)`, () => r.processInto(input, out));
  }
}

const up = createConverter({ encoding: 'mulaw', sampleRate: 8000 }, { encoding: 'pcm16le', sampleRate: 16000 });
const down = createConverter({ encoding: 'pcm16le', sampleRate: 24000 }, { encoding: 'mulaw', sampleRate: 8000 });
const pcm24 = frame(24000);
const pcm24Buf = Buffer.from(pcm24.buffer, pcm24.byteOffset, pcm24.byteLength);
bench('convert mulaw@8000 → pcm16le@16000', () => up(mulaw));
bench('convert pcm16le@24000 → mulaw@8000', () => down(pcm24Buf));

/** CPU ms per second of wall time spent by `calls` no-op pacing callbacks every TICK_MS. */
async function pacingCost(label: string, start: (fn: () => void) => () => void, calls: number): Promise<void> {
  let ticks = 0;
  const stops = Array.from({ length: calls }, () => start(() => void ticks++));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  stops.forEach((stop) => stop());
  const cpuMsPerS = ((cpu.user + cpu.system) / 1000 / wall) * 1000;
  console.log(`${label.padEnd(34)} ${cpuMsPerS.toFixed(1).padStart(7)} CPU ms/s (${Math.round((ticks / wall) * 1000)} callbacks/s)`);
}

async function timers(): Promise<void> {
  await pacingCost(
    `1000 calls, a ${TICK_MS} ms timer each`,
    (fn) => {
      const t = setInterval(fn, TICK_MS);
      return () => clearInterval(t);
    },
    1000,
  );
  const shared = createTicker();
  await pacingCost(
    `1000 calls, one shared ${TICK_MS} ms ticker`,
    (fn) => {
      shared.add(fn);
      return () => shared.remove(fn);
    },
    1000,
  );
}
void timers();

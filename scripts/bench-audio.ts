/**
 * Micro-benchmark of the audio hot path: μ-law encode/decode of a 160-sample (20 ms at 8 kHz)
 * frame and each resampler pair on a 20 ms frame (160 / 320 / 480 samples at 8 / 16 / 24 kHz).
 * 2,000 warm-up iterations, then 20,000 timed; prints µs per frame. Figures only, no assertions.
 *
 * Run: npx tsx scripts/bench-audio.ts
 */
import { mulawToPcm16, pcm16ToMulaw, mulawToSamples, samplesToMulaw } from '../src/audio/g711';
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

/**
 * Generates assets/ambience/office-murmur-16k.wav: 3 s of synthetic office murmur (several
 * "voices" of band-passed noise with syllable-rate envelopes, over a low room rumble), PCM16 mono
 * 16 kHz at −20 dBFS RMS. Deterministic (seeded), so the committed file can be re-made exactly.
 * Royalty-free by construction. Run: npx tsx scripts/lib/bench-make-ambience.ts [out.wav]
 */
import { writeWav } from '../../src/audio/wav';

const RATE = 16000;
const SECONDS = 3;
const TARGET_RMS = 32768 * 10 ** (-20 / 20);

/** Mulberry32: a small seeded PRNG in [0, 1). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RBJ band-pass biquad (constant 0 dB peak) over `x`, in place. */
function bandpass(x: Float64Array, f0: number, q: number): void {
  const w = (2 * Math.PI * f0) / RATE;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  const b0 = alpha / a0;
  const a1 = (-2 * Math.cos(w)) / a0;
  const a2 = (1 - alpha) / a0;
  let x1 = 0,
    x2 = 0,
    y1 = 0,
    y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = b0 * x[i]! - b0 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x[i]!;
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

export function makeMurmur(): Int16Array {
  const n = RATE * SECONDS;
  const rand = rng(20261123);
  const mix = new Float64Array(n);
  for (let v = 0; v < 6; v++) {
    const voice = new Float64Array(n);
    for (let i = 0; i < n; i++) voice[i] = rand() * 2 - 1;
    bandpass(voice, 300 + rand() * 900, 1.2);
    bandpass(voice, 500 + rand() * 1500, 0.9);
    const rate = 3 + rand() * 3; // syllables per second
    const phase = rand() * 2 * Math.PI;
    const level = 0.5 + rand();
    for (let i = 0; i < n; i++) {
      const env = Math.max(0, Math.sin((2 * Math.PI * rate * i) / RATE + phase + 0.6 * Math.sin((2 * Math.PI * 0.7 * i) / RATE)));
      mix[i] = mix[i]! + voice[i]! * env * env * level;
    }
  }
  const rumble = new Float64Array(n);
  for (let i = 0; i < n; i++) rumble[i] = rand() * 2 - 1;
  bandpass(rumble, 120, 0.7);
  for (let i = 0; i < n; i++) mix[i] = mix[i]! + rumble[i]! * 0.3;
  let acc = 0;
  for (const v of mix) acc += v * v;
  const scale = TARGET_RMS / Math.sqrt(acc / n);
  return Int16Array.from(mix, (v) => Math.max(-32768, Math.min(32767, Math.round(v * scale))));
}

if (require.main === module) {
  const out = process.argv[2] ?? 'assets/ambience/office-murmur-16k.wav';
  writeWav(out, makeMurmur(), RATE);
  console.log(`wrote ${out}`);
}

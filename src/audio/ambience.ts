/**
 * Background ambience (`BACKGROUND_AUDIO`, `BACKGROUND_GAIN_DB`): a WAV decoded once at start-up,
 * then, once per carrier rate, resampled, gain-scaled and made seamless by crossfading its tail into
 * its head, so it loops without a click. Mixing happens per frame in ../call/outbound-audio.ts.
 *
 * WAV: mono or stereo PCM16 or μ-law (./wav.ts) at 8000, 16000 or 24000 Hz, at least 0.5 s long.
 */
import { readWav } from './wav';
import { Resampler, type ResampleRate } from './resample';

/** The decoded file, at its own rate. */
export interface AmbienceSource {
  readonly path: string;
  /** Samples per second (Hz) of `samples`. */
  readonly sampleRate: ResampleRate;
  /** PCM16 mono samples as recorded (no gain). */
  readonly samples: Int16Array;
  /** Linear gain from `BACKGROUND_GAIN_DB` (10^(dB/20)). */
  readonly gain: number;
}

/** Shortest usable file (ms): the loop seam needs room for its crossfade. */
const MIN_MS = 500;
/** Crossfade at the loop seam (ms), at most a quarter of the file. */
const SEAM_MS = 200;
const RATES: readonly number[] = [8000, 16000, 24000];

/**
 * Read and check an ambience WAV.
 * @param path file path of a WAV (PCM16 or μ-law, mono or stereo, 8000/16000/24000 Hz, ≥ 0.5 s).
 * @param gainDb gain applied when mixing (dB; 0 = as recorded, −20 = a tenth of the amplitude).
 * @throws Error with a readable reason when the file is missing, unreadable, not such a WAV or too short.
 */
export function loadAmbience(path: string, gainDb: number): AmbienceSource {
  const wav = readWav(path);
  if (!RATES.includes(wav.sampleRate)) throw new Error(`sample rate ${wav.sampleRate} Hz (expected 8000, 16000 or 24000)`);
  if ((wav.samples.length * 1000) / wav.sampleRate < MIN_MS) throw new Error(`shorter than ${MIN_MS} ms`);
  return { path, sampleRate: wav.sampleRate as ResampleRate, samples: wav.samples, gain: 10 ** (gainDb / 20) };
}

const loops = new WeakMap<AmbienceSource, Map<number, Int16Array>>();

/**
 * The loop at `rate` Hz: resampled (once per source and rate, then cached), scaled by the gain,
 * with the last `SEAM_MS` crossfaded (equal power, as the noise-like halves are uncorrelated) into
 * the first, and then cut off, so sample `len − 1` flows into sample 0 like any other pair.
 * @returns PCM16 samples at `rate`; play them from index 0 and wrap.
 */
export function ambienceLoop(src: AmbienceSource, rate: ResampleRate): Int16Array {
  let byRate = loops.get(src);
  if (!byRate) loops.set(src, (byRate = new Map()));
  const hit = byRate.get(rate);
  if (hit) return hit;
  const x = src.sampleRate === rate ? src.samples : resampleWhole(src.samples, src.sampleRate, rate);
  const seam = Math.min(Math.round((SEAM_MS * rate) / 1000), x.length >> 2);
  const n = x.length - seam;
  const loop = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let v = x[i]!;
    if (i < seam) {
      const w = ((i + 0.5) / seam) * (Math.PI / 2);
      v = v * Math.sin(w) + x[n + i]! * Math.cos(w);
    }
    const g = v * src.gain;
    loop[i] = g > 32767 ? 32767 : g < -32768 ? -32768 : Math.round(g);
  }
  byRate.set(rate, loop);
  return loop;
}

/** Resample a whole buffer, with the filter's delay removed (zeros flush the tail through). */
function resampleWhole(s: Int16Array, from: ResampleRate, to: ResampleRate): Int16Array {
  const r = new Resampler(from, to);
  const padded = new Int16Array(s.length + Math.ceil((r.delay * from) / to) + 1);
  padded.set(s);
  const y = r.process(padded);
  return y.subarray(r.delay, r.delay + Math.floor((s.length * to) / from));
}

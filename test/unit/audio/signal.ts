/** Signal measures shared by the audio unit tests (not a test file itself). */
import { join } from 'node:path';
import { readWav } from '../../../src/audio/wav';

export const FIXTURES = join(__dirname, '../../fixtures/audio');

/** Speech fixture: PCM16 mono 8 kHz. */
export function speech8k(name = 'caller-booking-8k.wav'): Int16Array {
  const wav = readWav(join(FIXTURES, name));
  if (wav.sampleRate !== 8000) throw new Error(`${name}: expected 8 kHz, got ${wav.sampleRate}`);
  return wav.samples;
}

/** SNR in dB of `test` against `ref` over indices [from, to) of both (same alignment). */
export function snrDb(ref: ArrayLike<number>, test: ArrayLike<number>, from = 0, to = Math.min(ref.length, test.length)): number {
  let s = 0;
  let e = 0;
  for (let i = from; i < to; i++) {
    s += ref[i]! ** 2;
    e += (test[i]! - ref[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

/** `n` samples of amplitude·sin(2π·f·i/rate). */
export function sine(freqHz: number, rate: number, n: number, amplitude = 16000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate));
  return out;
}

/**
 * Least-squares fit of a·sin + b·cos + c at a known frequency over y[from, to).
 * @returns the fitted amplitude and the SNR (dB) of the fit against the residual.
 */
export function sineFit(y: ArrayLike<number>, freqHz: number, rate: number, from: number, to: number): { amplitude: number; snrDb: number } {
  // Normal equations for [sin, cos, 1], solved by Cramer's rule.
  let ss = 0,
    sc = 0,
    s1 = 0,
    cc = 0,
    c1 = 0,
    n = 0,
    ys = 0,
    yc = 0,
    y1 = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freqHz * i) / rate;
    const s = Math.sin(w),
      c = Math.cos(w),
      v = y[i]!;
    ss += s * s;
    sc += s * c;
    s1 += s;
    cc += c * c;
    c1 += c;
    n += 1;
    ys += v * s;
    yc += v * c;
    y1 += v;
  }
  const det3 = (m: number[]) => m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const A = [ss, sc, s1, sc, cc, c1, s1, c1, n];
  const d = det3(A);
  const a = det3([ys, sc, s1, yc, cc, c1, y1, c1, n]) / d;
  const b = det3([ss, ys, s1, sc, yc, c1, s1, y1, n]) / d;
  const c = det3([ss, sc, ys, sc, cc, yc, s1, c1, y1]) / d;
  let sig = 0,
    res = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freqHz * i) / rate;
    const fit = a * Math.sin(w) + b * Math.cos(w) + c;
    sig += fit * fit;
    res += (y[i]! - fit) ** 2;
  }
  return { amplitude: Math.hypot(a, b), snrDb: 10 * Math.log10(sig / res) };
}

/** RMS of y[from, to). */
export function rms(y: ArrayLike<number>, from = 0, to = y.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]! ** 2;
  return Math.sqrt(s / (to - from));
}

/** Feed `x` to `fn` in frames of `frame` samples and concatenate the outputs. */
export function streamFrames(x: Int16Array, frame: number, fn: (chunk: Int16Array) => Int16Array): Int16Array {
  const parts: Int16Array[] = [];
  for (let o = 0; o < x.length; o += frame) parts.push(fn(x.subarray(o, o + frame)));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

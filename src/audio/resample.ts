/**
 * Streaming rational (L/M) polyphase windowed-sinc FIR resampler for PCM16 mono.
 *
 * Supports every pair of 8000, 16000 and 24000 Hz (×2, ×3, ÷2, ÷3, ×3/2, ÷3/2): the ratio
 * reduces to L/M with L, M ∈ {1, 2, 3}. The prototype low-pass runs at the virtual rate L·from
 * and is split into L phases of K taps, so each output costs K multiply-adds and the zero-stuffed
 * samples are never touched.
 *
 * Filter design (Kaiser window method): Oppenheim & Schafer, "Discrete-Time Signal Processing",
 * 3rd ed., §7.6 (β and length formulas, eqs. 7.62–7.63); polyphase decomposition: Crochiere &
 * Rabiner, "Multirate Digital Signal Processing" (1983), ch. 3. The 6 dB cutoff sits a 5% guard
 * band below the lower Nyquist frequency: pass band to 0.85 × Nyquist, stop band (70 dB design,
 * Kaiser β = 6.76) from 1.05 × Nyquist.
 */

/** Sample rates the resampler accepts (Hz). */
export type ResampleRate = 8000 | 16000 | 24000;

const RATES: readonly number[] = [8000, 16000, 24000];

/** Stop-band attenuation the Kaiser design aims for (dB). */
const STOPBAND_DB = 70;
/** Pass-band edge as a fraction of the lower Nyquist frequency (3.4 kHz when 8 kHz is involved). */
const PASS_EDGE = 0.85;
/**
 * Stop-band edge as a fraction of the lower Nyquist frequency. Slightly above 1, so the 6 dB cutoff
 * is 0.95 × Nyquist: only 4.0–4.2 kHz can fold into 3.8–4.0 kHz, above the telephone band, and the
 * top of that band survives a μ-law 8k → 16k → 8k round trip (30 dB on speech; 24 dB with stop at 1.0).
 */
const STOP_EDGE = 1.05;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Design {
  up: number; // L
  down: number; // M
  taps: number; // K, taps per phase
  delay: number; // output samples, an integer by construction
  /** L phases × K coefficients, each phase stored reversed so the inner loop runs forward in time. */
  bank: Float32Array;
}

/**
 * Design the polyphase bank for `from` → `to` Hz.
 * The prototype has odd length 2·M·D + 1 (centre at M·D), so the group delay is exactly D output samples
 * (and D/L·M input samples, also whole since D is a multiple of L).
 */
function design(from: number, to: number): Design {
  const g = gcd(from, to);
  const up = to / g;
  const down = from / g;
  const proto = from * up; // virtual rate (Hz)
  const nyq = Math.min(from, to) / 2;
  const fPass = PASS_EDGE * nyq;
  const fStop = STOP_EDGE * nyq;
  const fc = (fPass + fStop) / 2 / proto; // cycles per proto sample
  const dOmega = (2 * Math.PI * (fStop - fPass)) / proto;
  const A = STOPBAND_DB;
  const beta = A > 50 ? 0.1102 * (A - 8.7) : A >= 21 ? 0.5842 * (A - 21) ** 0.4 + 0.07886 * (A - 21) : 0;
  const minLen = Math.ceil((A - 8) / (2.285 * dOmega)) + 1;
  // A whole number of samples at both rates (a multiple of L output samples), so round trips align.
  const delay = Math.ceil((minLen - 1) / (2 * down * up)) * up;
  const len = 2 * down * delay + 1;
  const centre = down * delay;
  const taps = Math.ceil(len / up);

  const h = new Float64Array(up * taps); // zero-padded past `len`
  const i0b = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < len; n++) {
    const t = n - centre;
    const r = t / centre;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    const x = 2 * fc * t;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    h[n] = 2 * fc * sinc * w;
    sum += h[n]!;
  }
  // Unity DC gain at the output: zero-stuffing divides the level by L, so the prototype sums to L.
  const bank = new Float32Array(up * taps);
  for (let p = 0; p < up; p++) {
    for (let k = 0; k < taps; k++) bank[p * taps + (taps - 1 - k)] = (h[p + up * k]! * up) / sum;
  }
  return { up, down, taps, delay, bank };
}

/** Round half away from zero and clamp to Int16 (the typed-array store truncates toward zero). */
function toInt16(v: number): number {
  return v >= 32767 ? 32767 : v <= -32768 ? -32768 : v < 0 ? v - 0.5 : v + 0.5;
}

/**
 * Four outputs of one phase whose windows start at s0, s0+M, s0+2M, s0+3M; written at o, o+L, o+2L, o+3L.
 * One coefficient load feeds four independent accumulators.
 */
function stride4(bank: Float32Array, c: number, K: number, x: Float32Array, s0: number, M: number, out: Int16Array, o: number, L: number): void {
  const s1 = s0 + M;
  const s2 = s1 + M;
  const s3 = s2 + M;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let k = 0; k < K; k++) {
    const h = bank[c + k]!;
    a0 += h * x[s0 + k]!;
    a1 += h * x[s1 + k]!;
    a2 += h * x[s2 + k]!;
    a3 += h * x[s3 + k]!;
  }
  out[o] = toInt16(a0);
  out[o + L] = toInt16(a1);
  out[o + 2 * L] = toInt16(a2);
  out[o + 3 * L] = toInt16(a3);
}

/** As `stride4` with M = 1: the windows overlap, so each input is loaded once and slid through registers. */
function slide4(bank: Float32Array, c: number, K: number, x: Float32Array, s0: number, out: Int16Array, o: number, L: number): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let x0 = x[s0]!;
  let x1 = x[s0 + 1]!;
  let x2 = x[s0 + 2]!;
  for (let k = 0; k < K; k++) {
    const h = bank[c + k]!;
    const x3 = x[s0 + k + 3]!;
    a0 += h * x0;
    a1 += h * x1;
    a2 += h * x2;
    a3 += h * x3;
    x0 = x1;
    x1 = x2;
    x2 = x3;
  }
  out[o] = toInt16(a0);
  out[o + L] = toInt16(a1);
  out[o + 2 * L] = toInt16(a2);
  out[o + 3 * L] = toInt16(a3);
}

/**
 * A stateful resampler for one mono PCM16 stream.
 *
 * Output sample m is the filtered input at time (m − delay)/toRate s, so streamed frames (e.g.
 * 20 ms: 160 / 320 / 480 samples at 8 / 16 / 24 kHz) produce exactly the same samples as one
 * call on the whole buffer. Output length per call is the number of output instants whose newest
 * input sample has arrived: over a stream, ⌈n·L/M⌉ samples for n input samples.
 *
 * @example
 *   const up = new Resampler(8000, 16000);   // delay: up.delay samples at 16 kHz
 *   const out = up.process(frame160);        // Int16Array(320)
 */
export class Resampler {
  /** Input rate (Hz). */
  readonly fromRate: ResampleRate;
  /** Output rate (Hz). */
  readonly toRate: ResampleRate;
  /** Group delay in output samples: whole, and a whole number of input samples too (0 for identity). */
  readonly delay: number;
  /** Group delay in ms. */
  readonly delayMs: number;
  /** Taps per output sample (multiply-adds per output; 0 for identity). */
  readonly taps: number;

  private readonly up: number;
  private readonly down: number;
  private readonly bank: Float32Array;
  /** Input history: the last K−1 samples, then the current chunk. Grows only for larger chunks. */
  private hist: Float32Array;
  /** Position of the next output on the virtual (L·from) grid, relative to hist[0]. */
  private t: number;

  /**
   * @param fromRate input rate in Hz: 8000, 16000 or 24000.
   * @param toRate output rate in Hz: 8000, 16000 or 24000.
   * @throws RangeError for any other rate.
   */
  constructor(fromRate: ResampleRate, toRate: ResampleRate) {
    if (!RATES.includes(fromRate) || !RATES.includes(toRate)) {
      throw new RangeError(`unsupported resample ${fromRate} → ${toRate} Hz (8000, 16000, 24000 only)`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    if (fromRate === toRate) {
      this.up = this.down = 1;
      this.taps = this.delay = 0;
      this.bank = new Float32Array(0);
    } else {
      const d = design(fromRate, toRate);
      this.up = d.up;
      this.down = d.down;
      this.taps = d.taps;
      this.delay = d.delay;
      this.bank = d.bank;
    }
    this.delayMs = (this.delay * 1000) / toRate;
    this.hist = new Float32Array(Math.max(0, this.taps - 1) + 512);
    this.t = this.start();
  }

  /** Output 0 lines up with input 0, the first sample after the K−1 zeros of history. */
  private start(): number {
    return Math.max(0, this.taps - 1) * this.up;
  }

  /** True when the rates are equal and `process` copies its input. */
  get identity(): boolean {
    return this.taps === 0;
  }

  /** Forget all history (as if newly constructed). */
  reset(): void {
    this.hist.fill(0);
    this.t = this.start();
  }

  /** Upper bound of output samples for an input of `n` samples (size for `processInto`). */
  maxOutput(n: number): number {
    return Math.ceil((n * this.up) / this.down) + 1;
  }

  /**
   * Resample one chunk.
   * @param input PCM16 samples at `fromRate`, any length (0 allowed).
   * @returns a new Int16Array of PCM16 samples at `toRate`.
   */
  process(input: Int16Array): Int16Array {
    if (this.taps === 0) return input.slice();
    const out = new Int16Array(this.maxOutput(input.length));
    const n = this.processInto(input, out);
    return n === out.length ? out : out.slice(0, n);
  }

  /**
   * Resample one chunk into a caller-owned array (no allocation once the history has grown).
   * @param out receives the output; must hold `maxOutput(input.length)` samples.
   * @returns number of samples written to `out`.
   * @throws RangeError if `out` is too small.
   */
  processInto(input: Int16Array, out: Int16Array): number {
    const n = input.length;
    if (out.length < this.maxOutput(n)) throw new RangeError('resampler output array too small');
    if (this.taps === 0) {
      out.set(input);
      return n;
    }
    const K = this.taps;
    const L = this.up;
    const M = this.down;
    const keep = K - 1;
    const len = keep + n;
    if (this.hist.length < len) {
      const grown = new Float32Array(len);
      grown.set(this.hist.subarray(0, keep));
      this.hist = grown;
    }
    const x = this.hist;
    const bank = this.bank;
    for (let i = 0; i < n; i++) x[keep + i] = input[i]!;

    let t = this.t;
    let o = 0;
    // Output at virtual time t needs inputs (i−K+1 … i) with i = ⌊t/L⌋ and phase p = t mod L.
    // Blocks of 4·L outputs: outputs q, q+L, q+2L, q+3L share phase q and sit M inputs apart, so
    // one coefficient load feeds four independent accumulators (about 3× faster in V8 than one
    // output at a time, which is bound by the add latency of a single accumulator chain).
    const span = (4 * L - 1) * M;
    const jump = L * M; // virtual-time step between same-phase outputs
    while (Math.floor((t + span) / L) < len) {
      for (let q = 0; q < L; q++) {
        const tq = t + q * M;
        const i = (tq / L) | 0;
        const c = (tq - i * L) * K;
        const s0 = i - keep;
        if (M === 1) slide4(bank, c, K, x, s0, out, o + q, L);
        else stride4(bank, c, K, x, s0, M, out, o + q, L);
      }
      o += 4 * L;
      t += 4 * jump;
    }
    for (let i = (t / L) | 0; i < len; i = (t / L) | 0) {
      const c = (t - i * L) * K;
      const s = i - keep;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += bank[c + k]! * x[s + k]!;
      out[o++] = toInt16(acc);
      t += M;
    }
    // Keep the newest K−1 samples as history for the next call.
    x.copyWithin(0, n, len);
    this.t = t - n * L;
    return o;
  }
}

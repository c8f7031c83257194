/**
 * G.711 μ-law and A-law ⇄ PCM16 with lookup tables (256-entry decode, 65,536-entry encode per law).
 *
 * Encoding first rounds the 16-bit input to the law's uniform range (14 bits for μ-law, 13 bits for
 * A-law; half-way values round up), then compands with the classic formulas. That is exactly what
 * sox 14.4.2 does (`SOX_SAMPLE_TO_ULAW_BYTE` / `SOX_SAMPLE_TO_ALAW_BYTE`; all 65,536 inputs match with dither
 * off); truncating instead (Sun g711.c on raw input, alawmulaw 6.0.0) differs at quantisation boundaries.
 * Source: ITU-T G.711 (https://www.itu.int/rec/T-REC-G.711) tables 1a/2a; reference code ITU-T G.191
 * STL `g711.c` (https://github.com/openitu/STL), μ-law bias 0x84 and clip 32635; A-law even-bit
 * inversion mask 0x55.
 */

/** μ-law code of silence (PCM 0). */
export const MULAW_SILENCE = 0xff;
/** A-law code of silence (PCM +8, the smallest positive level; G.711 has no zero level). */
export const ALAW_SILENCE = 0xd5;

/** One companding law as tables: `decode[code]` → PCM16, `encode[sample + 32768]` → code. */
export interface G711Law {
  readonly decode: Int16Array;
  readonly encode: Uint8Array;
  /** The code that decodes closest to 0. */
  readonly silence: number;
}

const MU_BIAS = 0x84;
const MU_CLIP = 32635;

function mulawDecodeOne(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MU_BIAS) << exponent) - MU_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function mulawEncodeOne(sample: number): number {
  // Round to 14 bits (floor((s + 2) / 4) · 4), then compand with bias.
  let s = Math.floor((sample + 2) / 4) * 4;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MU_CLIP) s = MU_CLIP;
  s += MU_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function alawDecodeOne(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  let t = (a & 0x0f) << 4;
  if (segment === 0) t += 8;
  else t = (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

function alawEncodeOne(sample: number): number {
  // Round to 13 bits (floor((s + 4) / 8), top clipped to 4095), then compand. Negative values use
  // the one's complement (−v − 1), as G.191 `alaw_compress` and sox do.
  let v = Math.min(4095, Math.floor((sample + 4) / 8));
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  let segment = 0;
  while (segment < 8 && v > (0x20 << segment) - 1) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = (segment < 2 ? v >> 1 : v >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function buildLaw(decodeOne: (c: number) => number, encodeOne: (s: number) => number, silence: number): G711Law {
  const decode = new Int16Array(256);
  for (let c = 0; c < 256; c++) decode[c] = decodeOne(c);
  const encode = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) encode[i] = encodeOne(i - 32768);
  return { decode, encode, silence };
}

/** G.711 μ-law (North America, Japan; what Twilio carries). */
export const MULAW: G711Law = buildLaw(mulawDecodeOne, mulawEncodeOne, MULAW_SILENCE);
/** G.711 A-law (Europe, India, most of the world outside North America). */
export const ALAW: G711Law = buildLaw(alawDecodeOne, alawEncodeOne, ALAW_SILENCE);

/** G.711 bytes (1 a sample) → PCM16 little-endian bytes (2 a sample), as a new Buffer. */
export function g711ToPcm16(law: G711Law, codes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(codes.length * 2);
  const t = law.decode;
  for (let i = 0, at = 0; i < codes.length; i++, at += 2) {
    const v = t[codes[i]!]!;
    out[at] = v & 0xff;
    out[at + 1] = (v >> 8) & 0xff;
  }
  return out;
}

/** PCM16 little-endian bytes → G.711 bytes, as a new Buffer of `floor(pcm.length / 2)` bytes (an odd byte is ignored). */
export function pcm16ToG711(law: G711Law, pcm: Buffer): Buffer {
  const n = pcm.length >> 1;
  const out = Buffer.allocUnsafe(n);
  const t = law.encode;
  for (let i = 0, at = 0; i < n; i++, at += 2) out[i] = t[(((pcm[at]! | (pcm[at + 1]! << 8)) << 16) >> 16) + 32768]!;
  return out;
}

/** G.711 bytes → a new Int16Array of PCM16 samples. */
export function g711ToSamples(law: G711Law, codes: Buffer): Int16Array {
  const out = new Int16Array(codes.length);
  const t = law.decode;
  for (let i = 0; i < codes.length; i++) out[i] = t[codes[i]!]!;
  return out;
}

/** PCM16 samples → a new Buffer of G.711 bytes. */
export function samplesToG711(law: G711Law, samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  const t = law.encode;
  for (let i = 0; i < samples.length; i++) out[i] = t[samples[i]! + 32768]!;
  return out;
}

/** μ-law byte → PCM16 sample value (−32124..32124). */
export function mulawToLinear(code: number): number {
  return MULAW.decode[code & 0xff]!;
}

/** PCM16 sample value (−32768..32767) → μ-law byte. */
export function linearToMulaw(sample: number): number {
  return MULAW.encode[(sample | 0) + 32768]!;
}

/** A-law byte → PCM16 sample value (−32256..32256, never 0). */
export function alawToLinear(code: number): number {
  return ALAW.decode[code & 0xff]!;
}

/** PCM16 sample value (−32768..32767) → A-law byte. */
export function linearToAlaw(sample: number): number {
  return ALAW.encode[(sample | 0) + 32768]!;
}

/** μ-law bytes → PCM16 LE bytes (`mulaw.length * 2`). */
export const mulawToPcm16 = (mulaw: Buffer): Buffer => g711ToPcm16(MULAW, mulaw);
/** PCM16 LE bytes → μ-law bytes (`floor(pcm.length / 2)`; a trailing odd byte is ignored). */
export const pcm16ToMulaw = (pcm: Buffer): Buffer => pcm16ToG711(MULAW, pcm);
/** μ-law bytes → Int16Array of samples. */
export const mulawToSamples = (mulaw: Buffer): Int16Array => g711ToSamples(MULAW, mulaw);
/** Int16Array of samples → μ-law bytes. */
export const samplesToMulaw = (samples: Int16Array): Buffer => samplesToG711(MULAW, samples);
/** A-law bytes → PCM16 LE bytes (`alaw.length * 2`). */
export const alawToPcm16 = (alaw: Buffer): Buffer => g711ToPcm16(ALAW, alaw);
/** PCM16 LE bytes → A-law bytes (`floor(pcm.length / 2)`; a trailing odd byte is ignored). */
export const pcm16ToAlaw = (pcm: Buffer): Buffer => pcm16ToG711(ALAW, pcm);
/** A-law bytes → Int16Array of samples. */
export const alawToSamples = (alaw: Buffer): Int16Array => g711ToSamples(ALAW, alaw);
/** Int16Array of samples → A-law bytes. */
export const samplesToAlaw = (samples: Int16Array): Buffer => samplesToG711(ALAW, samples);

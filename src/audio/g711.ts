/**
 * G.711 μ-law ⇄ PCM16 with lookup tables (256-entry decode, 65,536-entry encode).
 *
 * Encoding rounds the 16-bit input to the codec's 14-bit range before companding, which matches
 * sox bit-exactly (see ../shared/LIBRARIES.md "Audio"); the classic Sun g711.c formula truncates.
 * Source: ITU-T G.711 (https://www.itu.int/rec/T-REC-G.711), bias 0x84, clip 32635.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** μ-law code of silence (PCM 0). */
export const MULAW_SILENCE = 0xff;

function decodeOne(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign ? -magnitude : magnitude;
}

function encodeOne(sample: number): number {
  // Round to 14 bits (the μ-law range is 14-bit) so results match sox, then compand.
  let s = Math.round(sample / 4) * 4;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const DECODE = new Int16Array(256);
for (let c = 0; c < 256; c++) DECODE[c] = decodeOne(c);

const ENCODE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) ENCODE[i] = encodeOne(i - 32768);

/** μ-law byte → PCM16 sample value (−32124..32124). */
export function mulawToLinear(code: number): number {
  return DECODE[code & 0xff]!;
}

/** PCM16 sample value (−32768..32767) → μ-law byte. */
export function linearToMulaw(sample: number): number {
  return ENCODE[(sample | 0) + 32768]!;
}

/**
 * Decode μ-law bytes (1 byte a sample) to PCM16 little-endian bytes (2 bytes a sample).
 * @returns a new Buffer of `mulaw.length * 2` bytes.
 */
export function mulawToPcm16(mulaw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(mulaw.length * 2);
  for (let i = 0; i < mulaw.length; i++) out.writeInt16LE(DECODE[mulaw[i]!]!, i * 2);
  return out;
}

/**
 * Encode PCM16 little-endian bytes to μ-law (a trailing odd byte is ignored).
 * @returns a new Buffer of `floor(pcm.length / 2)` bytes.
 */
export function pcm16ToMulaw(pcm: Buffer): Buffer {
  const n = pcm.length >> 1;
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = ENCODE[pcm.readInt16LE(i * 2) + 32768]!;
  return out;
}

/** Decode μ-law bytes to an Int16Array of samples. */
export function mulawToSamples(mulaw: Buffer): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = DECODE[mulaw[i]!]!;
  return out;
}

/** Encode an Int16Array of samples to μ-law bytes. */
export function samplesToMulaw(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = ENCODE[samples[i]! + 32768]!;
  return out;
}

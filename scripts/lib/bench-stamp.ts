/**
 * Timestamps carried inside 160-byte μ-law bench frames, so latency is measured across processes
 * without a side channel. μ-law passes the bridge untouched on the Twilio ⇄ ElevenLabs `ulaw_8000`
 * path, so the bytes survive. Clock: `process.hrtime.bigint()` (CLOCK_MONOTONIC, one clock for every
 * process on the machine). Layout: bytes 0–3 tag, 4–11 carrier send (ns), 12–19 provider send (ns).
 *
 * The peers never decode or re-encode a whole frame: bytes 0–20 are exactly the first 28 base64
 * characters of a payload (7 groups of 3 bytes), so a stamp is written into, or read out of, a
 * precomputed base64 template in place (`writeStampB64`, `readStampB64`); byte 20 is always 0xff.
 */

export const MEDIA_TAG = 0x43424d44; // "CBMD"
export const GREETING_TAG = 0x43424752; // "CBGR"
/** Base64 characters that hold bytes 0–20 of a frame: the stamp plus one filler byte. */
export const STAMP_B64_CHARS = 28;
/** Filler byte of the frames (μ-law silence). */
export const FILL = 0xff;

export const nowNs = (): bigint => process.hrtime.bigint();

/** Write a tag and two times (ns) into the first 20 bytes of `frame` (≥ 20 bytes). */
export function stampFrame(frame: Buffer, tag: number, carrierNs: bigint, providerNs: bigint): void {
  frame.writeUInt32BE(tag, 0);
  frame.writeBigUInt64BE(carrierNs, 4);
  frame.writeBigUInt64BE(providerNs, 12);
}

/** The stamp of a frame, or undefined when it carries none. */
export function readStamp(frame: Buffer): { tag: number; carrierNs: bigint; providerNs: bigint } | undefined {
  if (frame.length < 20) return undefined;
  const tag = frame.readUInt32BE(0);
  if (tag !== MEDIA_TAG && tag !== GREETING_TAG) return undefined;
  return { tag, carrierNs: frame.readBigUInt64BE(4), providerNs: frame.readBigUInt64BE(12) };
}

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const DECODE = new Int16Array(256).fill(-1);
ALPHABET.forEach((c, i) => (DECODE[c] = i));
const scratch = Buffer.alloc(21, FILL);

/** Stamp bytes 0–20 and write them as 28 base64 characters into `out` at byte `at` (ASCII). */
export function writeStampB64(out: Buffer, at: number, tag: number, carrierNs: bigint, providerNs: bigint): void {
  stampFrame(scratch, tag, carrierNs, providerNs);
  for (let i = 0; i < 21; i += 3) {
    const n = (scratch[i]! << 16) | (scratch[i + 1]! << 8) | scratch[i + 2]!;
    out[at++] = ALPHABET[n >> 18]!;
    out[at++] = ALPHABET[(n >> 12) & 63]!;
    out[at++] = ALPHABET[(n >> 6) & 63]!;
    out[at++] = ALPHABET[n & 63]!;
  }
}

/** The stamp in the 28 base64 characters at `src[at]`, or undefined (too short, not base64, or no tag). */
export function readStampB64(src: Buffer, at: number): ReturnType<typeof readStamp> {
  if (at + STAMP_B64_CHARS > src.length) return undefined;
  for (let i = 0, o = 0; i < STAMP_B64_CHARS; i += 4, o += 3) {
    const a = DECODE[src[at + i]!]!;
    const b = DECODE[src[at + i + 1]!]!;
    const c = DECODE[src[at + i + 2]!]!;
    const d = DECODE[src[at + i + 3]!]!;
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    scratch[o] = n >> 16;
    scratch[o + 1] = (n >> 8) & 255;
    scratch[o + 2] = n & 255;
  }
  return readStamp(scratch);
}

/** Write the decimal digits of `n` (≥ 0, integer) into `out` ending before `end`, in exactly `width` bytes. */
export function writeDigits(out: Buffer, end: number, width: number, n: number): void {
  for (let i = 1; i <= width; i++) {
    out[end - i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** Number of decimal digits of `n` (≥ 0, integer). */
export function digitsOf(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

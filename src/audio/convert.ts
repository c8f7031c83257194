/**
 * Stateful audio converters between the formats that cross the carrier ⇄ provider seam.
 *
 * Fewest steps: identical formats pass through untouched; μ-law ⇄ PCM16 at one rate is a table
 * lookup (ITU-T G.711, see ./g711.ts); a rate change decodes to PCM16 samples, resamples
 * (./resample.ts, polyphase windowed-sinc) and encodes. μ-law and A-law use the same table path.
 */
import { CallbridgeError } from '../errors';
import { formatLabel, sameFormat, type AudioFormat } from './format';
import { ALAW, MULAW, type G711Law } from './g711';
import { Resampler } from './resample';

/**
 * Converts one chunk of audio in the `from` format to the `to` format, keeping state between calls
 * (resampler history; a trailing odd PCM16 byte carried to the next chunk).
 *
 * Input: bytes of `from` (any length, 0 allowed). Output: bytes of `to`; with a rate change the
 * output lags the input by the resampler's fixed delay (`delayMs`), so chunk durations may differ
 * by a sample. A passthrough converter returns the very same Buffer.
 */
export interface Converter {
  (chunk: Buffer): Buffer;
  /** True when the formats are identical and chunks are returned unchanged. */
  readonly passthrough: boolean;
  /** Fixed delay the conversion adds (ms); 0 without a rate change. */
  readonly delayMs: number;
  /** Drop all state (resampler history, carried byte), e.g. after a barge-in flush. */
  reset(): void;
}

/** Reusable Int16Array scratch that grows and never shrinks. */
class Scratch {
  private a = new Int16Array(1024);
  get(n: number): Int16Array {
    if (this.a.length < n) this.a = new Int16Array(Math.max(n, this.a.length * 2));
    return this.a;
  }
}

/** The G.711 tables of a format, or undefined for PCM16. */
function lawOf(f: AudioFormat): G711Law | undefined {
  return f.encoding === 'mulaw' ? MULAW : f.encoding === 'alaw' ? ALAW : undefined;
}

/**
 * Build a converter from one format to another.
 *
 * @param from format of the chunks passed in (encoding, sample rate in Hz).
 * @param to format of the chunks returned.
 * @returns a stateful `Converter`; use one per direction per call.
 * @throws CallbridgeError `CB_AUDIO_UNSUPPORTED` (category `application`) when a rate is not
 *   8000, 16000 or 24000 Hz.
 */
export function createConverter(from: AudioFormat, to: AudioFormat): Converter {
  if (sameFormat(from, to)) {
    return Object.assign((chunk: Buffer) => chunk, { passthrough: true, delayMs: 0, reset: () => {} });
  }
  let resampler: Resampler | undefined;
  if (from.sampleRate !== to.sampleRate) {
    try {
      resampler = new Resampler(from.sampleRate, to.sampleRate);
    } catch (err) {
      throw new CallbridgeError('CB_AUDIO_UNSUPPORTED', `unsupported audio conversion ${formatLabel(from)} → ${formatLabel(to)}`, 'application', {
        cause: err,
      });
    }
  }
  const inLaw = lawOf(from);
  const outLaw = lawOf(to);
  const decoded = new Scratch();
  const resampled = new Scratch();
  let carry = -1; // a pending low byte of a PCM16 sample split across chunks, or −1

  /** Decode a chunk into `decoded` scratch; returns the sample count. */
  function decode(chunk: Buffer): number {
    if (inLaw) {
      const s = decoded.get(chunk.length);
      const t = inLaw.decode;
      for (let i = 0; i < chunk.length; i++) s[i] = t[chunk[i]!]!;
      return chunk.length;
    }
    const total = chunk.length + (carry >= 0 ? 1 : 0);
    const n = total >> 1;
    const s = decoded.get(n);
    let at = 0;
    let i = 0;
    if (carry >= 0 && n > 0) {
      s[i++] = ((carry | (chunk[0]! << 8)) << 16) >> 16;
      at = 1;
      carry = -1;
    }
    for (; i < n; i++, at += 2) s[i] = ((chunk[at]! | (chunk[at + 1]! << 8)) << 16) >> 16;
    if (at < chunk.length) carry = chunk[at]!; // odd byte left over
    return n;
  }

  function encode(s: Int16Array, n: number): Buffer {
    if (outLaw) {
      const out = Buffer.allocUnsafe(n);
      const t = outLaw.encode;
      for (let i = 0; i < n; i++) out[i] = t[s[i]! + 32768]!;
      return out;
    }
    const out = Buffer.allocUnsafe(n * 2);
    for (let i = 0, at = 0; i < n; i++, at += 2) {
      const v = s[i]!;
      out[at] = v & 0xff;
      out[at + 1] = (v >> 8) & 0xff;
    }
    return out;
  }

  const convert = (chunk: Buffer): Buffer => {
    const n = decode(chunk);
    const s = decoded.get(n);
    if (!resampler) return encode(s, n);
    const input = s.subarray(0, n);
    const out = resampled.get(resampler.maxOutput(n));
    const m = resampler.processInto(input, out);
    return encode(out, m);
  };
  return Object.assign(convert, {
    passthrough: false,
    delayMs: resampler?.delayMs ?? 0,
    reset(): void {
      carry = -1;
      resampler?.reset();
    },
  });
}

/**
 * G.711 tables (src/audio/g711.ts) against the ITU-T G.191 STL reference formulas (`g711.c`:
 * `alaw_compress`, `alaw_expand`, `ulaw_compress`, `ulaw_expand`, https://github.com/openitu/STL),
 * over all 256 codes and all 65,536 PCM16 inputs, after sox's rounding of the input to the law's
 * uniform range (13 bits A-law, 14 bits μ-law). alawmulaw 6.0.0 is a second oracle: its decoders
 * match exactly; its A-law encoder truncates instead of rounding (1,147 inputs differ from sox 14.4.2
 * with dither off).
 */
import { alaw } from 'alawmulaw';
import { ALAW, ALAW_SILENCE, MULAW, alawToLinear, alawToPcm16, alawToSamples, linearToAlaw, pcm16ToAlaw, samplesToAlaw } from '../../../src/audio/g711';
import { snrDb, speech8k } from './signal';

/** G.191 `alaw_compress`: 16-bit input, 13 significant bits, one's complement for negatives. */
function ituAlawCompress(x: number): number {
  let ix = x < 0 ? ~x >> 4 : x >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** G.191 `alaw_expand`: code → 16-bit PCM. */
function ituAlawExpand(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 8;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

/** G.191 `ulaw_compress` on a sign-magnitude input (the magnitudes of G.711 table 2a). */
function ituUlawCompress(x: number): number {
  let absno = (Math.abs(x) >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let segno = 1;
  for (let i = absno >> 6; i !== 0; i >>= 1) segno++;
  const high = 8 - segno;
  const low = 0x0f - ((absno >> segno) & 0x0f);
  return (high << 4) | low | (x >= 0 ? 0x80 : 0);
}

/** G.191 `ulaw_expand`: code → 16-bit PCM. */
function ituUlawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const m = ~code;
  const exponent = (m >> 4) & 0x07;
  const step = 4 << (exponent + 1);
  return sign * ((0x80 << exponent) + step * (m & 0x0f) + step / 2 - 4 * 33);
}

/** sox: round half up to `bits` of resolution, clipping the top (SOX_SAMPLE_TO_SIGNED). */
function soxRound(s: number, bits: 13 | 14): number {
  const q = 1 << (16 - bits);
  return Math.min((1 << (bits - 1)) - 1, Math.floor((s + q / 2) / q)) * q;
}

function mismatches(f: (i: number) => boolean, from: number, to: number): number[] {
  const bad: number[] = [];
  for (let i = from; i <= to; i++) if (!f(i)) bad.push(i);
  return bad;
}

describe('G.711 against the ITU-T G.191 reference formulas', () => {
  it('A-law decodes all 256 codes exactly as alaw_expand and alawmulaw do', () => {
    expect(mismatches((c) => ALAW.decode[c] === ituAlawExpand(c), 0, 255)).toEqual([]);
    expect(mismatches((c) => alawToLinear(c) === alaw.decodeSample(c), 0, 255)).toEqual([]);
    expect(alawToLinear(ALAW_SILENCE)).toBe(8);
  });

  it('A-law encodes all 65,536 inputs exactly as alaw_compress on the sox-rounded input', () => {
    expect(mismatches((s) => linearToAlaw(s) === ituAlawCompress(soxRound(s, 13)), -32768, 32767)).toEqual([]);
    // alawmulaw truncates: it differs only where rounding moves the input across a decision level.
    const differ = mismatches((s) => linearToAlaw(s) === (alaw.encodeSample(s) & 0xff), -32768, 32767);
    expect(differ.length).toBe(1147);
  });

  it('μ-law decodes all 256 codes and encodes all 65,536 inputs exactly as ulaw_expand / ulaw_compress', () => {
    expect(mismatches((c) => MULAW.decode[c] === ituUlawExpand(c), 0, 255)).toEqual([]);
    expect(mismatches((s) => MULAW.encode[s + 32768] === ituUlawCompress(soxRound(s, 14)), -32768, 32767)).toEqual([]);
  });

  it('A-law re-encodes every decoded level to its own code (the tables are mutually consistent)', () => {
    // Codes 0x55/0xD5 are ±8: both round-trip; every code is a fixed point of encode∘decode.
    expect(mismatches((c) => linearToAlaw(alawToLinear(c)) === c, 0, 255)).toEqual([]);
  });

  it('A-law round-trips the speech fixture with SNR ≥ 35 dB and the Buffer helpers agree', () => {
    const x = speech8k();
    const codes = samplesToAlaw(x);
    const snr = snrDb(x, alawToSamples(codes));
    expect(snr).toBeGreaterThanOrEqual(35);
    const pcm = alawToPcm16(codes);
    expect(pcm.length).toBe(codes.length * 2);
    for (let i = 0; i < codes.length; i += 97) expect(pcm.readInt16LE(2 * i)).toBe(alawToLinear(codes[i]!));
    expect(pcm16ToAlaw(Buffer.concat([pcm, Buffer.from([7])])).equals(codes)).toBe(true);
  });
});

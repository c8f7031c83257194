/**
 * G.711 μ-law tables (src/audio/g711.ts) against alawmulaw 6.0.0 as the oracle.
 * alawmulaw truncates to 14 bits before companding; ours rounds (as sox does), so encodes may
 * differ by one quantisation step at segment boundaries, never more.
 */
import { mulaw } from 'alawmulaw';
import { linearToMulaw, mulawToLinear, mulawToPcm16, mulawToSamples, pcm16ToMulaw, samplesToMulaw, MULAW_SILENCE } from '../../../src/audio/g711';
import { snrDb, speech8k } from './signal';

/** Signed position of a code on the quantiser's level ladder (+0 and −0 both map to 0). */
/** alawmulaw's encodeSample returns ~code unmasked (a negative int); its encode() masks via Uint8Array. */
const oracleEncode = (s: number): number => mulaw.encodeSample(s) & 0xff;

function level(code: number): number {
  const u = ~code & 0xff;
  const magnitude = u & 0x7f; // exponent·16 + mantissa grows with |value|
  return u & 0x80 ? -magnitude : magnitude;
}

describe('G.711 μ-law', () => {
  it('decodes all 256 codes exactly as alawmulaw does', () => {
    const mismatches: number[] = [];
    for (let c = 0; c < 256; c++) if (mulawToLinear(c) !== mulaw.decodeSample(c)) mismatches.push(c);
    expect(mismatches).toEqual([]);
    expect(mulawToLinear(MULAW_SILENCE)).toBe(0);
  });

  it('encodes all 65,536 inputs within one code step of alawmulaw, only at quantisation boundaries', () => {
    let differ = 0;
    let worstStep = 0;
    let ourErr = 0;
    let theirErr = 0;
    for (let s = -32768; s <= 32767; s++) {
      const ours = linearToMulaw(s);
      const theirs = oracleEncode(s);
      ourErr += Math.abs(mulawToLinear(ours) - s);
      theirErr += Math.abs(mulawToLinear(theirs) - s);
      if (ours === theirs) continue;
      differ++;
      worstStep = Math.max(worstStep, Math.abs(level(ours) - level(theirs)));
      // At a boundary: moving the input by ≤ 2 (the 14-bit rounding) reaches the other code.
      const near = [-2, -1, 1, 2].some((d) => s + d >= -32768 && s + d <= 32767 && oracleEncode(s + d) === ours);
      expect(near).toBe(true);
    }
    console.log(
      `μ-law encode vs alawmulaw: ${differ} of 65536 inputs differ, worst ${worstStep} step; ` +
        `mean |error| ours ${(ourErr / 65536).toFixed(2)}, alawmulaw ${(theirErr / 65536).toFixed(2)}`,
    );
    expect(worstStep).toBeLessThanOrEqual(1);
    expect(differ).toBeLessThan(65536 / 100);
    // Rounding (sox) is not nearest-level either: the total error is the same to within 0.1%.
    expect(ourErr).toBeLessThanOrEqual(theirErr * 1.001);
  });

  it('round-trips the speech fixture with SNR ≥ 35 dB', () => {
    const x = speech8k();
    const y = mulawToSamples(samplesToMulaw(x));
    const snr = snrDb(x, y);
    console.log(`μ-law round trip of caller-booking-8k.wav: SNR ${snr.toFixed(1)} dB`);
    expect(snr).toBeGreaterThanOrEqual(35);
  });

  it('Buffer helpers agree with the per-sample functions', () => {
    const codes = Buffer.from(Array.from({ length: 256 }, (_, c) => c));
    const pcm = mulawToPcm16(codes);
    expect(pcm.length).toBe(512);
    for (let c = 0; c < 256; c++) expect(pcm.readInt16LE(2 * c)).toBe(mulawToLinear(c));
    expect(Array.from(mulawToSamples(codes))).toEqual(Array.from(codes, mulawToLinear));

    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    const allBuf = Buffer.alloc(65536 * 2 + 1); // + a trailing odd byte, which is ignored
    for (let i = 0; i < 65536; i++) allBuf.writeInt16LE(all[i]!, 2 * i);
    const enc = pcm16ToMulaw(allBuf);
    expect(enc.length).toBe(65536);
    const viaSamples = samplesToMulaw(all);
    for (let i = 0; i < 65536; i++) {
      if (enc[i] !== linearToMulaw(all[i]!) || viaSamples[i] !== enc[i]) throw new Error(`mismatch at input ${all[i]}`);
    }
  });
});

/** Format converters (src/audio/convert.ts): fewest steps, state across chunks, odd PCM16 bytes. */
import { CallbridgeError } from '../../../src/errors';
import { createConverter } from '../../../src/audio/convert';
import type { AudioFormat } from '../../../src/audio/format';
import { alawToSamples, mulawToSamples, pcm16ToMulaw, samplesToAlaw, samplesToMulaw, mulawToPcm16 } from '../../../src/audio/g711';
import { Resampler } from '../../../src/audio/resample';
import { snrDb, speech8k } from './signal';

const MULAW8: AudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
const PCM8: AudioFormat = { encoding: 'pcm16le', sampleRate: 8000 };
const PCM16: AudioFormat = { encoding: 'pcm16le', sampleRate: 16000 };
const PCM24: AudioFormat = { encoding: 'pcm16le', sampleRate: 24000 };

/** Feed `buf` in chunks of `size` bytes and concatenate the outputs. */
function chunked(buf: Buffer, size: number, fn: (b: Buffer) => Buffer): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) out.push(fn(buf.subarray(o, o + size)));
  return Buffer.concat(out);
}

const pcmBytes = (s: Int16Array) => Buffer.from(s.buffer, s.byteOffset, s.byteLength);
const samplesOf = (b: Buffer) => {
  const s = new Int16Array(b.length >> 1);
  for (let i = 0; i < s.length; i++) s[i] = b.readInt16LE(2 * i);
  return s;
};

describe('createConverter', () => {
  const speechMulaw = samplesToMulaw(speech8k());

  it('passes identical formats through, returning the same Buffer', () => {
    for (const f of [MULAW8, PCM16, PCM24]) {
      const c = createConverter(f, { ...f });
      expect(c.passthrough).toBe(true);
      expect(c.delayMs).toBe(0);
      const chunk = speechMulaw.subarray(0, 161);
      expect(c(chunk)).toBe(chunk);
    }
  });

  it('converts μ-law ⇄ PCM16 at one rate by table lookup, with no delay', () => {
    const dec = createConverter(MULAW8, PCM8);
    const enc = createConverter(PCM8, MULAW8);
    expect(dec.passthrough).toBe(false);
    expect(dec.delayMs).toBe(0);
    const pcm = chunked(speechMulaw, 160, dec);
    expect(pcm.equals(mulawToPcm16(speechMulaw))).toBe(true);
    expect(chunked(pcm, 320, enc).equals(speechMulaw)).toBe(true);
  });

  it('round-trips μ-law 8 kHz → PCM16 16 kHz → μ-law 8 kHz of speech with SNR ≥ 25 dB', () => {
    const up = createConverter(MULAW8, PCM16);
    const down = createConverter(PCM16, MULAW8);
    const wide = chunked(speechMulaw, 160, up); // 20 ms frames
    expect(wide.length).toBe(speechMulaw.length * 4);
    const back = chunked(wide, 640, down);
    const ref = mulawToSamples(speechMulaw);
    const got = mulawToSamples(back);
    const delay = new Resampler(8000, 16000).delay / 2 + new Resampler(16000, 8000).delay; // in 8 kHz samples
    expect(up.delayMs + down.delayMs).toBeCloseTo((delay / 8000) * 1000, 9);
    const snr = snrDb(ref.subarray(0, ref.length - delay), got.subarray(delay), 100);
    console.log(`μ-law 8k → PCM16 16k → μ-law 8k, speech: SNR ${snr.toFixed(1)} dB after ${delay} samples (${up.delayMs + down.delayMs} ms) delay`);
    expect(snr).toBeGreaterThanOrEqual(25);
  });

  it.each([
    [PCM16, MULAW8],
    [PCM24, PCM16],
    [PCM8, PCM24],
    [PCM8, MULAW8],
  ])('PCM16 in odd-length chunks gives the same bytes overall as even ones (%o → %o)', (from, to) => {
    const x = speech8k().subarray(0, 8000);
    const input = from.sampleRate === 8000 ? pcmBytes(x) : pcmBytes(new Resampler(8000, from.sampleRate).process(x));
    const even = chunked(input, from.sampleRate / 25, createConverter(from, to)); // 20 ms
    for (const size of [1, 3, 161, 333]) {
      expect(chunked(input, size, createConverter(from, to)).equals(even)).toBe(true);
    }
  });

  it('reset() drops the carried byte and the resampler history', () => {
    const c = createConverter(PCM16, PCM8);
    const input = pcmBytes(new Resampler(8000, 16000).process(speech8k().subarray(0, 1600)));
    const first = c(input);
    c(Buffer.from([1, 2, 3])); // leaves an odd byte and history behind
    c.reset();
    expect(c(input).equals(first)).toBe(true);
  });

  it('keeps PCM16 output consistent with the resampler on samples', () => {
    const x = speech8k().subarray(0, 4000);
    const viaConverter = samplesOf(createConverter(PCM8, PCM24)(pcmBytes(x)));
    expect(Array.from(viaConverter)).toEqual(Array.from(new Resampler(8000, 24000).process(x)));
    expect(pcm16ToMulaw(pcmBytes(x)).equals(createConverter(PCM8, MULAW8)(pcmBytes(x)))).toBe(true);
  });

  it('converts A-law ⇄ μ-law and A-law ⇄ PCM16 16 kHz by table, matching the per-step helpers', () => {
    const ALAW8: AudioFormat = { encoding: 'alaw', sampleRate: 8000 };
    const x = speech8k().subarray(0, 4000);
    const a = samplesToAlaw(x);
    expect(createConverter(ALAW8, MULAW8)(a).equals(samplesToMulaw(alawToSamples(a)))).toBe(true);
    const wide = createConverter(ALAW8, PCM16)(a);
    expect(Array.from(samplesOf(wide))).toEqual(Array.from(new Resampler(8000, 16000).process(alawToSamples(a))));
    expect(createConverter(PCM8, ALAW8)(pcmBytes(x)).equals(a)).toBe(true);
  });

  it('throws CB_AUDIO_UNSUPPORTED for an unsupported rate', () => {
    const odd = { encoding: 'pcm16le', sampleRate: 11025 } as unknown as AudioFormat;
    expect(() => createConverter(odd, MULAW8)).toThrow(CallbridgeError);
    expect(() => createConverter(PCM16, odd)).toThrow(expect.objectContaining({ code: 'CB_AUDIO_UNSUPPORTED', category: 'application' }));
  });
});

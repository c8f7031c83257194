/**
 * Background ambience (src/audio/ambience.ts) and the outbound framer/mixer (src/call/outbound-audio.ts)
 * through their public interfaces, with a fake clock and ticker (no timing in the assertions).
 */
import { join } from 'node:path';
import { ambienceLoop, loadAmbience } from '../../../src/audio/ambience';
import { mulawToSamples, samplesToMulaw } from '../../../src/audio/g711';
import { encodeWav } from '../../../src/audio/wav';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LEAD_MS, OutboundAudio } from '../../../src/call/outbound-audio';
import { PlaybackTracker } from '../../../src/call/playback';
import type { Ticker } from '../../../src/call/ticker';
import type { CarrierCommand } from '../../../src/carriers/types';

const ASSET = join(__dirname, '../../../assets/ambience/office-murmur-16k.wav');
function rmsOf(s: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < s.length; i++) acc += s[i]! * s[i]!;
  return Math.sqrt(acc / s.length);
}

function fakeTicker(): Ticker & { fire(): void; size: number } {
  const subs = new Set<() => void>();
  return {
    add: (fn) => void subs.add(fn),
    remove: (fn) => void subs.delete(fn),
    fire: () => subs.forEach((fn) => fn()),
    get size() {
      return subs.size;
    },
  };
}

function rig(withAmbience: boolean, gainDb = -6) {
  let now = 1000;
  const sent: CarrierCommand[] = [];
  const ticker = fakeTicker();
  const out = new OutboundAudio({
    format: MULAW_FORMAT,
    send: (c) => sent.push(c),
    playback: new PlaybackTracker(() => now),
    ambience: withAmbience ? loadAmbience(ASSET, gainDb) : undefined,
    ticker,
  });
  return {
    out,
    sent,
    ticker,
    advance: (ms: number) => (now += ms),
    media: () => sent.filter((c) => c.type === 'audio').map((c) => (c as { payload: Buffer }).payload),
  };
}
const MULAW_FORMAT = { encoding: 'mulaw', sampleRate: 8000 } as const;

describe('ambience loop', () => {
  it('is resampled to the carrier rate at the configured gain, with a seam no steeper than the audio itself', () => {
    const src = loadAmbience(ASSET, -6);
    expect(src.sampleRate).toBe(16000);
    const loop = ambienceLoop(src, 8000);
    expect(ambienceLoop(src, 8000)).toBe(loop); // cached: resampled once per rate
    expect(loop.length).toBe(8000 * 3 - 1600); // 3 s less the 200 ms crossfade
    const fileRms = rmsOf(src.samples);
    // Band-limiting to 4 kHz keeps most of a murmur's energy; −6 dB halves the amplitude.
    expect(rmsOf(loop) / fileRms).toBeGreaterThan(0.5 * 0.85);
    expect(rmsOf(loop) / fileRms).toBeLessThan(0.5 * 1.05);
    let maxStep = 0;
    for (let i = 1; i < loop.length; i++) maxStep = Math.max(maxStep, Math.abs(loop[i]! - loop[i - 1]!));
    expect(Math.abs(loop[0]! - loop[loop.length - 1]!)).toBeLessThanOrEqual(maxStep);
  });

  it('refuses a missing file, an unsupported rate and a too-short file with a readable reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amb-'));
    writeFileSync(join(dir, 'cd.wav'), encodeWav(new Int16Array(44100), 44100));
    writeFileSync(join(dir, 'short.wav'), encodeWav(new Int16Array(800), 8000));
    expect(() => loadAmbience(join(dir, 'none.wav'), 0)).toThrow(/ENOENT/);
    expect(() => loadAmbience(join(dir, 'cd.wav'), 0)).toThrow(/44100 Hz/);
    expect(() => loadAmbience(join(dir, 'short.wav'), 0)).toThrow(/shorter than 500 ms/);
  });
});

describe('OutboundAudio', () => {
  it('with ambience, sends 160-byte frames each followed by a mark, holds the remainder and pads it when the item changes', () => {
    const { out, sent } = rig(true);
    out.push(Buffer.alloc(400, 0x10), 'a');
    expect(sent.map((c) => c.type)).toEqual(['audio', 'mark', 'audio', 'mark']);
    out.push(Buffer.alloc(100, 0x20), 'b');
    const media = sent.filter((c) => c.type === 'audio') as { payload: Buffer }[];
    expect(media.map((m) => m.payload.length)).toEqual([160, 160, 160]);
    expect(sent.map((c) => c.type)).toEqual(['audio', 'mark', 'audio', 'mark', 'audio', 'mark']);
  });

  it('with ambience, flushes a held partial frame once the carrier is about to run dry', () => {
    const { out, sent, ticker, advance } = rig(true);
    out.push(Buffer.alloc(240, 0x10), 'a'); // one frame (20 ms) + 80 bytes
    expect(sent.filter((c) => c.type === 'mark')).toHaveLength(1);
    ticker.fire();
    expect(sent.filter((c) => c.type === 'mark')).toHaveLength(2); // < LEAD_MS buffered: flushed at once
    advance(100);
    ticker.fire();
    expect(sent.filter((c) => c.type === 'mark')).toHaveLength(2); // then ambience only
  });

  it('without ambience, subscribes to no ticker', () => {
    const { out, ticker } = rig(false);
    out.push(Buffer.alloc(240, 0x10), 'a');
    expect(ticker.size).toBe(0);
  });

  it('fills silence with ambience-only frames at real-time pace, without marks, continuing the loop sample by sample', () => {
    const { out, sent, ticker, advance, media } = rig(true);
    for (let t = 0; t < 100; t++) {
      ticker.fire();
      advance(10);
    }
    // 1 s of ticks: 1 s of audio plus the lead, nothing more.
    expect(media().length).toBe(1000 / 20 + LEAD_MS / 20);
    expect(sent.some((c) => c.type === 'mark')).toBe(false);
    const loop = ambienceLoop(loadAmbience(ASSET, -6), 8000);
    const got = Buffer.concat(media());
    const want = samplesToMulaw(loop.subarray(0, got.length));
    // After the 10 ms fade-in (80 samples) the stream is exactly the loop, encoded.
    expect(got.subarray(80).equals(want.subarray(80))).toBe(true);
    out.close();
    expect(ticker.size).toBe(0);
  });

  it('mixes ambience under agent frames with saturation, and after clear resumes with a fade-in', () => {
    const { out, sent, ticker, media } = rig(true, -6);
    ticker.fire();
    const before = media().length;
    out.push(Buffer.alloc(160, 0x80), 'a'); // μ-law 0x80 = +32124, near full scale
    const mixed = mulawToSamples(media()[before]!);
    expect(Math.max(...mixed)).toBe(32124); // clipped at the top code, never wrapped to negative
    expect(Math.min(...mixed)).toBeGreaterThan(0);
    out.push(Buffer.alloc(100, 0x80), 'a');
    out.clear();
    expect(sent[sent.length - 1]).toEqual({ type: 'clear' });
    ticker.fire();
    const after = media().slice(before + 1);
    expect(after.length).toBe(LEAD_MS / 20); // the held 100 bytes were dropped; ambience refills the lead
    const resumed = mulawToSamples(after[0]!);
    expect(Math.abs(resumed[0]!)).toBeLessThan(rmsOf(resumed.subarray(80)) / 4); // fades in from ~0
  });
});

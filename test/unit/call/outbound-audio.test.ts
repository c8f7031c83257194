/**
 * The lean outbound path (src/call/outbound-audio.ts) and the mark bookkeeping behind it (src/call/playback.ts),
 * through their public interfaces with a manual clock: provider chunks go out as they arrive with one mark each;
 * a carrier's declared chunk rules (Exotel's, docs/protocols/exotel.md#audio-and-chunking) re-cut and pace them;
 * what the caller heard comes from mark echoes plus the clock.
 */
import { join } from 'node:path';
import { loadAmbience } from '../../../src/audio/ambience';
import { OutboundAudio } from '../../../src/call/outbound-audio';
import { PlaybackTracker } from '../../../src/call/playback';
import { EXOTEL_CHUNKING } from '../../../src/carriers/exotel/codec';
import type { CarrierCommand, OutboundChunking } from '../../../src/carriers/types';
import type { Timer } from '../../../src/clock';

/** A manual clock: timers fire only when `advance` passes them, in due order. */
function manualClock() {
  let now = 0;
  let seq = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  const timer = (id: number): Timer & { id: number } => ({ id, unref: () => undefined });
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number): Timer => {
      timers.push({ at: now + ms, fn, id: ++seq });
      return timer(seq);
    },
    clearTimeout: (t: Timer | undefined) => {
      timers = timers.filter((x) => x.id !== (t as { id?: number } | undefined)?.id);
    },
    get pending() {
      return timers.length;
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        now = next.at;
        next.fn();
      }
      now = end;
    },
  };
}

function rig(format: { encoding: 'mulaw' | 'pcm16le'; sampleRate: 8000 | 16000 }, chunking?: OutboundChunking) {
  const clock = manualClock();
  const sent: CarrierCommand[] = [];
  const playback: PlaybackTracker = new PlaybackTracker(clock.now, () => out.holding);
  const out: OutboundAudio = new OutboundAudio({ format, send: (c) => sent.push(c), playback, chunking, timers: clock });
  const kinds = () => sent.map((c) => (c.type === 'audio' ? c.payload.length : c.type === 'mark' ? 'mark' : 'clear'));
  const marks = () => sent.flatMap((c) => (c.type === 'mark' ? [c.name] : []));
  return { clock, sent, playback, out, kinds, marks };
}
const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

describe('OutboundAudio, lean path', () => {
  it('forwards each provider chunk as it arrives, whole, followed by one mark, with no timer', () => {
    const r = rig(MULAW);
    r.out.push(Buffer.alloc(2400, 0x10), 'a'); // 300 ms
    r.out.push(Buffer.alloc(333, 0x20), 'a'); // any length
    r.out.push(Buffer.alloc(800, 0x30), 'b');
    expect(r.kinds()).toEqual([2400, 'mark', 333, 'mark', 800, 'mark']);
    expect((r.sent[2] as { payload: Buffer }).payload.every((b) => b === 0x20)).toBe(true);
    expect(r.clock.pending).toBe(0);
    expect(r.out.holding).toBe(false);
    expect(r.playback.pendingCount).toBe(3);
    r.out.echoed(r.marks()[2]!);
    expect(r.playback.pendingCount).toBe(0); // echoes come in order: the last one covers the ones before
  });

  it('places the caller within a chunk by the clock, from the last echo, capped at what was sent', () => {
    const r = rig(MULAW);
    r.out.push(Buffer.alloc(800), 'a'); // 100 ms at t = 0
    r.clock.advance(40);
    expect(r.playback.played('a')).toBe(40);
    r.clock.advance(20);
    r.out.push(Buffer.alloc(800), 'a'); // queued behind the first at t = 60
    r.clock.advance(50); // t = 110: the first chunk's echo is late; the estimate stops at its end
    expect(r.playback.played('a')).toBe(100);
    r.out.echoed(r.marks()[0]!); // the second chunk starts now
    r.clock.advance(30);
    expect(r.playback.played('a')).toBe(130);
    r.clock.advance(500);
    expect(r.playback.played('a')).toBe(200);
    expect(r.playback.played('b')).toBe(0);
  });

  it('on clear sends clear first, returns what was heard, and never counts the old marks as played', () => {
    const r = rig(MULAW);
    r.out.push(Buffer.alloc(1600), 'a'); // 200 ms
    const old = r.marks()[0]!;
    r.clock.advance(70);
    expect(r.out.clear()).toEqual({ itemId: 'a', playedMs: 70 });
    expect(r.sent.at(-1)).toEqual({ type: 'clear' });
    expect(r.out.echoed(old)).toBe(false); // Twilio echoes cleared marks at once
    expect(r.playback.pendingCount).toBe(0);
    expect(r.playback.played('a')).toBe(0);
    r.out.push(Buffer.alloc(160), 'b');
    expect(r.out.echoed(r.marks()[1]!)).toBe(true);
    expect(r.playback.played('b')).toBe(20);
  });
});

describe('PlaybackTracker', () => {
  it('starts a chunk after the audio queued before it (ambience included), or when sent if the carrier ran dry', () => {
    let now = 0;
    const p = new PlaybackTracker(() => now);
    p.filler(40); // ambience-only audio ahead of the agent
    const mark = p.sent('a', 100);
    now = 30;
    expect(p.played('a')).toBe(0);
    now = 60;
    expect(p.played('a')).toBe(20);
    expect(p.bufferedMs).toBe(80);
    now = 1000; // played out, not echoed yet: capped at the chunk's length
    expect(p.played('a')).toBe(100);
    expect(p.echoed(mark)).toBe(true);
    expect(p.bufferedMs).toBe(0);
    now = 3000;
    p.sent('b', 200); // the carrier ran dry long ago: plays from now
    now = 3050;
    expect(p.played('b')).toBe(50);
    expect(p.played('a')).toBe(100);
  });
});

describe('OutboundAudio with a carrier that declares chunk rules (Exotel)', () => {
  const PCM8 = { encoding: 'pcm16le', sampleRate: 8000 } as const;
  const PCM16 = { encoding: 'pcm16le', sampleRate: 16000 } as const;

  it('cuts odd-sized chunks into 3.2 KB chunks, one mark each, and pads the rest when the carrier is about to run dry', () => {
    const r = rig(PCM8, { ...EXOTEL_CHUNKING, leadMs: undefined });
    for (let i = 0; i < 5; i++) r.out.push(Buffer.alloc(1234, 1), 'a');
    // 6 170 bytes: one 3 200-byte chunk (as small as Exotel allows: clear lets the chunk playing finish); the rest waits.
    expect(r.kinds()).toEqual([3200, 'mark']);
    expect(r.out.holding).toBe(true);
    expect(r.playback.pendingCount).toBe(2); // one chunk at the carrier, and the held remainder still to be heard
    // The remainder waits until 60 ms before the 200 ms sent would have played.
    r.clock.advance(139);
    expect(r.kinds()).toEqual([3200, 'mark']);
    r.clock.advance(1);
    expect(r.kinds()).toEqual([3200, 'mark', 3200, 'mark']);
    const last = r.sent[2] as { payload: Buffer };
    expect(last.payload.subarray(2970).every((b) => b === 0)).toBe(true); // 2 970 bytes left, zero-padded
    expect(last.payload[2969]).toBe(1);
    expect(r.out.holding).toBe(false);
    r.out.echoed(r.marks()[1]!);
    expect(r.playback.pendingCount).toBe(0); // echoes come in order: the second covers the first
  });

  it('sends the held remainder of an item before the next item; a carrier whose clear stops at once gets chunks up to its maximum', () => {
    const r = rig(PCM8, { ...EXOTEL_CHUNKING, leadMs: undefined, clearFinishesChunk: false });
    r.out.push(Buffer.alloc(1000, 1), 'a');
    r.out.push(Buffer.alloc(200_000, 2), 'b');
    expect(r.kinds()).toEqual([1280, 'mark', 99_840, 'mark', 99_840, 'mark']);
    expect((r.sent[0] as { payload: Buffer }).payload[999]).toBe(1);
    r.clock.advance(20_000);
    expect(r.kinds().slice(6)).toEqual([320, 'mark']); // the last 320 bytes of item b, already a multiple
  });

  it('paces chunks to leadMs ahead of the estimated playout, catches up on mark echoes, and drops everything on clear', () => {
    const r = rig(PCM16, EXOTEL_CHUNKING);
    for (let i = 0; i < 10; i++) r.out.push(Buffer.alloc(3200), 'a'); // 100 ms each
    const audio = () => r.sent.filter((c) => c.type === 'audio').length;
    expect(audio()).toBe(4); // 0, 100, 200 and 300 ms of lead
    r.clock.advance(100);
    expect(audio()).toBe(5);
    r.out.echoed(r.marks()[4]!); // the carrier played everything so far: send up to the lead again
    expect(audio()).toBe(9);
    expect(r.marks()).toHaveLength(9);
    r.out.clear();
    expect(r.sent.at(-1)).toEqual({ type: 'clear' });
    r.clock.advance(5000);
    expect(audio()).toBe(9);
    expect(r.out.holding).toBe(false);
    expect(r.clock.pending).toBe(0);
  });
});

describe('OutboundAudio with ambience on a carrier that declares chunk rules', () => {
  it('frames agent audio and ambience in the carrier’s smallest chunk, a 320-byte multiple, paced to its lead', () => {
    const clock = manualClock();
    const sent: CarrierCommand[] = [];
    let tick: (() => void) | undefined;
    const ticker = { add: (fn: () => void) => void (tick = fn), remove: () => (tick = undefined) };
    const out = new OutboundAudio({
      format: { encoding: 'pcm16le', sampleRate: 8000 },
      send: (c) => sent.push(c),
      playback: new PlaybackTracker(clock.now),
      chunking: EXOTEL_CHUNKING,
      ambience: loadAmbience(join(__dirname, '../../../assets/ambience/office-murmur-16k.wav'), -20),
      ticker,
      timers: clock,
    });
    expect(out.frameBytes).toBe(3200);
    tick!(); // idle: one ambience frame (200 ms at 8 kHz) fills the 40 ms lead
    out.push(Buffer.alloc(8000, 0), 'a'); // 500 ms of agent audio: two whole frames, 100 ms held
    const audio = () => sent.filter((c) => c.type === 'audio').map((c) => (c as { payload: Buffer }).payload.length);
    const marks = () => sent.filter((c) => c.type === 'mark').length;
    expect(audio()).toEqual([3200, 3200]); // the second agent frame waits: 400 ms would be over the 300 ms lead
    expect(marks()).toBe(1);
    clock.advance(100);
    expect(audio()).toEqual([3200, 3200, 3200]);
    expect(marks()).toBe(2);
    clock.advance(500); // the carrier is about to run dry: the held 100 ms is padded into a frame
    tick!();
    expect(audio()).toEqual([3200, 3200, 3200, 3200]);
    expect(marks()).toBe(3);
    out.close();
    expect(tick).toBeUndefined();
  });
});

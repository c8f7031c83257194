/**
 * The Exotel emulator's own rules (docs/protocols/exotel.md#emulator): what it refuses or flags in frames
 * from the server, and its playout of `clear` (the chunk playing finishes, queued ones are dropped).
 */
import { checkExotelFrame } from '../emulators/exotel/outbound-check';
import { Playout } from '../emulators/twilio/playout';

const SID = 'a'.repeat(32);
const media = (bytes: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ event: 'media', stream_sid: SID, media: { payload: Buffer.alloc(bytes).toString('base64') }, ...extra });

describe('Exotel emulator frame checks', () => {
  it('accepts 320-byte multiples up to 100 KB and flags chunks under 3.2 KB', () => {
    expect(checkExotelFrame(media(3200), false, SID)).toMatchObject({ ok: true, notes: [], payloadBytes: 3200 });
    expect(checkExotelFrame(media(640), false, SID)).toMatchObject({ ok: true, notes: ['media chunk of 640 bytes is under 3.2 KB'] });
    expect(checkExotelFrame(media(99_840), false, SID)).toMatchObject({ ok: true });
  });

  it('refuses non-multiples of 320, chunks over 100 KB, a wrong stream_sid, unknown events, binary and non-JSON', () => {
    expect(checkExotelFrame(media(3000), false, SID)).toEqual({ ok: false, reason: 'media chunk of 3000 bytes is not a multiple of 320 (gaps)' });
    expect(checkExotelFrame(media(100_160), false, SID)).toEqual({ ok: false, reason: 'media chunk of 100160 bytes exceeds 100 KB (timeouts)' });
    expect(checkExotelFrame(JSON.stringify({ event: 'clear', stream_sid: 'b'.repeat(32) }), false, SID)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not the active stream/),
    });
    expect(checkExotelFrame(JSON.stringify({ event: 'dtmf' }), false, SID)).toMatchObject({ ok: false, reason: 'unknown event "dtmf"' });
    expect(checkExotelFrame('x', true, SID)).toMatchObject({ ok: false, reason: expect.stringMatching(/binary/) });
    expect(checkExotelFrame('{', false, SID)).toEqual({ ok: false, reason: 'not JSON' });
    expect(checkExotelFrame(JSON.stringify({ event: 'media', stream_sid: SID, media: { payload: 'AA==\n' } }), false, SID)).toMatchObject({
      ok: false,
      reason: 'media.payload is not canonical base64',
    });
  });

  it('accepts a missing stream_sid and notes the camelCase streamSid (Twilio habit)', () => {
    expect(checkExotelFrame(JSON.stringify({ event: 'mark', mark: { name: 'm' } }), false, SID)).toMatchObject({ ok: true, notes: [] });
    expect(checkExotelFrame(JSON.stringify({ event: 'clear', streamSid: SID }), false, SID)).toMatchObject({
      ok: true,
      notes: ['camelCase streamSid instead of stream_sid'],
    });
  });

  it('plays PCM16 at 16 bytes per ms and, on clear, finishes the chunk playing and drops the queued ones', () => {
    const marks: [string, boolean][] = [];
    const p = new Playout(1, 0, { onMark: (n, c) => marks.push([n, c]) }, 1e9, { bytesPerMs: 16, silenceByte: 0, clearKeepsPlayingChunk: true });
    p.enqueueAudio(Buffer.alloc(3200, 1), 0); // 200 ms
    p.enqueueMark('a', 0);
    p.enqueueAudio(Buffer.alloc(3200, 2), 0);
    p.enqueueMark('b', 0);
    p.advance(50); // 50 ms into the first chunk
    const r = p.clear(50);
    expect(r).toEqual({ discardedBytes: 3200, marks: ['b'] });
    expect(marks).toEqual([['b', true]]);
    p.advance(250); // the first chunk finished playing, then its mark was echoed
    expect(marks).toEqual([
      ['b', true],
      ['a', false],
    ]);
    expect(p.played().length).toBe(3200);
    expect(p.bufferedBytes).toBe(0);
  });
});

/**
 * Exotel codec: both field spellings, values as strings or numbers, bad input as counted reasons
 * (never a throw), outbound messages with snake_case stream_sid, and the chunk rules declared on
 * `start` (applied by src/call/outbound-audio.ts, tested in test/unit/call/outbound-audio.test.ts)
 * (docs/protocols/exotel.md#stream-messages, #spellings, #audio-and-chunking;
 * https://developer.exotel.com/docs/agentstream/websocket-protocol).
 */
import { createExotelCodec, EXOTEL_CHUNKING } from '../../src/carriers/exotel/codec';
import { parseRate } from '../../src/carriers/exotel/wire';

const codec = createExotelCodec(8000);
const parse = (m: unknown) => codec.parse(JSON.stringify(m), false);
const SID = 'a00356f0c1d94b2e8f7a6b5c4d3e2f10';
const CALL = '80bfbec2d78bbbf10fb851f4fa165211';

describe('Exotel codec', () => {
  it('parses the documented snake_case start with string values', () => {
    const r = parse({
      event: 'start',
      sequence_number: '1',
      stream_sid: SID,
      start: {
        stream_sid: SID,
        call_sid: CALL,
        account_sid: 'examplecorp1',
        from: '+919876543210',
        to: '+918047491899',
        custom_parameters: { carrier: 'exotel', token: 't0k' },
        media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' },
      },
    });
    expect(r).toEqual({
      ok: true,
      event: {
        type: 'start',
        callSid: CALL,
        streamSid: SID,
        accountSid: 'examplecorp1',
        from: '+919876543210',
        to: '+918047491899',
        direction: 'inbound',
        params: { carrier: 'exotel', token: 't0k' },
        format: { encoding: 'pcm16le', sampleRate: 8000 },
        chunking: { alignBytes: 320, minBytes: 3200, maxBytes: 99_840, leadMs: 300, clearFinishesChunk: true },
      },
    });
    expect(EXOTEL_CHUNKING).toEqual({ alignBytes: 320, minBytes: 3200, maxBytes: 99_840, leadMs: 300, clearFinishesChunk: true });
  });

  it('parses camelCase keys, numeric values, linear16 and a Hz suffix', () => {
    const r = parse({
      Event: 'START',
      sequenceNumber: 1,
      streamSid: SID,
      start: {
        streamSid: SID,
        callSid: CALL,
        accountSid: 'x',
        customParameters: { token: 't' },
        mediaFormat: { encoding: 'linear16', sampleRate: '16000Hz', bitRate: 16 },
      },
    });
    expect(r.ok && r.event.type === 'start' && r.event).toMatchObject({ callSid: CALL, streamSid: SID, format: { sampleRate: 16000 }, params: { token: 't' } });
    expect(r.ok && r.event.type === 'start' && r.event.warnings).toEqual([expect.stringMatching(/differs from the stream URL's sample-rate 8000/)]);
  });

  it('keeps the call on a wrong sample rate (URL rate, warning) and a missing stream id (warning), but needs call_sid', () => {
    const r = parse({ event: 'start', start: { call_sid: CALL, media_format: { encoding: 'audio/x-mulaw', sample_rate: '44100' } } });
    expect(r.ok).toBe(true);
    if (!r.ok || r.event.type !== 'start') return;
    expect(r.event.format).toEqual({ encoding: 'pcm16le', sampleRate: 8000 });
    expect(r.event.streamSid).toBe('');
    expect(r.event.warnings).toEqual([
      'start has no stream_sid: outbound messages are sent without one',
      expect.stringMatching(/"44100" is not 8000, 16000 or 24000 Hz: using 8000 Hz/),
      expect.stringMatching(/"audio\/x-mulaw" is not a PCM label/),
    ]);
    expect(parse({ event: 'start', stream_sid: SID, start: { stream_sid: SID } })).toEqual({ ok: false, reason: 'bad_shape' });
  });

  it('parses media in both spellings and drops odd-length PCM as odd_length', () => {
    const pcm = Buffer.from([1, 0, 2, 0]);
    expect(parse({ event: 'media', stream_sid: SID, media: { chunk: '2', timestamp: '200', payload: pcm.toString('base64') } })).toEqual({
      ok: true,
      event: { type: 'audio', payload: pcm, timestampMs: 200 },
    });
    expect(parse({ Event: 'media', streamSid: SID, Media: { Payload: pcm.toString('base64'), timestamp: 40 } })).toEqual({
      ok: true,
      event: { type: 'audio', payload: pcm, timestampMs: 40 },
    });
    expect(parse({ event: 'media', media: { payload: Buffer.from([1, 2, 3]).toString('base64') } })).toEqual({ ok: false, reason: 'odd_length' });
    expect(parse({ event: 'media', media: {} })).toEqual({ ok: false, reason: 'bad_shape' });
  });

  it('parses dtmf, mark, stop (callended, caller_hangup) and closed; rejects junk with a reason', () => {
    expect(parse({ event: 'dtmf', stream_sid: SID, dtmf: { digit: '5', duration: '100' } })).toEqual({ ok: true, event: { type: 'dtmf', digit: '5' } });
    expect(parse({ event: 'dtmf', dtmf: { digit: 7 } })).toEqual({ ok: true, event: { type: 'dtmf', digit: '7' } });
    expect(parse({ event: 'mark', mark: { name: 'g0-m1' } })).toEqual({ ok: true, event: { type: 'mark', name: 'g0-m1' } });
    expect(parse({ event: 'stop', stop: { call_sid: CALL, reason: 'callended' } })).toEqual({ ok: true, event: { type: 'stop', reason: 'callended' } });
    expect(parse({ event: 'stop', stop: { callSid: CALL, reason: 'caller_hangup' } })).toEqual({ ok: true, event: { type: 'stop', reason: 'caller_hangup' } });
    expect(parse({ event: 'closed' })).toEqual({ ok: true, event: { type: 'stop', reason: 'closed' } });
    expect(parse({ event: 'connected' })).toEqual({ ok: true, event: { type: 'connected' } });
    expect(parse({ event: 'teleport' })).toEqual({ ok: false, reason: 'unknown_event' });
    expect(parse({ nope: 1 })).toEqual({ ok: false, reason: 'bad_shape' });
    expect(codec.parse('not json', false)).toEqual({ ok: false, reason: 'not_json' });
    expect(codec.parse(Buffer.from([1, 2]), true)).toEqual({ ok: false, reason: 'binary' });
  });

  it('serializes media, mark and clear with snake_case stream_sid, omitting it only when start had none', () => {
    expect(JSON.parse(codec.serialize({ type: 'audio', payload: Buffer.from([0, 0]) }, SID))).toEqual({
      event: 'media',
      stream_sid: SID,
      media: { payload: 'AAA=' },
    });
    expect(JSON.parse(codec.serialize({ type: 'mark', name: 'm1' }, SID))).toEqual({ event: 'mark', stream_sid: SID, mark: { name: 'm1' } });
    expect(JSON.parse(codec.serialize({ type: 'clear' }, SID))).toEqual({ event: 'clear', stream_sid: SID });
    expect(JSON.parse(codec.serialize({ type: 'clear' }, ''))).toEqual({ event: 'clear' });
  });

  it('reads sample rates as Exotel writes them', () => {
    expect([parseRate('8000'), parseRate('16000Hz'), parseRate('24 kHz'), parseRate('44100'), parseRate('abc'), parseRate(undefined)]).toEqual([
      8000,
      16000,
      24000,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

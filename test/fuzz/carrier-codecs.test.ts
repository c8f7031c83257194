/**
 * Property tests of the carrier media codecs (src/carriers/twilio/codec.ts, src/carriers/exotel/codec.ts):
 * for any frame, `parse` returns, never throws, and answers a well-typed CarrierEvent or one of the
 * BadFrameReason labels that WS /media-stream counts in `callbridge_bad_frames_total`.
 * Inputs: mutations of real frames of each carrier (every message type, both Exotel spellings),
 * `__proto__` keys, binary and invalid UTF-8 frames, hostile JSON values, truncated and deep JSON.
 * A failure prints fast-check's seed and path: rerun with `{ seed, path }` in the property's options.
 */
import { fc, test } from '@fast-check/jest';
import { createExotelCodec } from '../../src/carriers/exotel/codec';
import { twilioCodec } from '../../src/carriers/twilio/codec';
import type { BadFrameReason, CarrierCodec, CarrierEvent, ParseResult } from '../../src/carriers/types';
import { rawFrames, type RawFrame } from './arbitraries';

const RUNS = 10_000;
const REASONS: readonly BadFrameReason[] = ['binary', 'not_json', 'unknown_event', 'bad_shape', 'oversized', 'odd_length'];
const sid = (p: string) => p + '0123456789abcdef0123456789abcdef';

const TWILIO_FRAMES = [
  { event: 'connected', protocol: 'Call', version: '1.0.0' },
  {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: sid('AC'),
      streamSid: sid('MZ'),
      callSid: sid('CA'),
      tracks: ['inbound'],
      customParameters: { token: 'f'.repeat(32), direction: 'inbound', caller: '+14155550123' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
    streamSid: sid('MZ'),
  },
  {
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '5', payload: Buffer.alloc(160, 0xff).toString('base64') },
    streamSid: sid('MZ'),
  },
  { event: 'mark', sequenceNumber: '4', streamSid: sid('MZ'), mark: { name: 'agent-1' } },
  { event: 'dtmf', streamSid: sid('MZ'), sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } },
  { event: 'stop', sequenceNumber: '6', streamSid: sid('MZ'), stop: { accountSid: sid('AC'), callSid: sid('CA') } },
];

const EXOTEL_FRAMES = [
  { event: 'connected' },
  {
    event: 'start',
    sequence_number: '1',
    stream_sid: 'stream-1',
    start: {
      stream_sid: 'stream-1',
      call_sid: 'call-1',
      account_sid: 'acct',
      from: '09876543210',
      to: '08047112345',
      custom_parameters: { token: 'f'.repeat(32), direction: 'inbound' },
      media_format: { encoding: 'base64', sample_rate: '8000', bit_rate: '128kbps' },
    },
  },
  {
    event: 'start',
    sequenceNumber: 1,
    streamSid: 'stream-2',
    start: {
      streamSid: 'stream-2',
      callSid: 'call-2',
      customParameters: { direction: 'outbound' },
      mediaFormat: { encoding: 'audio/x-raw', sampleRate: 16000 },
    },
  },
  { event: 'media', sequence_number: '2', stream_sid: 'stream-1', media: { chunk: '1', timestamp: '20', payload: Buffer.alloc(320).toString('base64') } },
  { Event: 'media', streamSid: 'stream-2', media: { Payload: Buffer.alloc(640, 1).toString('base64'), timestamp: 40 } },
  { event: 'mark', stream_sid: 'stream-1', mark: { name: 'agent-1' } },
  { event: 'dtmf', stream_sid: 'stream-1', dtmf: { digit: '5', duration: '100' } },
  { event: 'stop', stream_sid: 'stream-1', stop: { call_sid: 'call-1', reason: 'callended' } },
  { event: 'closed' },
];

const isStr = (v: unknown): v is string => typeof v === 'string';

/** The CarrierEvent contract (src/carriers/types.ts), checked field by field. */
function expectTypedEvent(ev: CarrierEvent, evenPcm: boolean): void {
  switch (ev.type) {
    case 'connected':
      expect(Object.keys(ev)).toEqual(['type']);
      return;
    case 'start':
      expect(isStr(ev.callSid) && ev.callSid.length > 0).toBe(true);
      expect(isStr(ev.streamSid)).toBe(true);
      expect(['inbound', 'outbound']).toContain(ev.direction);
      for (const v of [ev.accountSid, ev.from, ev.to]) expect(v === undefined || isStr(v)).toBe(true);
      expect(Object.getPrototypeOf(ev.params)).toBe(Object.prototype);
      for (const [k, v] of Object.entries(ev.params)) expect([k, typeof v]).toEqual([k, 'string']);
      expect(['mulaw', 'pcm16le']).toContain(ev.format.encoding);
      expect([8000, 16000, 24000]).toContain(ev.format.sampleRate);
      expect(ev.warnings === undefined || ev.warnings.every(isStr)).toBe(true);
      return;
    case 'audio':
      expect(Buffer.isBuffer(ev.payload)).toBe(true);
      if (evenPcm) expect(ev.payload.length % 2).toBe(0);
      expect(ev.timestampMs === undefined || Number.isFinite(ev.timestampMs)).toBe(true);
      return;
    case 'mark':
      expect(isStr(ev.name)).toBe(true);
      return;
    case 'dtmf':
      expect(isStr(ev.digit) && ev.digit.length > 0).toBe(true);
      return;
    case 'stop':
      expect(ev.reason === undefined || isStr(ev.reason)).toBe(true);
      return;
    default:
      throw new Error(`untyped event ${JSON.stringify(ev)}`);
  }
}

/** `parse` returned (did not throw) a typed result; binary frames are always refused as `binary`. */
function expectTypedResult(codec: CarrierCodec, [data, isBinary]: RawFrame, evenPcm: boolean): ParseResult {
  const r = codec.parse(data, isBinary);
  if (isBinary) expect(r).toEqual({ ok: false, reason: 'binary' });
  if (r.ok) expectTypedEvent(r.event, evenPcm);
  else expect(REASONS).toContain(r.reason);
  return r;
}

describe('fuzz: carrier media codecs', () => {
  test.prop([rawFrames(TWILIO_FRAMES)], { numRuns: RUNS })(`Twilio codec: ${RUNS} frames, each parsed to a typed event or a counted bad-frame reason`, (f) => {
    expectTypedResult(twilioCodec, f, false);
  });

  test.prop([rawFrames(EXOTEL_FRAMES), fc.constantFrom(8000, 16000, 24000 as const)], { numRuns: RUNS })(
    `Exotel codec: ${RUNS} frames at each URL rate, each parsed to a typed event (even-length PCM only) or a bad-frame reason`,
    (f, rate) => {
      expectTypedResult(createExotelCodec(rate as 8000 | 16000 | 24000), f, true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 4001 }), fc.constantFrom('twilio', 'exotel')], { numRuns: RUNS })(
    `media payloads of any length and bytes (${RUNS}): Twilio passes them on, Exotel refuses odd-length PCM as odd_length`,
    (bytes, carrier) => {
      const payload = Buffer.from(bytes).toString('base64');
      const frame = JSON.stringify({ event: 'media', streamSid: 's', media: { payload, timestamp: '1' } });
      const r = carrier === 'twilio' ? twilioCodec.parse(frame, false) : createExotelCodec().parse(frame, false);
      if (carrier === 'exotel' && bytes.length % 2) expect(r).toEqual({ ok: false, reason: 'odd_length' });
      else expect(r).toEqual({ ok: true, event: { type: 'audio', payload: Buffer.from(bytes), timestampMs: 1 } });
    },
  );

  it('keeps valid frames valid: every seed frame parses', () => {
    for (const m of TWILIO_FRAMES) expect(twilioCodec.parse(JSON.stringify(m), false).ok).toBe(true);
    for (const m of EXOTEL_FRAMES) expect(createExotelCodec().parse(JSON.stringify(m), false).ok).toBe(true);
  });
});

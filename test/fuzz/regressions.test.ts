/**
 * Inputs the property tests of test/fuzz/ found crashing a parser, kept as plain cases so they stay
 * fixed whatever seed the properties run with.
 */
import { createExotelCodec } from '../../src/carriers/exotel/codec';
import { twilioCodec } from '../../src/carriers/twilio/codec';

describe('fuzz regressions', () => {
  // Number() of an object or array whose toString/valueOf is not callable throws a TypeError; in the
  // `ws` message listener that was an uncaught exception, i.e. one media frame could end the process.
  const timestamps = [[{ toString: '' }], { toString: 1, valueOf: 1 }, { valueOf: 'x', toString: 'y' }];

  it.each(timestamps)('an Exotel media frame whose timestamp is %j is audio without a timestamp, not a throw', (timestamp) => {
    const frame = JSON.stringify({ event: 'media', media: { payload: Buffer.alloc(4).toString('base64'), timestamp } });
    expect(createExotelCodec(8000).parse(frame, false)).toEqual({ ok: true, event: { type: 'audio', payload: Buffer.alloc(4), timestampMs: undefined } });
  });

  it.each(timestamps)('a Twilio media frame whose timestamp is %j is audio without a timestamp, not a throw', (timestamp) => {
    const frame = JSON.stringify({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.alloc(3).toString('base64'), timestamp } });
    expect(twilioCodec.parse(frame, false)).toEqual({ ok: true, event: { type: 'audio', payload: Buffer.alloc(3), timestampMs: undefined } });
  });
});

/**
 * Inputs the property tests of test/fuzz/ found crashing a parser, kept as plain cases so they stay
 * fixed whatever seed the properties run with.
 */
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { buildServer } from '../../src/app/build-server';
import { MAX_JSON_DEPTH } from '../../src/app/post-call-webhook';
import { createExotelCodec } from '../../src/carriers/exotel/codec';
import { twilioCodec } from '../../src/carriers/twilio/codec';
import { silentLogger } from '../../src/observability/logger';
import { startBridge, until } from '../helpers/bridge';
import { testConfig } from '../helpers/config';

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

  it('answers 400, not 500, to a signed post-call event nested 12,000 levels deep (it overflowed the stack when stored)', async () => {
    const secret = 'wsec_regression_0123456789';
    const srv = buildServer(testConfig({ ELEVENLABS_WEBHOOK_SECRET: secret }), silentLogger);
    try {
      const post = (deep: string, id: string) => {
        const body = `{"type":"post_call_transcription","event_timestamp":1767603600,"data":{"conversation_id":"${id}","deep":${deep}}}`;
        const t = Math.floor(Date.now() / 1000);
        const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
        return request(srv.app).post('/webhooks/elevenlabs/post-call').type('json').set('ElevenLabs-Signature', `t=${t},v0=${mac}`).send(body);
      };
      const deep = await post('['.repeat(12_000) + ']'.repeat(12_000), 'conv_deep');
      expect(deep.status).toBe(400);
      expect(deep.body.message).toBe(`body is nested deeper than ${MAX_JSON_DEPTH} levels`);
      // At the limit (root + data + 98 arrays = 100 levels) the event is still stored.
      expect((await post('['.repeat(98) + ']'.repeat(98), 'conv_limit')).status).toBe(200);
      expect((await post('['.repeat(99) + ']'.repeat(99), 'conv_over')).status).toBe(400);
    } finally {
      await srv.close();
    }
  });

  it('keeps a call up when a media text frame is not UTF-8: dropped and counted as not_json (the socket used to close 1007)', async () => {
    const b = await startBridge({ provider: 'elevenlabs', speed: 4 });
    try {
      const call = await b.call();
      await b.el!.waitForConversation(5000);
      await call.waitFor('media', 10_000);
      call.sendRaw(Buffer.from([0xff, 0xfe, 0x7b]), false);
      // A non-UTF-8 byte inside a JSON string decodes to U+FFFD: still a (silent) media frame, not a bad one.
      call.sendRaw(Buffer.from('{"event":"media","media":{"payload":"\xff"}}', 'latin1'), false);
      await until(
        'the frame counted',
        async () => ((await b.metricsText()).includes('callbridge_bad_frames_total{carrier="twilio",reason="not_json"} 1') ? true : undefined),
        10_000,
      );
      expect(call.isClosed).toBe(false);
      await call.hangup();
      const rec = await b.ended(call.callSid, 10_000);
      expect(rec.counters.badFrames).toBe(1);
      expect(rec.endReason).not.toBe('carrier_closed');
    } finally {
      await b.close();
    }
  }, 60_000);
});

import { twilioCodec } from '../../src/carriers/twilio/codec';

const streamSid = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const start = {
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: 'AC1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a',
    streamSid,
    callSid: 'CA5f1e2d3c4b5a69788796a5b4c3d2e1f0',
    tracks: ['inbound'],
    customParameters: { token: 'tok', direction: 'inbound', caller: '+14155550123', from: '+14155550123', to: '+15550000000' },
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
  streamSid,
};

const parse = (m: unknown) => twilioCodec.parse(JSON.stringify(m), false);

describe('Twilio media stream codec', () => {
  it('parses start with the call SID, stream SID, custom parameters and μ-law 8 kHz format', () => {
    expect(parse(start)).toEqual({
      ok: true,
      event: expect.objectContaining({
        type: 'start',
        callSid: start.start.callSid,
        streamSid,
        direction: 'inbound',
        from: '+14155550123',
        params: start.start.customParameters,
        format: { encoding: 'mulaw', sampleRate: 8000 },
      }),
    });
  });

  it('decodes a media frame payload from base64 and keeps its timestamp in ms', () => {
    const payload = Buffer.alloc(160, 0x7f);
    const r = parse({
      event: 'media',
      sequenceNumber: '2',
      media: { track: 'inbound', chunk: '1', timestamp: '20', payload: payload.toString('base64') },
      streamSid,
    });
    expect(r).toEqual({ ok: true, event: { type: 'audio', payload, timestampMs: 20 } });
  });

  it("reads a media frame the same whether it is in Twilio's exact layout (fast path) or any other valid JSON", () => {
    const payload = Buffer.alloc(160, 0x11);
    const b64 = payload.toString('base64');
    const media = `"media":{"track":"inbound","chunk":"8","timestamp":"160","payload":"${b64}"}`;
    const canonical = `{"event":"media","sequenceNumber":"9",${media},"streamSid":"${streamSid}"}`;
    const want = { ok: true, event: { type: 'audio', payload, timestampMs: 160 } };
    expect(twilioCodec.parse(Buffer.from(canonical), false)).toEqual(want);
    expect(twilioCodec.parse(canonical, false)).toEqual(want);
    // Another key order, whitespace, an escaped character: the general path, same event.
    expect(twilioCodec.parse(`{"streamSid":"${streamSid}","event":"media","media":{"timestamp":"160","payload":"${b64}"}}`, false)).toEqual(want);
    expect(twilioCodec.parse(canonical.replace('"media":{', '"media": {'), false)).toEqual(want);
    expect(twilioCodec.parse(canonical.replace('"track":"inbound"', '"track":"in\\u0062ound"'), false)).toEqual(want);
    // Canonical-looking but broken: never accepted by the fast path.
    expect(twilioCodec.parse(canonical.slice(0, -1), false)).toEqual({ ok: false, reason: 'not_json' });
    expect(twilioCodec.parse(canonical.replace('"payload":"', '"payload":7,"x":"'), false)).toEqual({ ok: false, reason: 'bad_shape' });
    expect(twilioCodec.parse(Buffer.from(canonical), true)).toEqual({ ok: false, reason: 'binary' });
  });

  it("reads a mark echo the same whether it is in Twilio's exact layout (fast path) or any other valid JSON", () => {
    const canonical = `{"event":"mark","sequenceNumber":"12","streamSid":"${streamSid}","mark":{"name":"g2-m41"}}`;
    const want = { ok: true, event: { type: 'mark', name: 'g2-m41' } };
    expect(twilioCodec.parse(Buffer.from(canonical), false)).toEqual(want);
    expect(twilioCodec.parse(canonical, false)).toEqual(want);
    expect(twilioCodec.parse(`{"event":"mark","streamSid":"${streamSid}","mark":{"name":"g2-m41"},"sequenceNumber":"12"}`, false)).toEqual(want);
    expect(twilioCodec.parse(canonical.replace('"g2-m41"', '"g2-m\\u00341"'), false)).toEqual(want);
    expect(twilioCodec.parse(canonical.replace('"g2-m41"', '"a name with spaces"'), false)).toEqual({
      ok: true,
      event: { type: 'mark', name: 'a name with spaces' },
    });
    expect(twilioCodec.parse(canonical.slice(0, -1), false)).toEqual({ ok: false, reason: 'not_json' });
    expect(twilioCodec.parse(canonical.replace('"mark":{"name":"g2-m41"}', '"mark":{"label":"g2-m41"}'), false)).toEqual({ ok: false, reason: 'bad_shape' });
    expect(twilioCodec.parse(Buffer.from(canonical), true)).toEqual({ ok: false, reason: 'binary' });
  });

  it('parses mark, dtmf and stop', () => {
    expect(parse({ event: 'mark', sequenceNumber: '5', streamSid, mark: { name: 'g0-m1' } })).toEqual({ ok: true, event: { type: 'mark', name: 'g0-m1' } });
    expect(parse({ event: 'dtmf', sequenceNumber: '6', streamSid, dtmf: { track: 'inbound_track', digit: '#' } })).toEqual({
      ok: true,
      event: { type: 'dtmf', digit: '#' },
    });
    expect(parse({ event: 'stop', sequenceNumber: '7', streamSid, stop: { accountSid: 'AC1', callSid: 'CA1' } })).toEqual({
      ok: true,
      event: { type: 'stop' },
    });
  });

  it('reports why a frame is malformed instead of throwing', () => {
    expect(twilioCodec.parse('not json', false)).toEqual({ ok: false, reason: 'not_json' });
    expect(twilioCodec.parse(Buffer.from([1, 2, 3]), true)).toEqual({ ok: false, reason: 'binary' });
    expect(parse({ event: 'teleport' })).toEqual({ ok: false, reason: 'unknown_event' });
    expect(parse({ event: 'media', streamSid, media: {} })).toEqual({ ok: false, reason: 'bad_shape' });
    expect(parse({ event: 'start', start: { streamSid } })).toEqual({ ok: false, reason: 'bad_shape' });
    expect(parse([1, 2])).toEqual({ ok: false, reason: 'not_json' });
    expect(twilioCodec.parse('null', false)).toEqual({ ok: false, reason: 'not_json' });
  });

  it('serialises exactly the three outbound messages with camelCase streamSid', () => {
    const payload = Buffer.from([0xff, 0x7f]);
    expect(JSON.parse(twilioCodec.serialize({ type: 'audio', payload }, streamSid))).toEqual({
      event: 'media',
      streamSid,
      media: { payload: payload.toString('base64') },
    });
    expect(JSON.parse(twilioCodec.serialize({ type: 'mark', name: 'g1-m9' }, streamSid))).toEqual({ event: 'mark', streamSid, mark: { name: 'g1-m9' } });
    expect(JSON.parse(twilioCodec.serialize({ type: 'clear' }, streamSid))).toEqual({ event: 'clear', streamSid });
  });
});

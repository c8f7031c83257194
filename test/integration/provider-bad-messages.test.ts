/**
 * Malformed provider messages during a real call (Twilio emulator → server → ElevenLabs / OpenAI emulator): each one is
 * counted in `callbridge_bad_messages_total{source,reason}` with the provider as source, and the call goes on (agent
 * audio still reaches the caller afterwards, the call ends completed).
 */
import { sampleValue, parsePrometheusText } from '../helpers/metrics-parser';
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';

/** `callbridge_bad_messages_total` of `source`, per reason. */
async function badMessages(b: Bridge, source: string): Promise<Record<string, number>> {
  const fam = parsePrometheusText(await b.metricsText());
  const out: Record<string, number> = {};
  for (const reason of ['binary', 'not_json', 'unknown_type', 'bad_shape', 'bad_audio']) {
    const v = sampleValue(fam, 'callbridge_bad_messages_total', { source, reason });
    if (v !== undefined) out[reason] = v;
  }
  return out;
}

describe('malformed provider messages on a live call', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('ElevenLabs: counted by reason, the call goes on', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: 4 });
    const call = await b.call();
    const conv = await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    conv.send('{not json');
    conv.send('{not json');
    conv.send({ type: 'audio', audio_event: { event_id: 'x' } });
    conv.send({ type: 'future_event', future_event: {} });
    conv.send({ type: 'vad_score', vad_score_event: { vad_score: 0.2 } }); // known and ignored: not counted
    const want = { not_json: 2, bad_shape: 1, unknown_type: 1 };
    await until('bad messages counted', async () => ((await badMessages(b, 'elevenlabs')).unknown_type === 1 ? true : undefined), 5000);
    expect(await badMessages(b, 'elevenlabs')).toEqual(want);
    await conv.playout();
    const mediaBefore = call.received.filter((r) => r.msg.event === 'media').length;
    call.sendAudio(fixture('caller-booking-8k.wav')); // the agent answers
    await until(
      'the agent answering after the bad messages',
      () => (call.received.filter((r) => r.msg.event === 'media').length > mediaBefore ? true : undefined),
      15_000,
    );
    await call.hangup();
    expect(await b.ended(call.callSid)).toMatchObject({ status: 'completed' });
  });

  it('OpenAI: counted by reason, the call goes on', async () => {
    b = await startBridge({ provider: 'openai', speed: 4 });
    const call = await b.call();
    await call.waitFor('media', 5000);
    const oa = b.oa!;
    oa.inject('{not json');
    oa.inject('{"type":"response.output_audio.delta","delta":42}');
    oa.inject('{"type":"mcp_list_tools.future_event","event_id":"event_X"}');
    oa.inject('{"type":"mcp_list_tools.future_event","event_id":"event_Y"}');
    oa.inject('{"type":"rate_limits.updated","event_id":"e","rate_limits":[]}'); // bookkeeping: not counted
    await until('bad messages counted', async () => ((await badMessages(b, 'openai')).unknown_type === 2 ? true : undefined), 5000);
    expect(await badMessages(b, 'openai')).toEqual({ not_json: 1, bad_shape: 1, unknown_type: 2 });
    await call.hangup();
    expect(await b.ended(call.callSid)).toMatchObject({ status: 'completed' });
  });
});

/**
 * Provider messages the legs reject (src/providers/rejects.ts), over a fake socket and clock: every rejected message
 * reaches the sink attached with `watchRejects` (those before it, summed, when it is attached), each reason is logged
 * once per leg however often it recurs, messages of types callbridge knows and ignores are not rejects, and the call's
 * events go on unchanged around them.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observability/logger';
import { openElevenLabsLeg } from '../../../src/providers/elevenlabs/leg';
import type { RejectReason } from '../../../src/providers/rejects';
import type { ProviderEvent, ProviderLeg } from '../../../src/providers/types';
import { FakeClock, settle } from '../../helpers/fake-clock';
import { fakeSockets, type FakeSocket } from '../../helpers/fake-socket';
import { legContext, readyOpenAiLeg } from '../../helpers/openai-leg';

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger('info', stream), rejected: () => lines.filter((l) => String(l.msg).includes('message rejected')) };
}

/** What a sink was handed, summed per reason. */
function counter() {
  const counts: Partial<Record<RejectReason, number>> = {};
  return { counts, sink: (reason: RejectReason, n: number) => void (counts[reason] = (counts[reason] ?? 0) + n) };
}

const b64 = (n: number) => Buffer.alloc(n, 0x55).toString('base64');

async function elevenLabs() {
  const { log, rejected } = captureLog();
  const net = fakeSockets();
  const events: ProviderEvent[] = [];
  const opened = openElevenLabsLeg({ signedUrl: 'wss://el.test/c', initiation: '{}', log, openSocket: net.open, clock: new FakeClock() }, (ev) => {
    events.push(ev);
  });
  const socket = net.last();
  socket.accept();
  socket.receive({
    type: 'conversation_initiation_metadata',
    conversation_initiation_metadata_event: { conversation_id: 'c1', agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'ulaw_8000' },
  });
  const leg = await opened;
  await settle();
  return { leg, socket, events, rejected };
}

const ctx = legContext('');

async function openAi(): Promise<{ leg: ProviderLeg; socket: FakeSocket; events: ProviderEvent[]; rejected: () => Array<Record<string, unknown>> }> {
  const { log, rejected } = captureLog();
  const { leg, socket, events } = await readyOpenAiLeg(ctx, log);
  return { leg, socket, events, rejected };
}

describe('provider messages the legs reject', () => {
  it('ElevenLabs: counts every reject by reason, hands over those before the sink, logs each reason once, and ignores known types', async () => {
    const r = await elevenLabs();
    r.socket.receive('{not json');
    r.socket.receive('{"type":"audio","audio_event":{"event_id":"x"}}');
    const before = counter();
    r.leg.watchRejects!(before.sink);
    expect(before.counts).toEqual({ not_json: 1, bad_shape: 1 });

    const c = counter();
    r.leg.watchRejects!(c.sink);
    r.socket.receive('{not json either');
    r.socket.receive('[1,2]');
    r.socket.receive({ type: 'future_event', future_event: {} });
    r.socket.receive({ type: 'future_event', future_event: {} });
    r.socket.receive({ type: 'audio', audio_event: { audio_base_64: '!!!!', event_id: 1 } });
    r.socket.emit('message', Buffer.from([1, 2, 3]), true);
    r.socket.receive({ type: 'vad_score', vad_score_event: { vad_score: 0.4 } });
    r.socket.receive({ type: 'tentative_user_transcript', tentative_user_transcription_event: { user_transcript: 'I', event_id: 2 } });
    r.socket.receive({ type: 'audio', audio_event: { audio_base_64: b64(160), event_id: 3 } });
    expect(c.counts).toEqual({ not_json: 2, unknown_type: 2, bad_audio: 1, binary: 1 });
    expect(before.counts).toEqual({ not_json: 1, bad_shape: 1 }); // the sink attached last gets them

    const logged = r.rejected();
    expect(logged.map((l) => l.reason)).toEqual(['not_json', 'bad_shape', 'unknown_type', 'bad_audio', 'binary']);
    expect(logged.find((l) => l.reason === 'unknown_type')).toMatchObject({ level: 40, detail: 'type future_event' });
    expect(r.events.map((e) => e.type)).toEqual(['ready', 'audio']);
    r.socket.closed(1000);
  });

  it('OpenAI: counts not-JSON, shapeless, unknown and malformed events and bad audio, logs each reason once, and ignores bookkeeping', async () => {
    const r = await openAi();
    const c = counter();
    r.leg.watchRejects!(c.sink);
    r.socket.receive('{not json');
    r.socket.receive('[]');
    r.socket.receive('{"no":"type"}');
    r.socket.receive({ type: 'response.output_audio.delta', delta: 42 });
    r.socket.receive({ type: 'response.created', response: { status: 'in_progress' } });
    r.socket.receive({ type: 'response.function_call_arguments.done', name: 'f' });
    r.socket.receive({ type: 'mcp_list_tools.future_event', event_id: 'e1' });
    r.socket.receive({ type: 'response.output_audio.delta', item_id: 'i1', response_id: 'r1', delta: 'not base64!' });
    r.socket.receive({ type: 'rate_limits.updated', rate_limits: [] });
    r.socket.receive({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 10, item_id: 'u1' });
    r.socket.receive({ type: 'response.output_audio.delta', item_id: 'i1', response_id: 'r1', delta: b64(160) });
    expect(c.counts).toEqual({ not_json: 2, bad_shape: 4, unknown_type: 1, bad_audio: 1 });
    expect(r.rejected().map((l) => l.reason)).toEqual(['not_json', 'bad_shape', 'unknown_type', 'bad_audio']);
    expect(r.events.map((e) => e.type)).toEqual(['ready', 'audio']);
    r.socket.closed(1000);
  });
});

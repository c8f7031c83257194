/**
 * Property tests of the provider message parsers:
 * - ElevenLabs `parseServerMessage` (src/providers/elevenlabs/codec.ts): any text → `null` or a
 *   well-typed ElInbound, never a throw; `readServerMessage` gives the reject reason exactly where it gives `null`.
 * - The OpenAI Realtime leg (src/providers/openai-realtime/leg.ts) after a valid handshake, over the
 *   fake socket and clock: any server frame is handled without a throw, and every ProviderEvent it
 *   emits keeps the contract of src/providers/types.ts (no second `ready`, audio non-empty with an
 *   item id, transcripts and tool calls with string fields).
 * Inputs: mutations of real server messages of each type, `__proto__` keys, binary and invalid UTF-8
 * frames, hostile JSON values, truncated and deep JSON. A failure prints fast-check's seed and path.
 */
import { fc, test } from '@fast-check/jest';
import { parseServerMessage, readServerMessage, type ElInbound } from '../../src/providers/elevenlabs/codec';
import type { ProviderEvent, ProviderLeg } from '../../src/providers/types';
import { type FakeSocket } from '../helpers/fake-socket';
import { legContext, readyOpenAiLeg } from '../helpers/openai-leg';
import { rawFrames } from './arbitraries';

const RUNS = 10_000;
const b64 = (n: number) => Buffer.alloc(n, 0x55).toString('base64');

const ELEVENLABS_MESSAGES = [
  {
    type: 'conversation_initiation_metadata',
    conversation_initiation_metadata_event: { conversation_id: 'conv_1', agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'ulaw_8000' },
  },
  { type: 'audio', audio_event: { audio_base_64: b64(160), event_id: 3 } },
  { type: 'ping', ping_event: { event_id: 4, ping_ms: 20 } },
  { type: 'interruption', interruption_event: { event_id: 5 } },
  { type: 'user_transcript', user_transcription_event: { user_transcript: 'I would like a haircut', event_id: 6 } },
  { type: 'agent_response', agent_response_event: { agent_response: 'Sure, when?', event_id: 7 } },
  {
    type: 'agent_response_correction',
    agent_response_correction_event: { original_agent_response: 'Sure, when', corrected_agent_response: 'Sure', event_id: 8 },
  },
  { type: 'client_tool_call', client_tool_call: { tool_name: 'check_availability', tool_call_id: 'tc_1', parameters: { date: '2026-01-05' } } },
  { type: 'agent_tool_response', agent_tool_response: { tool_name: 'end_call', tool_call_id: 'tc_2', tool_type: 'system', is_error: false } },
  { type: 'error', error_event: { code: 1008, error_type: 'policy', message: 'bad' } },
  { type: 'vad_score', vad_score_event: { vad_score: 0.5 } },
];

const isStr = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown) => v === undefined || isStr(v);
const optInt = (v: unknown) => v === undefined || Number.isInteger(v);

/** The ElInbound contract (src/providers/elevenlabs/codec.ts), field by field. */
function expectElInbound(m: ElInbound): void {
  switch (m.kind) {
    case 'metadata':
      return expect(isStr(m.conversationId)).toBe(true);
    case 'audio':
      return expect([isStr(m.base64), Number.isInteger(m.eventId)]).toEqual([true, true]);
    case 'ping':
    case 'interruption':
      return expect(Number.isInteger(m.eventId)).toBe(true);
    case 'user_transcript':
    case 'agent_response':
      return expect([isStr(m.text), optInt(m.eventId)]).toEqual([true, true]);
    case 'agent_response_correction':
      return expect([isStr(m.text), optStr(m.original), optInt(m.eventId)]).toEqual([true, true, true]);
    case 'client_tool_call':
      expect([isStr(m.id), isStr(m.name)]).toEqual([true, true]);
      return expect(typeof m.params === 'object' && m.params !== null && !Array.isArray(m.params)).toBe(true);
    case 'agent_tool_response':
      return expect([isStr(m.name), optStr(m.id), m.isError === undefined || typeof m.isError === 'boolean']).toEqual([true, true, true]);
    case 'error':
      return expect([optInt(m.code), optStr(m.errorType), optStr(m.message)]).toEqual([true, true, true]);
    case 'other':
      return expect(isStr(m.type)).toBe(true);
    default:
      throw new Error(`untyped message ${JSON.stringify(m)}`);
  }
}

// ---- OpenAI Realtime ----

const ctx = legContext();

const OPENAI_MESSAGES = [
  { type: 'response.output_audio.delta', event_id: 'e1', item_id: 'item_1', response_id: 'resp_1', output_index: 0, content_index: 0, delta: b64(160) },
  { type: 'response.created', event_id: 'e2', response: { id: 'resp_1', status: 'in_progress', output: [] } },
  {
    type: 'response.done',
    event_id: 'e3',
    response: { id: 'resp_1', status: 'completed', status_details: null, output: [{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }] },
  },
  {
    type: 'response.function_call_arguments.done',
    event_id: 'e4',
    call_id: 'call_1',
    name: 'check_availability',
    arguments: '{"date":"2026-01-05"}',
    response_id: 'resp_1',
    item_id: 'item_2',
    output_index: 0,
  },
  { type: 'input_audio_buffer.speech_started', event_id: 'e5', audio_start_ms: 1200, item_id: 'item_u1' },
  { type: 'conversation.item.input_audio_transcription.completed', event_id: 'e6', item_id: 'item_u1', content_index: 0, transcript: 'a haircut please' },
  {
    type: 'response.output_audio_transcript.done',
    event_id: 'e7',
    item_id: 'item_1',
    response_id: 'resp_1',
    output_index: 0,
    content_index: 0,
    transcript: 'Sure',
  },
  { type: 'conversation.item.truncated', event_id: 'e8', item_id: 'item_1', content_index: 0, audio_end_ms: 100 },
  {
    type: 'error',
    event_id: 'e9',
    error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy', param: null, event_id: null },
  },
  {
    type: 'session.updated',
    event_id: 'e10',
    session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } },
  },
  { type: 'rate_limits.updated', event_id: 'e11', rate_limits: [{ name: 'tokens', limit: 1, remaining: 1, reset_seconds: 1 }] },
  { type: 'response.output_audio.done', event_id: 'e12', item_id: 'item_1', response_id: 'resp_1', output_index: 0, content_index: 0 },
];

/** The ProviderEvent contract after `ready` (src/providers/types.ts). */
function expectProviderEvent(ev: ProviderEvent): void {
  switch (ev.type) {
    case 'audio':
      expect(Buffer.isBuffer(ev.payload) && ev.payload.length > 0).toBe(true);
      return expect(isStr(ev.itemId)).toBe(true);
    case 'interruption':
      return;
    case 'transcript':
      expect(['user', 'agent']).toContain(ev.role);
      return expect([isStr(ev.text), optStr(ev.itemId), ev.correction === undefined || typeof ev.correction === 'boolean']).toEqual([true, true, true]);
    case 'tool_call':
      return expect([isStr(ev.id), isStr(ev.name)]).toEqual([true, true]);
    case 'end':
      return expect(isStr(ev.reason)).toBe(true);
    case 'error':
      return expect([ev.error instanceof Error, typeof ev.fatal]).toEqual([true, 'boolean']);
    default:
      throw new Error(`event that breaks the contract after ready: ${JSON.stringify(ev)}`);
  }
}

/** A leg past its handshake (test/helpers/openai-leg.ts), its ready event taken. */
async function readyLeg(): Promise<{ socket: FakeSocket; events: ProviderEvent[]; leg: ProviderLeg }> {
  const { socket, events, leg } = await readyOpenAiLeg(ctx);
  expect(events.map((e) => e.type)).toEqual(['ready']);
  events.length = 0;
  return { socket, events, leg };
}

describe('fuzz: provider messages', () => {
  test.prop([rawFrames(ELEVENLABS_MESSAGES)], { numRuns: RUNS })(`ElevenLabs parseServerMessage: ${RUNS} frames, each null or a typed message`, ([data]) => {
    const m = parseServerMessage(data.toString());
    if (m !== null) expectElInbound(m);
    const r = readServerMessage(data.toString());
    if (m === null) expect(r).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^(not_json|unknown_type|bad_shape)$/) });
    else expect(r).toEqual(m);
  });

  it('ElevenLabs parseServerMessage: every seed message parses to its kind', () => {
    expect(ELEVENLABS_MESSAGES.map((m) => parseServerMessage(JSON.stringify(m))?.kind)).toEqual([
      'metadata',
      'audio',
      'ping',
      'interruption',
      'user_transcript',
      'agent_response',
      'agent_response_correction',
      'client_tool_call',
      'agent_tool_response',
      'error',
      'other',
    ]);
  });

  describe('OpenAI Realtime leg after the handshake', () => {
    let r: Awaited<ReturnType<typeof readyLeg>>;
    beforeAll(async () => {
      r = await readyLeg();
    });

    test.prop([fc.array(rawFrames(OPENAI_MESSAGES), { minLength: 1, maxLength: 3 })], { numRuns: RUNS })(
      `${RUNS} runs of 1-3 server frames each: no throw, and every event emitted keeps the ProviderEvent contract`,
      (frames) => {
        r.events.length = 0;
        for (const [data, isBinary] of frames) r.socket.emit('message', Buffer.isBuffer(data) ? data : Buffer.from(data), isBinary);
        r.events.forEach(expectProviderEvent);
      },
    );

    it('still forwards agent audio and answers tool calls after the fuzzing', async () => {
      r.events.length = 0;
      r.socket.receive({ ...OPENAI_MESSAGES[0], item_id: 'item_after', response_id: 'resp_after' });
      expect(r.events).toEqual([{ type: 'audio', payload: Buffer.alloc(160, 0x55), itemId: 'item_after' }]);
      r.leg.sendToolResult('call_after', '{"ok":true}', false);
      expect(r.socket.sentJson.at(-1)).toMatchObject({ type: 'conversation.item.create', item: { call_id: 'call_after' } });
      const closing = r.leg.close('done');
      r.socket.closed(1000);
      await closing;
    });
  });
});

import { MULAW_8K } from '../../src/audio/format';
import { closeError, statusError } from '../../src/providers/elevenlabs/close-errors';
import { encodeInitiation, encodePong, encodeToolResult, encodeUserAudio, parseServerMessage } from '../../src/providers/elevenlabs/codec';
import { fromElevenLabsFormat, toElevenLabsFormat } from '../../src/providers/elevenlabs/formats';
import { elevenLabsApiBase, elevenLabsWsBase } from '../../src/providers/elevenlabs/regions';
import { cutText } from '../emulators/elevenlabs-conversation';

const parse = (m: unknown) => parseServerMessage(JSON.stringify(m));

describe('ElevenLabs wire codec', () => {
  it('narrows the server messages the leg acts on', () => {
    expect(parse({ type: 'audio', audio_event: { audio_base_64: 'fn5+', event_id: 3 } })).toEqual({ kind: 'audio', base64: 'fn5+', eventId: 3 });
    expect(parse({ type: 'ping', ping_event: { event_id: 8, ping_ms: null } })).toEqual({ kind: 'ping', eventId: 8 });
    expect(parse({ type: 'interruption', interruption_event: { event_id: 7 } })).toEqual({ kind: 'interruption', eventId: 7 });
    expect(
      parse({
        type: 'conversation_initiation_metadata',
        conversation_initiation_metadata_event: { conversation_id: 'conv_1', agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'pcm_16000' },
      }),
    ).toEqual({
      kind: 'metadata',
      conversationId: 'conv_1',
      outputFormat: 'ulaw_8000',
      inputFormat: 'pcm_16000',
    });
    expect(
      parse({
        type: 'agent_response_correction',
        agent_response_correction_event: { original_agent_response: 'Sure, Friday at three works, and', corrected_agent_response: 'Sure, Friday', event_id: 6 },
      }),
    ).toEqual({
      kind: 'agent_response_correction',
      text: 'Sure, Friday',
      original: 'Sure, Friday at three works, and',
      eventId: 6,
    });
    expect(
      parse({ type: 'client_tool_call', client_tool_call: { tool_name: 'save_lead', tool_call_id: 'toolu_1', parameters: { name: 'John' }, event_id: 9 } }),
    ).toEqual({
      kind: 'client_tool_call',
      id: 'toolu_1',
      name: 'save_lead',
      params: { name: 'John' },
    });
    expect(parse({ type: 'error', error_event: { code: 1008, message: 'Invalid message received', error_type: 'invalid_message' } })).toEqual({
      kind: 'error',
      code: 1008,
      errorType: 'invalid_message',
      message: 'Invalid message received',
    });
    expect(parse({ type: 'vad_score', vad_score_event: { vad_score: 0.9 } })).toEqual({ kind: 'other', type: 'vad_score' });
  });

  it('returns null for malformed input instead of throwing', () => {
    expect(parseServerMessage('{nope')).toBeNull();
    expect(parseServerMessage('[1,2]')).toBeNull();
    expect(parse({ audio_event: {} })).toBeNull();
    expect(parse({ type: 'audio', audio_event: { audio_base_64: 'AA==', event_id: '3' } })).toBeNull();
    expect(parse({ type: 'audio', audio: { chunk: 'AA==' } })).toBeNull(); // legacy shape, not in @elevenlabs/types
    expect(parse({ type: 'ping', ping_event: {} })).toBeNull();
    expect(parse({ type: 'client_tool_call', client_tool_call: { tool_name: 'x' } })).toBeNull();
  });

  it('encodes client messages with the wire field names', () => {
    expect(JSON.parse(encodeUserAudio(Buffer.from([0xff, 0x7f])))).toEqual({ user_audio_chunk: '/38=' });
    expect(JSON.parse(encodePong(12))).toEqual({ type: 'pong', event_id: 12 });
    expect(JSON.parse(encodeToolResult('toolu_1', '{"ok":true}', false))).toEqual({
      type: 'client_tool_result',
      tool_call_id: 'toolu_1',
      result: '{"ok":true}',
      is_error: false,
    });
    expect(JSON.parse(encodeInitiation({ prompt: 'P', firstMessage: '', dynamicVariables: { call_sid: 'CA1' } }))).toEqual({
      type: 'conversation_initiation_client_data',
      conversation_config_override: { agent: { prompt: { prompt: 'P' }, first_message: '' } },
      dynamic_variables: { call_sid: 'CA1' },
    });
  });
});

describe('ElevenLabs formats and hosts', () => {
  it('maps the call-path formats and refuses the others', () => {
    expect(fromElevenLabsFormat('ulaw_8000')).toEqual(MULAW_8K);
    expect(fromElevenLabsFormat('pcm_8000')).toEqual({ encoding: 'pcm16le', sampleRate: 8000 });
    expect(fromElevenLabsFormat('pcm_16000')).toEqual({ encoding: 'pcm16le', sampleRate: 16000 });
    expect(fromElevenLabsFormat('pcm_24000')).toEqual({ encoding: 'pcm16le', sampleRate: 24000 });
    for (const f of ['pcm_22050', 'pcm_44100', 'pcm_48000', 'ulaw_16000', 'toString', undefined]) expect(fromElevenLabsFormat(f)).toBeNull();
    expect(toElevenLabsFormat({ encoding: 'pcm16le', sampleRate: 16000 })).toBe('pcm_16000');
    expect(toElevenLabsFormat({ encoding: 'alaw', sampleRate: 8000 })).toBeNull();
  });

  it('picks the region host unless ELEVENLABS_API_BASE overrides it, and derives the ws base', () => {
    expect(elevenLabsApiBase({ ELEVENLABS_REGION: 'us', ELEVENLABS_API_BASE: undefined })).toBe('https://api.elevenlabs.io');
    expect(elevenLabsApiBase({ ELEVENLABS_REGION: 'eu', ELEVENLABS_API_BASE: undefined })).toBe('https://api.eu.residency.elevenlabs.io');
    expect(elevenLabsApiBase({ ELEVENLABS_REGION: 'india', ELEVENLABS_API_BASE: undefined })).toBe('https://api.in.residency.elevenlabs.io');
    expect(elevenLabsApiBase({ ELEVENLABS_REGION: 'eu', ELEVENLABS_API_BASE: 'http://127.0.0.1:9999/' })).toBe('http://127.0.0.1:9999');
    expect(elevenLabsWsBase('https://api.in.residency.elevenlabs.io')).toBe('wss://api.in.residency.elevenlabs.io');
    expect(elevenLabsWsBase('http://127.0.0.1:9999/prefix')).toBe('ws://127.0.0.1:9999/prefix');
  });
});

describe('ElevenLabs failure categories', () => {
  it('maps HTTP statuses', () => {
    expect(statusError(401, 'x')).toMatchObject({ code: 'CB_EL_AUTH', category: 'auth' });
    expect(statusError(404, 'x')).toMatchObject({ category: 'bad_request' });
    expect(statusError(429, 'x')).toMatchObject({ category: 'rate_limit', retryable: true });
    expect(statusError(502, 'x')).toMatchObject({ category: 'server' });
  });

  it('maps close codes, telling contract errors from auth on 1008', () => {
    expect(closeError({ code: 1008, reason: '' }, true)).toMatchObject({ category: 'auth' });
    expect(closeError({ code: 1008, reason: '', lastError: { errorType: 'override_error' } }, true)).toMatchObject({
      category: 'bad_request',
      code: 'CB_EL_CONTRACT',
    });
    expect(closeError({ code: 1011, reason: '' }, false)).toMatchObject({ category: 'server' });
    expect(closeError({ code: 1006, reason: '' }, false)).toMatchObject({ category: 'connectivity' });
  });
});

describe('emulator correction text', () => {
  it('cuts the agent text back to a word boundary at the share of audio sent', () => {
    expect(cutText('Sure, Friday at three works', 0.5)).toBe('Sure, Friday');
    expect(cutText('Sure', 0)).toBe('');
    expect(cutText('Sure, Friday', 1)).toBe('Sure, Friday');
  });
});

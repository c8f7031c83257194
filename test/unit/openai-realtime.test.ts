/**
 * Pure parts of the OpenAI Realtime adapter: URL, session plan, tool-turn bookkeeping, error categories.
 */
import { realtimeUrl } from '../../src/providers/openai-realtime/connector';
import { closeError, serverError, upgradeError } from '../../src/providers/openai-realtime/errors';
import { buildSessionPlan, confirmsFormats, greetingEvents } from '../../src/providers/openai-realtime/session-config';
import { ToolTurns } from '../../src/providers/openai-realtime/tool-turns';
import { audioFormatOf, wireFormatFor } from '../../src/providers/openai-realtime/wire';
import { callContext, testConfig } from '../integration/openai-helpers';

describe('realtimeUrl', () => {
  it('defaults to the GA endpoint with the configured model', () => {
    expect(realtimeUrl({ OPENAI_REALTIME_URL: undefined, OPENAI_REALTIME_MODEL: 'gpt-realtime' })).toBe('wss://api.openai.com/v1/realtime?model=gpt-realtime');
  });

  it('keeps a ws:// override and its own model parameter', () => {
    expect(realtimeUrl({ OPENAI_REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime?model=x', OPENAI_REALTIME_MODEL: 'gpt-realtime' })).toBe(
      'ws://127.0.0.1:9/v1/realtime?model=x',
    );
  });
});

describe('session plan', () => {
  it('maps μ-law 8 kHz to audio/pcmu and every other carrier format to PCM16 24 kHz', () => {
    expect(wireFormatFor({ encoding: 'mulaw', sampleRate: 8000 })).toEqual({ type: 'audio/pcmu' });
    expect(wireFormatFor({ encoding: 'pcm16le', sampleRate: 8000 })).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(audioFormatOf({ type: 'audio/pcm' })).toEqual({ encoding: 'pcm16le', sampleRate: 24000 });
  });

  it('confirms formats only when session.updated echoes both directions', () => {
    const plan = buildSessionPlan(callContext(), testConfig());
    expect(confirmsFormats({ input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } }, plan)).toBe(true);
    expect(confirmsFormats({ input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcm', rate: 24000 } } }, plan)).toBe(false);
    expect(confirmsFormats(undefined, plan)).toBe(false);
  });

  it('asks for the greeting with a user input_text item, then response.create', () => {
    expect(greetingEvents('Hi there')).toEqual([
      { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Greet the caller with: Hi there' }] } },
      { type: 'response.create' },
    ]);
    expect(greetingEvents('')).toEqual([]);
  });
});

describe('ToolTurns', () => {
  it('owes one response.create only after every call is answered and response.done arrived', () => {
    const t = new ToolTurns();
    t.called('resp_1', 'call_a');
    t.called('resp_1', 'call_b');
    t.answered('call_a');
    expect(t.takeDue()).toBe(false);
    t.answered('call_b');
    expect(t.takeDue()).toBe(false); // response.done not yet seen
    t.responseDone('resp_1', ['call_a', 'call_b']);
    expect(t.takeDue()).toBe(true);
    expect(t.takeDue()).toBe(false);
  });

  it('learns calls listed only in response.done output', () => {
    const t = new ToolTurns();
    t.responseDone('resp_2', ['call_c']);
    expect(t.takeDue()).toBe(false);
    t.answered('call_c');
    expect(t.takeDue()).toBe(true);
  });

  it('owes nothing for a response without function calls', () => {
    const t = new ToolTurns();
    t.responseDone('resp_3', []);
    expect(t.takeDue()).toBe(false);
  });
});

describe('error categories', () => {
  it('classifies upgrade statuses, server errors and close codes for failover', () => {
    expect(upgradeError(401).category).toBe('auth');
    expect(upgradeError(403).category).toBe('auth');
    expect(upgradeError(429).category).toBe('rate_limit');
    expect(upgradeError(503).category).toBe('server');
    expect(serverError({ type: 'invalid_request_error', code: 'invalid_api_key', message: 'x' }).category).toBe('auth');
    expect(closeError(3000, 'invalid_request_error.invalid_api_key').category).toBe('auth');
    expect(closeError(4000, 'beta_api_shape_disabled').category).toBe('bad_request');
    expect(closeError(1011, '').category).toBe('server');
    expect(closeError(1006, '').category).toBe('connectivity');
  });
});

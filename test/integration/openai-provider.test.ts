/**
 * The OpenAI Realtime adapter against the OpenAI emulator over loopback sockets (docs/protocols/openai-realtime.md).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CallbridgeError } from '../../src/errors';
import type { ProviderLeg } from '../../src/providers/types';
import { defaultScript } from '../emulators/agent-script';
import { startOpenAiEmulator, type OpenAiEmulator } from '../emulators/openai-realtime';
import { callContext, callerMulaw, connect, mulawSilence, sendFrames, testConfig } from './openai-helpers';

const GREETING_BYTES_MULAW = defaultScript().greeting.samples.length; // 1 byte a sample at 8 kHz

let emu: OpenAiEmulator;
const legs: ProviderLeg[] = [];

beforeEach(async () => {
  emu = await startOpenAiEmulator({ speed: 4 });
});

afterEach(async () => {
  await Promise.all(legs.splice(0).map((l) => l.close('test over')));
  await emu.close();
});

async function open(over: Record<string, string> = {}, ctx = callContext(), timeoutMs?: number) {
  const r = await connect(testConfig({ OPENAI_REALTIME_URL: emu.url, ...over }), ctx, timeoutMs);
  legs.push(r.leg);
  return r;
}

async function failure(p: Promise<unknown>): Promise<CallbridgeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CallbridgeError);
    return err as CallbridgeError;
  }
  throw new Error('expected a rejection');
}

describe('OpenAI Realtime adapter: handshake', () => {
  it('dials the GA endpoint with a Bearer key, the model parameter and no beta header', async () => {
    await open({ OPENAI_REALTIME_MODEL: 'gpt-realtime-mini' });
    const up = emu.seen.upgrades[0]!;
    expect(up.model).toBe('gpt-realtime-mini');
    expect(up.headers.authorization).toBe('Bearer sk-test');
    expect(up.headers['openai-beta']).toBeUndefined();
    expect(up.headers['sec-websocket-extensions']).toBeUndefined();
  });

  it('keeps a model already named in OPENAI_REALTIME_URL', async () => {
    await open({ OPENAI_REALTIME_URL: `${emu.url}?model=gpt-realtime-2025-08-28`, OPENAI_REALTIME_MODEL: 'gpt-realtime' });
    expect(emu.seen.upgrades[0]!.url).toBe('/v1/realtime?model=gpt-realtime-2025-08-28');
  });

  it('configures μ-law both ways for a Twilio call and announces μ-law 8 kHz as ready', async () => {
    const { log } = await open({ OPENAI_VOICE: 'cedar' });
    const ready = await log.waitFor('ready');
    expect(ready.inputFormat).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(ready.outputFormat).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    const update = emu.seen.sessionUpdates[0]!;
    expect(update.ok).toBe(true);
    expect(update.event).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        output_modalities: ['audio'],
        instructions: 'You are the receptionist of Acme Plumbing.',
        audio: {
          input: {
            format: { type: 'audio/pcmu' },
            transcription: { model: 'gpt-4o-mini-transcribe' },
            turn_detection: {
              type: 'server_vad',
              threshold: 0.5,
              prefix_padding_ms: 300,
              silence_duration_ms: 500,
              create_response: true,
              interrupt_response: true,
            },
          },
          output: { format: { type: 'audio/pcmu' }, voice: 'cedar' },
        },
        tools: [
          {
            type: 'function',
            name: 'check_availability',
            description: 'Free slots on a date',
            parameters: { type: 'object', properties: { date: { type: 'string' } }, required: ['date'] },
          },
        ],
        tool_choice: 'auto',
      },
    });
    expect(emu.seen.formats).toEqual([{ input: { type: 'audio/pcmu' }, output: { type: 'audio/pcmu' } }]);
  });

  it('asks for PCM16 24 kHz when the carrier is not μ-law and streams PCM16 agent audio', async () => {
    const { log } = await open({}, callContext({ carrier: 'exotel', carrierFormat: { encoding: 'pcm16le', sampleRate: 16000 } }));
    const ready = await log.waitFor('ready');
    expect(ready.inputFormat).toEqual({ encoding: 'pcm16le', sampleRate: 24000 });
    expect(emu.seen.formats[0]).toEqual({ input: { type: 'audio/pcm', rate: 24000 }, output: { type: 'audio/pcm', rate: 24000 } });
    await emu.waitFor((s) => s.responses.find((r) => r.status === 'completed'));
    const bytes = log.of('audio').reduce((n, a) => n + a.payload.length, 0);
    expect(bytes).toBe(GREETING_BYTES_MULAW * 3 * 2); // 8 kHz fixture upsampled ×3, 2 bytes a sample
  });

  it('uses the per-call prompt over SYSTEM_PROMPT', async () => {
    await open({}, callContext({ prompt: 'Speak like a pirate.' }));
    expect((emu.seen.sessionUpdates[0]!.event as { session: { instructions: string } }).session.instructions).toBe('Speak like a pirate.');
  });

  it('rejects with auth when the API key is wrong, after the server closes with 3000', async () => {
    const err = await failure(open({ OPENAI_API_KEY: 'sk-wrong' }));
    expect(err.category).toBe('auth');
    expect(emu.seen.errors[0]!.code).toBe('invalid_api_key');
    await expect(emu.waitFor((s) => s.closes[0])).resolves.toMatchObject({ code: 3000, reason: 'invalid_request_error.invalid_api_key', by: 'server' });
  });

  it('rejects with auth when the upgrade is refused with HTTP 401 or 403', async () => {
    emu.options.rejectUpgradeStatus = 401;
    expect((await failure(open())).category).toBe('auth');
    emu.options.rejectUpgradeStatus = 403;
    expect((await failure(open())).category).toBe('auth');
  });

  it('rejects with connectivity when nothing listens on the port', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const err = await failure(open({ OPENAI_REALTIME_URL: `ws://127.0.0.1:${port}/v1/realtime` }));
    expect(err.category).toBe('connectivity');
  });

  it('rejects with connectivity when session.created does not come in time', async () => {
    emu.options.delaySessionCreatedMs = 2000;
    const err = await failure(open({}, callContext(), 200));
    expect(err.category).toBe('connectivity');
    expect(err.code).toBe('CB_OPENAI_TIMEOUT');
  });

  it('rejects with auth before dialling when OPENAI_API_KEY is not set', async () => {
    const err = await failure(open({ OPENAI_API_KEY: '', USE_ELEVENLABS_CONVERSATIONAL_AI: 'true', ELEVENLABS_API_KEY: 'k', ELEVENLABS_AGENT_ID: 'a' }));
    expect(err.category).toBe('auth');
    expect(emu.seen.upgrades).toHaveLength(0);
  });
});

describe('OpenAI Realtime adapter: conversation', () => {
  it('greets with the first message and forwards the whole greeting as μ-law audio of one item', async () => {
    const { log } = await open();
    const transcript = await log.waitFor('transcript', (t) => t.role === 'agent');
    expect(transcript.text).toBe(defaultScript().greeting.text);
    expect(emu.seen.items[0]).toEqual({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'Greet the caller with: Hello, thanks for calling. How can I help you today?' }],
    });
    const audio = log.of('audio');
    expect(new Set(audio.map((a) => a.itemId))).toEqual(new Set([transcript.itemId]));
    expect(audio.reduce((n, a) => n + a.payload.length, 0)).toBe(GREETING_BYTES_MULAW);
  });

  it('sends no greeting when the first message is empty', async () => {
    const { log } = await open({}, callContext({ firstMessage: ' ' }));
    await log.waitFor('ready');
    sendFrames(legs[0]!, mulawSilence(200));
    await emu.waitFor((s) => s.appendedMs >= 200);
    expect(emu.seen.clientEvents).not.toContain('response.create');
    expect(emu.seen.items).toHaveLength(0);
  });

  it('appends caller audio as base64 μ-law, reports the caller transcript and plays the scripted reply', async () => {
    const { leg, log } = await open({}, callContext({ firstMessage: '' }));
    await log.waitFor('ready');
    sendFrames(leg, Buffer.concat([callerMulaw('caller-booking-8k.wav'), mulawSilence(1000)]));
    const user = await log.waitFor('transcript', (t) => t.role === 'user');
    expect(user.text).toBe(defaultScript().userTranscripts[0]);
    const agent = await log.waitFor('transcript', (t) => t.role === 'agent', 10_000);
    expect(agent.text).toBe(defaultScript().replies[0]!.text);
    expect(emu.seen.appendedMs).toBeCloseTo(callerMulaw('caller-booking-8k.wav').length / 8 + 1000, 0);
    expect(emu.seen.speech[0]!.type).toBe('started');
  });

  it('holds caller audio sent before ready and appends it once the session is configured', async () => {
    const { leg, log } = await open({}, callContext({ firstMessage: '' }));
    expect(log.events).toHaveLength(0); // connect() resolved; `ready` follows once the caller holds the leg
    leg.sendAudio(mulawSilence(100));
    await emu.waitFor((s) => s.appendedMs >= 100);
    expect(log.events[0]?.type).toBe('ready');
  });

  it('reports a barge-in, sees the response cancelled with turn_detected and truncates within the audio sent', async () => {
    const { leg, log } = await open();
    const first = await log.waitFor('audio');
    sendFrames(leg, callerMulaw('caller-bargein-8k.wav'));
    await log.waitFor('interruption');
    const cancel = await emu.waitFor((s) => s.cancels[0]);
    expect(cancel.reason).toBe('turn_detected');
    const greeting = emu.seen.responses[0]!;
    await emu.waitFor((s) => s.responses[0]!.status === 'cancelled');
    const sentMs =
      log
        .of('audio')
        .filter((a) => a.itemId === first.itemId)
        .reduce((n, a) => n + a.payload.length, 0) / 8;
    leg.truncate!(first.itemId!, 999_999); // more than was ever sent: the adapter clamps (docs/protocols/openai-realtime.md#barge-in-and-truncation)
    const t = await emu.waitFor((s) => s.truncates[0]);
    expect(t).toMatchObject({ itemId: first.itemId, ok: true, requestedMs: Math.floor(sentMs) });
    expect(t.requestedMs).toBeLessThanOrEqual(greeting.audioMs);
    expect(emu.seen.errors).toHaveLength(0);
  });

  it('truncates at the played position rounded to whole milliseconds', async () => {
    const { leg, log } = await open();
    const first = await log.waitFor('audio');
    await emu.waitFor((s) => s.responses[0]!.audioMs >= 200);
    leg.truncate!(first.itemId!, 120.6);
    await expect(emu.waitFor((s) => s.truncates[0])).resolves.toMatchObject({ requestedMs: 121, appliedMs: 121, ok: true });
  });

  it('runs a tool round trip: parsed arguments out, function_call_output in, then one response.create after response.done', async () => {
    const { leg, log } = await open({}, callContext({ firstMessage: '' }));
    await log.waitFor('ready');
    const answered = emu.callTool('check_availability', { date: '2026-03-14', duration_minutes: 60 });
    const call = await log.waitFor('tool_call');
    expect(call).toMatchObject({ name: 'check_availability', args: { date: '2026-03-14', duration_minutes: 60 } });
    leg.sendToolResult(call.id, '{"slots":["2026-03-14T15:30:00-05:00"]}', false);
    await expect(answered).resolves.toEqual({ callId: call.id, output: '{"slots":["2026-03-14T15:30:00-05:00"]}' });
    const reply = await emu.waitFor((s) => s.responses.find((r) => r.kind === 'audio' && r.status === 'completed'), 10_000);
    expect(reply.trigger).toBe('client');
    expect(emu.seen.clientEvents.filter((t) => t === 'response.create')).toHaveLength(1);
    expect(emu.seen.errors).toHaveLength(0);
  });

  it('wraps a failed tool result that is plain text as {"error": …}', async () => {
    const { leg, log } = await open({}, callContext({ firstMessage: '' }));
    await log.waitFor('ready');
    const answered = emu.callTool('check_availability', { date: 'someday' });
    const call = await log.waitFor('tool_call');
    leg.sendToolResult(call.id, 'That date is not valid.', true);
    await expect(answered).resolves.toMatchObject({ output: '{"error":"That date is not valid."}' });
  });

  it('passes tool arguments that are not JSON through as the raw string', async () => {
    const { leg, log } = await open({}, callContext({ firstMessage: '' }));
    await log.waitFor('ready');
    const answered = emu.callTool('check_availability', '{"date": 2026-03-14');
    const call = await log.waitFor('tool_call');
    expect(call.args).toBe('{"date": 2026-03-14');
    leg.sendToolResult(call.id, '{"error":"bad arguments"}', true);
    await expect(answered).resolves.toMatchObject({ output: '{"error":"bad arguments"}' });
  });

  it('ignores malformed frames and unknown event types without failing the call', async () => {
    const { log } = await open({}, callContext({ firstMessage: '' }));
    await log.waitFor('ready');
    emu.inject('{not json');
    emu.inject('{"type":"response.output_audio.delta","delta":42}');
    emu.inject('{"type":"mcp_list_tools.future_event","event_id":"event_X"}');
    emu.inject('[]');
    const answered = emu.callTool('check_availability', { date: '2026-03-14' }); // the socket still works
    const call = await log.waitFor('tool_call');
    legs[0]!.sendToolResult(call.id, '{}', false);
    await answered;
    expect(log.events.slice(0, 2).map((e) => e.type)).toEqual(['ready', 'tool_call']);
    expect(log.of('error')).toHaveLength(0);
  });

  it('waits for the active response to finish before asking for the answer to a tool call', async () => {
    const { leg, log } = await open();
    await log.waitFor('audio'); // greeting is playing
    const answered = emu.callTool('check_availability', { date: '2026-03-14' });
    const call = await log.waitFor('tool_call', () => true, 10_000);
    leg.sendToolResult(call.id, '{"slots":[]}', false);
    await answered;
    await emu.waitFor((s) => s.responses.length === 3 && s.responses[2]!.status === 'completed', 10_000);
    expect(emu.seen.responses.map((r) => r.kind)).toEqual(['audio', 'tool', 'audio']);
    expect(emu.seen.errors.filter((e) => e.code === 'conversation_already_has_active_response')).toHaveLength(0);
  });

  it('stays up when a response fails', async () => {
    emu.options.failNextResponse = true;
    const { leg, log } = await open();
    await emu.waitFor((s) => s.responses.find((r) => r.status === 'failed'));
    sendFrames(leg, Buffer.concat([callerMulaw('caller-booking-8k.wav'), mulawSilence(1000)]));
    await log.waitFor('transcript', (t) => t.role === 'agent', 10_000);
    expect(log.of('error')).toHaveLength(0);
  });
});

describe('OpenAI Realtime adapter: endings', () => {
  it('reports a fatal connectivity error when the server drops the socket', async () => {
    emu.options.dropAfterMs = 300;
    const { log } = await open();
    const ev = await log.waitFor('error');
    expect(ev.fatal).toBe(true);
    expect((ev.error as CallbridgeError).category).toBe('connectivity');
    await expect(emu.waitFor((s) => s.closes[0])).resolves.toMatchObject({ by: 'drop' });
  });

  it('ends the conversation with session_expired when the session cap is hit', async () => {
    await emu.close();
    emu = await startOpenAiEmulator({ speed: 4, sessionCapMs: 400 });
    const { log } = await open({}, callContext({ firstMessage: '' }));
    const end = await log.waitFor('end');
    expect(end.reason).toBe('session_expired');
    expect(log.of('error')).toHaveLength(0);
    await expect(emu.waitFor((s) => s.closes[0])).resolves.toMatchObject({ code: 1001, by: 'server' });
    expect(emu.seen.errors.map((e) => e.code)).toEqual(['session_expired']);
  });

  it('closes with 1000, once, and reports nothing afterwards', async () => {
    const { leg, log } = await open();
    await log.waitFor('audio');
    await Promise.all([leg.close('caller hung up'), leg.close('again')]);
    const n = log.events.length;
    await expect(leg.close('third')).resolves.toBeUndefined();
    await emu.waitFor((s) => s.closes[0]);
    expect(emu.seen.closes).toEqual([{ code: 1000, reason: 'caller hung up', by: 'client' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(log.events.length).toBe(n);
  });
});

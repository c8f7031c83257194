/**
 * The OpenAI emulator behaves like the service where docs/protocols/openai-realtime.md#emulator says it must,
 * checked with a raw `ws` client (no callbridge code in the loop).
 */
import WebSocket from 'ws';
import { startOpenAiEmulator, type OpenAiEmulator } from '../emulators/openai-realtime';

// Server events are read loosely here: the emulator, not this client, is under test.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ev = Record<string, any>;

let emu: OpenAiEmulator;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  emu = await startOpenAiEmulator({ speed: 4 });
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await emu.close();
});

/** A raw client that records every server event and its close. */
async function client(headers: Record<string, string> = { Authorization: 'Bearer sk-test' }, query = '?model=gpt-realtime') {
  const ws = new WebSocket(emu.url + query, { headers });
  sockets.push(ws);
  const events: Ev[] = [];
  let closed: { code: number; reason: string } | undefined;
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    events.push(JSON.parse(d.toString()) as Ev);
    for (const w of [...waiters]) w();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of [...waiters]) w();
  });
  ws.on('error', () => undefined);
  const until = <T>(check: () => T | undefined, ms = 5000) =>
    new Promise<T>((resolve, reject) => {
      const test = () => {
        const v = check();
        if (v === undefined) return;
        waiters.delete(test);
        clearTimeout(t);
        resolve(v);
      };
      const t = setTimeout(() => {
        waiters.delete(test);
        reject(new Error(`timed out; saw ${events.map((e) => e.type).join(',')}`));
      }, ms);
      waiters.add(test);
      test();
    });
  const next = (type: string, from = 0) => until(() => events.slice(from).find((e) => e.type === type));
  const send = (ev: unknown) => ws.send(typeof ev === 'string' ? ev : JSON.stringify(ev));
  return { ws, events, send, next, until, closed: () => until(() => closed) };
}

const GA_PCMU = {
  type: 'session.update',
  session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } },
};

describe('OpenAI emulator', () => {
  it('opens with session.created carrying the GA defaults: PCM 24 kHz both ways and server VAD 0.5/300/500', async () => {
    const c = await client();
    const created = (await c.next('session.created')) as { session: Record<string, unknown> };
    expect(created.session).toMatchObject({
      type: 'realtime',
      expires_at: expect.any(Number),
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: null,
          turn_detection: {
            type: 'server_vad',
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            create_response: true,
            interrupt_response: true,
          },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 } },
      },
    });
  });

  it('refuses a beta-shaped connection with beta_api_shape_disabled and close 4000', async () => {
    const c = await client({ Authorization: 'Bearer sk-test', 'OpenAI-Beta': 'realtime=v1' });
    const err = (await c.next('error')) as { error: { code: string } };
    expect(err.error.code).toBe('beta_api_shape_disabled');
    await expect(c.closed()).resolves.toEqual({ code: 4000, reason: 'beta_api_shape_disabled' });
  });

  it('refuses a bad key with invalid_api_key and close 3000', async () => {
    const c = await client({ Authorization: 'Bearer sk-nope' });
    expect(((await c.next('error')) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    await expect(c.closed()).resolves.toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
  });

  it('applies a partial session.update and answers session.updated with the full config', async () => {
    const c = await client();
    await c.next('session.created');
    c.send({ ...GA_PCMU, session: { ...GA_PCMU.session, instructions: 'Be brief.' } });
    const updated = (await c.next('session.updated')) as { session: { instructions: string; audio: { input: { format: unknown; turn_detection: unknown } } } };
    expect(updated.session.instructions).toBe('Be brief.');
    expect(updated.session.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(updated.session.audio.input.turn_detection).toMatchObject({ type: 'server_vad', silence_duration_ms: 500 });
  });

  it('rejects a session.update without session.type or with beta fields, naming the param and echoing event_id, and stays open', async () => {
    const c = await client();
    await c.next('session.created');
    c.send({ type: 'session.update', event_id: 'evt_1', session: { audio: {} } });
    const e1 = (await c.next('error')) as { error: { param: string; event_id: string } };
    expect(e1.error).toMatchObject({ param: 'session.type', event_id: 'evt_1' });
    const n = c.events.length;
    c.send({ type: 'session.update', event_id: 'evt_2', session: { type: 'realtime', input_audio_format: 'g711_ulaw' } });
    const e2 = (await c.next('error', n)) as { error: { param: string; event_id: string } };
    expect(e2.error).toMatchObject({ param: 'session.input_audio_format', event_id: 'evt_2' });
    c.send(GA_PCMU);
    await c.next('session.updated');
  });

  it('answers malformed input, unknown types and output_audio_buffer.clear with errors and stays open', async () => {
    const c = await client();
    await c.next('session.created');
    c.send('{oops');
    c.send({ type: 'no.such.event' });
    c.send({ type: 'output_audio_buffer.clear' });
    c.send({ type: 'input_audio_buffer.append' });
    await c.until(() => (c.events.filter((e) => e.type === 'error').length === 4 ? true : undefined));
    expect(c.events.filter((e) => e.type === 'error').map((e) => (e as { error: { type: string } }).error.type)).toEqual(
      Array(4).fill('invalid_request_error'),
    );
    c.send(GA_PCMU);
    await c.next('session.updated');
  });

  it('streams a response with the full GA event sequence and rejects response.create while it is active', async () => {
    const c = await client();
    await c.next('session.created');
    c.send(GA_PCMU);
    await c.next('session.updated');
    c.send({ type: 'response.create' });
    await c.next('response.output_audio.delta');
    c.send({ type: 'response.create', event_id: 'evt_again' });
    const err = (await c.next('error')) as { error: { code: string; event_id: string } };
    expect(err.error).toMatchObject({ code: 'conversation_already_has_active_response', event_id: 'evt_again' });
    await c.next('response.done');
    const order = c.events.map((e) => e.type).filter((t) => !t.endsWith('.delta') && t !== 'error' && !t.startsWith('session.'));
    expect(order).toEqual([
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
  });

  it('cancels on response.cancel with client_cancelled, and errors when nothing is active', async () => {
    const c = await client();
    await c.next('session.created');
    c.send({ type: 'response.create' });
    await c.next('response.output_audio.delta');
    c.send({ type: 'response.cancel' });
    const done = (await c.next('response.done')) as { response: { status: string; status_details: unknown } };
    expect(done.response).toMatchObject({ status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' } });
    const n = c.events.length;
    c.send({ type: 'response.cancel' });
    await c.next('error', n);
  });

  it('answers an overshooting truncate with the service error text, then applies it clamped', async () => {
    const c = await client();
    await c.next('session.created');
    c.send(GA_PCMU);
    c.send({ type: 'response.create' });
    const added = (await c.next('response.output_item.added')) as { item: { id: string } };
    await c.next('response.done');
    const len = emu.seen.responses[0]!.audioMs;
    c.send({ type: 'conversation.item.truncate', item_id: added.item.id, content_index: 0, audio_end_ms: len + 500 });
    const err = (await c.next('error')) as { error: { message: string; event_id: unknown } };
    expect(err.error).toMatchObject({ message: `Audio content of ${len}ms is already shorter than ${len + 500}ms`, event_id: null });
    const truncated = (await c.next('conversation.item.truncated')) as { audio_end_ms: number };
    expect(truncated.audio_end_ms).toBe(len);
    expect(emu.seen.truncates[0]).toMatchObject({ ok: false, appliedMs: len });
  });

  it('refuses to truncate a user item', async () => {
    const c = await client();
    await c.next('session.created');
    c.send({ type: 'conversation.item.create', item: { id: 'item_user1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    await c.next('conversation.item.done');
    c.send({ type: 'conversation.item.truncate', item_id: 'item_user1', content_index: 0, audio_end_ms: 0 });
    expect(((await c.next('error')) as { error: { message: string } }).error.message).toBe('Only model output audio messages can be truncated');
  });

  it('detects caller speech by energy on the appended-audio clock and cancels an active response with turn_detected', async () => {
    const c = await client();
    await c.next('session.created');
    c.send(GA_PCMU);
    c.send({ type: 'response.create' });
    await c.next('response.output_audio.delta');
    const silence = Buffer.alloc(1000 * 8, 0xff);
    const tone = Buffer.alloc(600 * 8);
    for (let i = 0; i < tone.length; i++) tone[i] = i % 2 ? 0x20 : 0xa0; // loud square wave in μ-law
    c.send({ type: 'input_audio_buffer.append', audio: Buffer.concat([silence, tone, silence]).toString('base64') });
    const started = (await c.next('input_audio_buffer.speech_started')) as { audio_start_ms: number };
    expect(started.audio_start_ms).toBe(1000 - 300); // speech at 1000 ms, minus prefix_padding_ms
    const stopped = (await c.next('input_audio_buffer.speech_stopped')) as { audio_end_ms: number };
    expect(stopped.audio_end_ms).toBeGreaterThanOrEqual(1600 + 500);
    const done = (await c.next('response.done')) as { response: { status: string; status_details: { reason: string } } };
    expect(done.response.status_details.reason).toBe('turn_detected');
    await c.next('input_audio_buffer.committed');
  });
});

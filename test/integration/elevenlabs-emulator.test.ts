/**
 * The ElevenLabs emulator itself, driven by raw HTTP and `ws` clients (docs/protocols/elevenlabs.md#emulator).
 */
import WebSocket from 'ws';
import type { ElevenLabsEmulator } from '../emulators/elevenlabs';
import { cleanups, emulator, runCleanups, until } from './elevenlabs-helpers';

afterEach(runCleanups);

const signedUrl = async (el: ElevenLabsEmulator, query = 'agent_id=agent_test', path = 'get-signed-url') =>
  fetch(`${el.httpUrl}/v1/convai/conversation/${path}?${query}`, { headers: { 'xi-api-key': 'xi-test-key' } });

/** A raw client that records every server message and the close. */
async function rawClient(url: string, protocols?: string[], headers?: Record<string, string>) {
  const ws = new WebSocket(url, protocols, { headers });
  const messages: Array<{ type?: string; audio_event?: { audio_base_64: string }; [field: string]: unknown }> = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  ws.on('error', () => undefined);
  cleanups.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, messages, closed: () => closed };
}

describe('ElevenLabs emulator: signed URL', () => {
  it('answers 422 with a FastAPI-style detail list when agent_id is missing', async () => {
    const el = await emulator();
    const res = await signedUrl(el, '');
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: [expect.objectContaining({ loc: ['query', 'agent_id'] })] });
  });

  it('accepts the older get_signed_url spelling and points the URL back at itself', async () => {
    const el = await emulator();
    const body = (await (await signedUrl(el, 'agent_id=agent_test', 'get_signed_url')).json()) as { signed_url: string };
    expect(body.signed_url).toMatch(new RegExp(`^${el.wsUrl}/v1/convai/conversation\\?agent_id=agent_test&conversation_signature=`));
  });

  it('makes the signature single-use when a conversation id is requested', async () => {
    const el = await emulator({ initWaitMs: 10 });
    const body = (await (await signedUrl(el, 'agent_id=agent_test&include_conversation_id=true')).json()) as { signed_url: string; conversation_id: string };
    expect(body.conversation_id).toMatch(/^conv_/);
    const first = await rawClient(body.signed_url);
    await until(() => first.messages.length > 0, 5000, 'metadata');
    expect(first.messages[0]).toMatchObject({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: { conversation_id: body.conversation_id },
    });
    await expect(rawClient(body.signed_url)).rejects.toThrow('HTTP 403');
    expect(el.seen.upgrades[1]).toMatchObject({ accepted: false, reason: 'signature already used' });
  });
});

describe('ElevenLabs emulator: conversation socket', () => {
  it('accepts the API key header, selects the convai subprotocol and starts without initiation data', async () => {
    const el = await emulator({ initWaitMs: 50 });
    const c = await rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test&source=js_sdk&version=1.25.0`, ['convai'], {
      'xi-api-key': 'xi-test-key',
    });
    expect(c.ws.protocol).toBe('convai');
    await until(() => c.messages.length >= 2, 5000, 'metadata and greeting');
    expect(c.messages[0]!.type).toBe('conversation_initiation_metadata');
    expect(c.messages[1]).toEqual({
      type: 'agent_response',
      agent_response_event: { agent_response: 'Hello, thanks for calling. How can I help you today?', event_id: 1 },
    });
  });

  it('refuses an upgrade without signature or key', async () => {
    const el = await emulator();
    await expect(rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test`)).rejects.toThrow('HTTP 403');
    expect(el.seen.upgrades).toEqual([expect.objectContaining({ accepted: false, reason: 'no signature or API key' })]);
  });

  it.each([
    ['non-JSON text', 'hello', 'invalid_message'],
    ['an unknown type', JSON.stringify({ type: 'dance' }), 'invalid_message'],
    ['a pong without event_id', JSON.stringify({ type: 'pong' }), 'missing_fields'],
  ])('answers %s with an error event and close 1008', async (_what, frame, errorType) => {
    const el = await emulator({ publicAgent: true });
    const c = await rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test`);
    c.ws.send(frame);
    await until(() => c.closed() !== undefined, 5000, 'close');
    expect(c.closed()!.code).toBe(1008);
    expect(c.messages.at(-1)).toMatchObject({ type: 'error', error_event: { code: 1008, error_type: errorType } });
  });

  it('closes 1002 transport_receive_timeout when the client goes quiet', async () => {
    const el = await emulator({ publicAgent: true, receiveTimeoutMs: 100, initWaitMs: 10 });
    const c = await rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test`);
    await until(() => c.closed() !== undefined, 5000, 'close');
    expect(c.closed()!.code).toBe(1002);
    expect(el.seen.errors).toEqual([expect.objectContaining({ code: 1002, error_type: 'transport_receive_timeout' })]);
  });

  it('records missing pongs, unknown pongs and tool results for unknown ids', async () => {
    const el = await emulator({ publicAgent: true, pingIntervalMs: 20, initWaitMs: 10, speed: 1 });
    const c = await rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test`);
    await until(() => el.seen.pingsSent >= 3, 5000, 'pings');
    c.ws.send(JSON.stringify({ type: 'pong', event_id: 9999 }));
    c.ws.send(JSON.stringify({ type: 'client_tool_result', tool_call_id: 'toolu_nope', result: 'x', is_error: false }));
    await until(() => el.seen.toolResults.length === 1, 5000, 'tool result');
    c.ws.close(1000);
    await until(() => el.seen.closes.length === 1, 5000, 'close');
    expect(el.seen.pongs.unknown).toEqual([9999]);
    expect(el.seen.pongs.missing.length).toBeGreaterThan(0);
    expect(el.seen.toolResults).toEqual([expect.objectContaining({ tool_call_id: 'toolu_nope', known: false })]);
  });

  it('upsamples the 8 kHz greeting for a 24 kHz PCM16 agent', async () => {
    const el = await emulator({ publicAgent: true, outputFormat: 'pcm_24000', initWaitMs: 10, chunkMs: 100 });
    const c = await rawClient(`${el.wsUrl}/v1/convai/conversation?agent_id=agent_test`);
    await until(() => c.messages.some((m) => m.type === 'audio'), 5000, 'audio');
    const audio = c.messages.find((m) => m.type === 'audio')!;
    expect(Buffer.from(audio.audio_event!.audio_base_64, 'base64').length).toBe(4800); // 100 ms × 24 samples × 2 bytes
  });

  it('reset clears what it saw and the options set by configure', async () => {
    const el = await emulator();
    el.configure({ signedUrlStatus: 500 });
    expect((await signedUrl(el)).status).toBe(500);
    el.reset();
    expect(el.seen.requests).toEqual([]);
    expect((await signedUrl(el)).status).toBe(200);
  });
});

/**
 * The ElevenLabs provider adapter against the ElevenLabs emulator over loopback sockets.
 */
import { MULAW_8K } from '../../src/audio/format';
import { mulawToSamples } from '../../src/audio/g711';
import { CallbridgeError } from '../../src/errors';
import type { ProviderLeg } from '../../src/providers/types';
import type { ElevenLabsEmulator } from '../emulators/elevenlabs';
import { callContext, callerFrames, cleanups, elConnector, emulator, EventLog, runCleanups, until } from './elevenlabs-helpers';
import type { ElevenLabsConnectorOptions } from '../../src/providers/elevenlabs/connector';

afterEach(runCleanups);

/** prepare + connect against `el`; the leg is closed after the test. */
async function call(el: ElevenLabsEmulator, over: Parameters<typeof callContext>[0] = {}, opts: ElevenLabsConnectorOptions = {}) {
  const log = new EventLog();
  const ctx = callContext(over);
  const prepared = await elConnector(el, opts).prepare(ctx);
  const leg = await prepared.connect(ctx, log.onEvent);
  cleanups.push(() => leg.close('test over'));
  return { leg, log };
}

async function rejection(p: Promise<unknown>): Promise<CallbridgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CallbridgeError);
  return err as CallbridgeError;
}

function sendAll(leg: ProviderLeg, frames: Buffer[]): void {
  for (const f of frames) leg.sendAudio(f);
}

describe('ElevenLabs provider: set-up', () => {
  it('fetches a signed URL with the API key and opens the conversation it names', async () => {
    const el = await emulator();
    const { log } = await call(el);
    expect(el.seen.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/v1/convai/conversation/get-signed-url',
        query: expect.objectContaining({ agent_id: 'agent_test' }),
        status: 200,
      }),
    ]);
    expect(el.seen.requests[0]!.headers['xi-api-key']).toBe('xi-test-key');
    expect(el.seen.upgrades).toEqual([
      expect.objectContaining({
        path: '/v1/convai/conversation',
        accepted: true,
        query: expect.objectContaining({ conversation_signature: expect.any(String) }),
      }),
    ]);
    const ready = await log.waitFor('ready');
    expect(ready).toEqual({ type: 'ready', inputFormat: MULAW_8K, outputFormat: MULAW_8K, conversationId: el.seen.conversations[0]!.conversationId });
    expect(log.events[0]).toBe(ready);
  });

  it('sends the initiation data first, with prompt, first message and dynamic variables', async () => {
    const el = await emulator();
    await call(el, { prompt: 'You book plumbing jobs.', callSid: 'CA123', from: '+15557654321' });
    expect(el.seen.inits).toEqual([
      {
        type: 'conversation_initiation_client_data',
        conversation_config_override: { agent: { prompt: { prompt: 'You book plumbing jobs.' }, first_message: 'Hello, Acme Plumbing, how can I help?' } },
        dynamic_variables: { call_sid: 'CA123', caller_number: '+15557654321', business_name: 'Acme Plumbing' },
      },
    ]);
    expect(el.seen.secondInits).toBe(0);
    expect(el.seen.bytesBeforeMetadata).toBe(0);
  });

  it('reports PCM16 formats from the metadata', async () => {
    const el = await emulator({ outputFormat: 'pcm_24000', inputFormat: 'pcm_16000' });
    const { log } = await call(el);
    expect(await log.waitFor('ready')).toMatchObject({
      inputFormat: { encoding: 'pcm16le', sampleRate: 16000 },
      outputFormat: { encoding: 'pcm16le', sampleRate: 24000 },
    });
  });

  it('rejects an agent whose output rate the call path does not carry', async () => {
    const el = await emulator({ outputFormat: 'pcm_44100' });
    const ctx = callContext();
    const prepared = await elConnector(el).prepare(ctx);
    const err = await rejection(prepared.connect(ctx, () => undefined));
    expect(err).toMatchObject({ code: 'CB_EL_FORMAT', category: 'bad_request' });
  });

  it.each([
    [{ signedUrlStatus: 401 }, 'auth', 'CB_EL_AUTH'],
    [{ signedUrlStatus: 403 }, 'auth', 'CB_EL_AUTH'],
    [{ agentId: 'agent_other' }, 'bad_request', 'CB_EL_BAD_REQUEST'],
    [{ signedUrlStatus: 422 }, 'bad_request', 'CB_EL_BAD_REQUEST'],
    [{ signedUrlStatus: 429 }, 'rate_limit', 'CB_EL_RATE_LIMIT'],
    [{ signedUrlStatus: 503 }, 'server', 'CB_EL_SERVER'],
    [{ apiKey: 'another-key' }, 'auth', 'CB_EL_AUTH'],
  ] as const)('maps a failed signed-URL call (%o) to category %s', async (opts, category, code) => {
    const el = await emulator(opts);
    const err = await rejection(elConnector(el).prepare(callContext()));
    expect(err).toMatchObject({ category, code });
    expect(el.seen.requests).toHaveLength(1);
  });

  it('maps an unreachable API to a connectivity error', async () => {
    const el = await emulator();
    const url = el.httpUrl;
    await el.close();
    // A short timeout: the SDK leaves its timeout timer running when fetch itself fails.
    const err = await rejection(elConnector({ httpUrl: url } as ElevenLabsEmulator, { signedUrlTimeoutMs: 300 }).prepare(callContext()));
    expect(err).toMatchObject({ category: 'connectivity' });
  });

  it('fails with an auth error when the upgrade is refused with HTTP 403', async () => {
    const el = await emulator({ rejectUpgrade: true });
    const ctx = callContext();
    const prepared = await elConnector(el).prepare(ctx);
    expect(await rejection(prepared.connect(ctx, () => undefined))).toMatchObject({ category: 'auth', code: 'CB_EL_AUTH' });
  });

  it('fails with an auth error when an expired signature is closed with 1008', async () => {
    const el = await emulator({ signatureTtlMs: 0, authFailure: 'close' });
    const ctx = callContext();
    const prepared = await elConnector(el).prepare(ctx);
    expect(await rejection(prepared.connect(ctx, () => undefined))).toMatchObject({ category: 'auth' });
    expect(el.seen.upgrades[0]).toMatchObject({ accepted: false, reason: 'expired signature' });
    await until(() => el.seen.closes.length === 1, 5000, 'the emulator to see the close');
    expect(el.seen.closes[0]).toMatchObject({ code: 1008, by: 'server' });
  });

  it('gives up with a connectivity error when the metadata does not come in time', async () => {
    const el = await emulator({ metadataDelayMs: 2000 });
    const ctx = callContext();
    const prepared = await elConnector(el, { leg: { metadataTimeoutMs: 200 } }).prepare(ctx);
    const events = new EventLog();
    expect(await rejection(prepared.connect(ctx, events.onEvent))).toMatchObject({ category: 'connectivity', code: 'CB_EL_TIMEOUT' });
    await until(() => el.seen.closes.length === 1, 5000, 'the emulator to see the socket close');
    expect(events.events).toEqual([]);
  });

  it('rejects a forbidden override as a contract error', async () => {
    const el = await emulator({ allowOverrides: { prompt: false } });
    const ctx = callContext();
    const prepared = await elConnector(el).prepare(ctx);
    expect(await rejection(prepared.connect(ctx, () => undefined))).toMatchObject({ category: 'bad_request', code: 'CB_EL_CONTRACT' });
    expect(el.seen.errors).toEqual([expect.objectContaining({ code: 1008, error_type: 'override_error' })]);
  });
});

describe('ElevenLabs provider: conversation', () => {
  it('plays the greeting as an agent transcript and μ-law audio tagged with its event_id', async () => {
    const el = await emulator();
    const { log } = await call(el);
    await el.playout();
    const greeting = el.seen.agentResponses[0]!;
    const itemId = String(greeting.eventId);
    await until(() => log.of('audio').length * 100 >= 4400, 5000, 'all greeting audio');
    expect(log.of('transcript')).toEqual([{ type: 'transcript', role: 'agent', text: 'Hello, Acme Plumbing, how can I help?', itemId }]);
    const audio = log.of('audio');
    expect(audio.every((a) => a.itemId === itemId)).toBe(true);
    const bytes = Buffer.concat(audio.map((a) => a.payload));
    expect(bytes.length).toBe(35295); // 4.41 s at 8 bytes/ms
    const samples = mulawToSamples(bytes);
    const rms = Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / samples.length);
    expect(rms).toBeGreaterThan(500); // real speech, not silence
  });

  it('answers every ping with a pong carrying the same event_id', async () => {
    const el = await emulator({ pingIntervalMs: 30 });
    await call(el, { firstMessage: '' });
    await until(() => el.seen.pongs.matched >= 3, 5000, 'three pongs');
    expect(el.seen.pongs.unknown).toEqual([]);
  });

  it('forwards caller audio and reports the caller turn and the agent reply', async () => {
    const el = await emulator();
    const { leg, log } = await call(el, { firstMessage: '' });
    const frames = callerFrames('caller-booking-8k.wav', 'ulaw_8000');
    sendAll(leg, frames);
    const user = await log.waitFor('transcript', (t) => t.role === 'user');
    expect(user.text).toBe(el.seen.userTranscripts[0]);
    await log.waitFor('transcript', (t) => t.role === 'agent');
    await log.waitFor('audio');
    expect(el.seen.chunks).toBe(frames.length);
    expect(el.seen.audioBytes).toBe(frames.reduce((n, f) => n + f.length, 0));
    expect(el.seen.interruptions).toEqual([]);
  });

  it('understands caller audio in PCM16 at 16 kHz', async () => {
    const el = await emulator({ inputFormat: 'pcm_16000', outputFormat: 'pcm_16000' });
    const { leg, log } = await call(el, { firstMessage: '' });
    sendAll(leg, callerFrames('caller-booking-8k.wav', 'pcm_16000'));
    await log.waitFor('transcript', (t) => t.role === 'user');
    const audio = await log.waitFor('audio');
    expect(audio.payload.length).toBe(3200); // 100 ms of PCM16 at 16 kHz
  });

  it('reports a barge-in, then the corrected agent text the caller heard', async () => {
    const el = await emulator({ speed: 1 });
    const { leg, log } = await call(el);
    await log.waitFor('audio');
    sendAll(leg, callerFrames('caller-bargein-8k.wav', 'ulaw_8000'));
    await log.waitFor('interruption');
    const correction = await log.waitFor('transcript', (t) => t.correction === true);
    const cut = el.seen.interruptions[0]!;
    expect(cut.eventId).toBeGreaterThan(cut.turnEventId);
    expect(cut.sentAudioMs).toBeLessThan(cut.totalAudioMs);
    expect(correction).toEqual({ type: 'transcript', role: 'agent', text: cut.correctedText, correction: true, itemId: String(cut.turnEventId) });
    const types = log.events.map((e) => e.type);
    expect(types.indexOf('interruption')).toBeLessThan(types.lastIndexOf('transcript'));
  });

  it('drops audio of a turn older than the last interruption (official client rule)', async () => {
    const el = await emulator();
    const { log } = await call(el, { firstMessage: '' });
    const chunk = (id: number, byte: number) => ({ type: 'audio', audio_event: { audio_base_64: Buffer.alloc(160, byte).toString('base64'), event_id: id } });
    el.send({ type: 'interruption', interruption_event: { event_id: 50 } });
    el.send(chunk(49, 0x11));
    el.send(chunk(50, 0x22));
    el.send(chunk(51, 0x33));
    await log.waitFor('audio', (a) => a.itemId === '51');
    expect(log.of('audio').map((a) => [a.itemId, a.payload[0]])).toEqual([
      ['50', 0x22],
      ['51', 0x33],
    ]);
  });

  it('runs a client tool round trip with a string result', async () => {
    const el = await emulator();
    const { leg, log } = await call(el, { firstMessage: '' });
    const answered = el.callTool('check_availability', { date: '2026-03-14', duration_minutes: 60 });
    const tc = await log.waitFor('tool_call');
    expect(tc).toEqual({
      type: 'tool_call',
      id: expect.stringMatching(/^toolu_/),
      name: 'check_availability',
      args: { date: '2026-03-14', duration_minutes: 60 },
    });
    leg.sendToolResult(tc.id, '{"slots":["15:30"]}', false);
    await expect(answered).resolves.toMatchObject({ tool_call_id: tc.id, result: '{"slots":["15:30"]}', is_error: false, known: true });
  });

  it('maps user transcripts, logs but ignores unknown events and malformed JSON', async () => {
    const el = await emulator({ pingIntervalMs: 30 });
    const { log } = await call(el, { firstMessage: '' });
    el.send('{not json');
    el.send({ type: 'vad_score', vad_score_event: { vad_score: 0.9 } });
    el.send({ type: 'tentative_user_transcript', tentative_user_transcription_event: { user_transcript: 'I would', event_id: 3 } });
    el.send({ type: 'audio', audio_event: { event_id: 'x' } });
    el.send({ type: 'user_transcript', user_transcription_event: { user_transcript: 'Book me in.', event_id: 4 } });
    await expect(log.waitFor('transcript')).resolves.toEqual({ type: 'transcript', role: 'user', text: 'Book me in.' });
    const pongs = el.seen.pongs.matched;
    await until(() => el.seen.pongs.matched > pongs, 5000, 'pongs to continue');
    expect(log.events.map((e) => e.type)).toEqual(['ready', 'transcript']);
  });
});

describe('ElevenLabs provider: endings', () => {
  it('reports the agent hanging up (close 1000) as an end', async () => {
    const el = await emulator();
    const { log } = await call(el);
    await el.hangUp();
    await expect(log.waitFor('end')).resolves.toEqual({ type: 'end', reason: 'agent_ended' });
    expect(log.of('error')).toEqual([]);
  });

  it('reports max_duration_exceeded as the end reason', async () => {
    const el = await emulator({ maxDurationMs: 100 });
    const { log } = await call(el, { firstMessage: '' });
    await expect(log.waitFor('end')).resolves.toEqual({ type: 'end', reason: 'max_duration_exceeded' });
  });

  it.each([
    [1011, 'server'],
    [1002, 'server'],
    [1006, 'connectivity'],
  ] as const)('reports a server close with %i as a fatal %s error', async (closeCode, category) => {
    const el = await emulator({ closeAfterMs: 50, closeCode });
    const { log } = await call(el, { firstMessage: '' });
    const ev = await log.waitFor('error');
    expect(ev.fatal).toBe(true);
    expect(ev.error).toMatchObject({ category });
    expect(log.of('end')).toEqual([]);
  });

  it('closes with 1000, idempotently, and emits nothing afterwards', async () => {
    const el = await emulator({ pingIntervalMs: 20 });
    const { leg, log } = await call(el);
    await log.waitFor('audio');
    const first = leg.close('carrier hung up');
    expect(leg.close('again')).toBe(first);
    await first;
    const count = log.events.length;
    await until(() => el.seen.closes.length === 1, 5000, 'the emulator to see the close');
    expect(el.seen.closes[0]).toMatchObject({ code: 1000, reason: 'carrier hung up', by: 'client' });
    leg.sendAudio(Buffer.alloc(160, 0xff));
    leg.sendToolResult('toolu_x', 'late', false);
    await new Promise((r) => setTimeout(r, 50));
    expect(log.events.length).toBe(count);
  });
});

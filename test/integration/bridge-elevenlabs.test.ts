/**
 * Full Twilio calls through the real server to the ElevenLabs ConvAI emulator (the new path).
 */
import type { CallRecord } from '../../src/call/call-record';
import { defaultScript } from '../emulators/agent-script';
import { fixture, rms, startBridge, type Bridge } from '../helpers/bridge';

const SPEED = 4;
const script = defaultScript();

describe('Twilio ⇄ ElevenLabs ConvAI bridge', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('greets, answers, clears playback on an interruption before any further agent audio, and keeps the corrected turn', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: SPEED, elevenlabs: { pingIntervalMs: 200 } });
    const el = b.el!;
    const call = await b.call();

    // Signed URL fetched with xi-api-key; initiation data carries the overrides and dynamic variables.
    const conv = await el.waitForConversation(5000);
    expect(el.seen.requests[0]).toMatchObject({ method: 'GET', path: '/v1/convai/conversation/get-signed-url', query: { agent_id: 'agent_test' } });
    expect(el.seen.requests[0]!.headers['xi-api-key']).toBe('xi-test-key');
    await call.waitFor('media', 5000);
    const init = el.seen.inits[0]!;
    expect(init.conversation_config_override?.agent?.first_message).toBe(b.cfg.FIRST_MESSAGE);
    expect(init.conversation_config_override?.agent?.prompt?.prompt).toBe(b.cfg.SYSTEM_PROMPT);
    expect(init.dynamic_variables).toMatchObject({ call_sid: call.callSid, caller_number: '+14155550123' });

    // Greeting heard.
    await call.waitFor('media', 5000);
    await conv.playout();
    expect(rms(call.played())).toBeGreaterThan(300);

    // Caller asks; the agent replies; the caller interrupts the reply.
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await call.waitFor((r) => r.msg.event === 'media' && el.seen.agentResponses.length >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 1200 / SPEED));
    call.sendAudio(fixture('caller-bargein-8k.wav'));
    const clear = await call.waitFor('clear', 5000);
    const interruption = el.seen.interruptions[0]!;
    expect(interruption.sentAudioMs).toBeLessThan(interruption.totalAudioMs);

    // After the clear, no agent audio while the caller is still speaking.
    await call.waitFor((r) => r.msg.event === 'media' && r.atMs > clear.atMs, 15_000);
    const bargeClip = call.callerClips[1]!;
    expect(bargeClip.endMs).toBeDefined();
    const stale = call.received.filter((r) => r.msg.event === 'media' && r.atMs > clear.atMs && r.atMs < bargeClip.endMs! / SPEED);
    expect(stale).toEqual([]);
    // Every mark pending at the clear came back flagged as cleared, none counted as played.
    expect(call.marks.filter((m) => m.cleared).length).toBeGreaterThan(0);

    await conv.playout();
    await call.hangup();
    await b.ended(call.callSid);
    await b.waitIdle();
    expect(el.seen.closes).toContainEqual(expect.objectContaining({ by: 'client', code: 1000 }));

    // Caller audio reached ElevenLabs as 160-byte μ-law frames; every ping was answered.
    expect(el.seen.conversations[0]).toMatchObject({ inputFormat: 'ulaw_8000', outputFormat: 'ulaw_8000' });
    expect(el.seen.audioBytes).toBe(el.seen.chunks * 160);
    expect(el.seen.chunks).toBeGreaterThan(call.counters.mediaFrames - 20);
    expect(el.seen.pongs.matched).toBeGreaterThan(0);
    expect(el.seen.pongs.unknown).toEqual([]);

    const api = await b.admin<CallRecord>(`/api/calls/${call.callSid}`);
    expect(api.body).toMatchObject({ provider: 'elevenlabs', carrier: 'twilio', status: 'completed', flagSource: 'env' });
    const turns = api.body.turns;
    expect(turns.map((t) => t.role)).toEqual(['agent', 'user', 'agent', 'user', 'agent']);
    expect(turns[0]!.text).toBe(script.greeting.text);
    expect(turns[1]!.text).toBe(script.userTranscripts[0]);
    expect(turns[2]!.interrupted).toBe(true);
    expect(turns[2]!.text).toBe(interruption.correctedText);
    expect(turns[3]!.text).toBe(script.userTranscripts[1]);
    expect(turns.filter((t) => t.interrupted)).toHaveLength(1);
    expect(api.body.counters.bargeIns).toBe(1);
    expect(await b.metricsText()).toMatch(/callbridge_barge_ins_total\{provider="elevenlabs"\} 1/);
  }, 60_000);

  it('hangs up the Twilio call through REST when the agent ends the conversation', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: SPEED });
    const call = await b.call();
    await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    await b.el!.hangUp();
    const closed = await call.closed;
    expect(closed.by).toBe('carrier');
    expect(call.endReason).toBe('rest-hangup');
    // The greeting had finished playing before the hang-up.
    expect(call.bufferedBytes).toBe(0);
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('completed');
    await b.waitIdle();
  }, 30_000);

  it('transcodes when the agent speaks PCM16 at 16 kHz', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: SPEED, elevenlabs: { outputFormat: 'pcm_16000', inputFormat: 'pcm_16000' } });
    const call = await b.call();
    const conv = await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    await conv.playout();
    await new Promise((r) => setTimeout(r, 300));
    // The greeting arrives as μ-law 8 kHz speech of the right length (±10 %).
    const playedMs = call.played().length / 8;
    const greetingMs = script.greeting.samples.length / 8;
    expect(playedMs).toBeGreaterThan(greetingMs * 0.9);
    expect(playedMs).toBeLessThan(greetingMs * 1.1);
    expect(rms(call.played())).toBeGreaterThan(300);
    // Caller audio went to ElevenLabs as PCM16 16 kHz: 640 bytes per 20 ms frame.
    await call.hangup();
    await b.waitIdle();
    expect(b.el!.seen.audioBytes % 640).toBe(0);
    expect(b.el!.seen.audioBytes).toBeGreaterThan(0);
  }, 30_000);

  it('ends the call politely with a spoken apology when the signed-URL request is refused', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: SPEED, elevenlabs: { signedUrlStatus: 401 } });
    const call = await b.call();
    await call.closed;
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('failed');
    const update = b.rest.requests.find((r) => r.path.endsWith(`/Calls/${call.callSid}.json`) && typeof r.form.Twiml === 'string');
    expect(update?.form.Twiml).toMatch(/<Say>Sorry.*<\/Say><Hangup\/>/);
    expect(await b.metricsText()).toMatch(/callbridge_provider_errors_total\{provider="elevenlabs",category="auth"\} 1/);
    await b.waitIdle();
  }, 30_000);
});

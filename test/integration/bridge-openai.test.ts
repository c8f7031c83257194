/**
 * Full Twilio calls through the real server to the OpenAI Realtime emulator (legacy path).
 */
import type { CallRecord } from '../../src/call/call-record';
import { defaultScript } from '../emulators/agent-script';
import { fixture, rms, startBridge, until, type Bridge } from '../helpers/bridge';

const SPEED = 4;
const script = defaultScript();

describe('Twilio ⇄ OpenAI Realtime bridge', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('greets, answers, clears playback on barge-in, truncates at what was heard, and keeps the transcript in spoken order', async () => {
    b = await startBridge({ provider: 'openai', speed: SPEED });
    const call = await b.call();
    const oa = b.oa!;

    // Greeting heard: agent media arrives and is speech, not silence.
    await call.waitFor('media', 5000);
    expect(oa.seen.formats[0]).toEqual({ input: { type: 'audio/pcmu' }, output: { type: 'audio/pcmu' } });
    await oa.waitFor((s) => s.responses[0]?.status === 'completed', 10_000);
    await new Promise((r) => setTimeout(r, (script.greeting.samples.length / 8 / SPEED) * 0.5));

    // Caller asks; the agent replies.
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await oa.waitFor((s) => s.responses.find((r, i) => i >= 1 && r.kind === 'audio' && r.audioMs > 1500), 15_000);
    const clearsBefore = call.clears.length;

    // Caller barges in during the reply.
    call.sendAudio(fixture('caller-bargein-8k.wav'));
    const clear = await call.waitFor((r) => r.msg.event === 'clear' && call.clears.length > clearsBefore, 5000);
    const cancel = await oa.waitFor((s) => s.cancels[0], 5000);
    expect(cancel.reason).toBe('turn_detected');

    // No agent audio while the caller is still talking after the clear: once the barge-in clip has been
    // sent in full (its end in media ms, reached at endMs / SPEED wall ms), nothing arrived in between.
    const bargeEndMs = await until('the barge-in clip to be sent in full', () => call.callerClips[1]?.endMs, 10_000);
    const staleMedia = call.received.filter((r) => r.msg.event === 'media' && r.atMs > clear.atMs && r.atMs < bargeEndMs / SPEED);
    expect(staleMedia).toEqual([]);

    // Truncated at the ms heard (from marks), never beyond what was sent.
    const truncate = await oa.waitFor((s) => s.truncates[0], 5000);
    expect(truncate.ok).toBe(true);
    expect(truncate.requestedMs).toBeGreaterThan(0);
    expect(truncate.requestedMs).toBeLessThanOrEqual(cancel.audioMs);

    // The agent answers the barge-in, then the caller hangs up.
    await oa.waitFor((s) => s.responses.filter((r) => r.kind === 'audio' && r.status === 'completed').length >= 2, 15_000);
    await call.waitFor((r) => r.msg.event === 'media' && r.atMs > clear.atMs, 10_000);
    expect(rms(call.played())).toBeGreaterThan(300);
    // Its transcript arrives after its audio (response.output_audio_transcript.done): hang up once the bridge has it.
    const agentTurns = () => b.srv.registry.find(call.callSid)?.turns.filter((t) => t.role === 'agent').length ?? 0;
    await until('the answer in the transcript', () => (agentTurns() >= 3 ? true : undefined), 10_000);
    await call.hangup();

    const rec = await b.ended(call.callSid);
    await oa.waitFor((s) => s.closes.find((c) => c.by === 'client' && c.code === 1000), 5000);
    await b.waitIdle();

    // Caller audio reached OpenAI as μ-law: every 20 ms frame the carrier sent, give or take frames in flight.
    const sentMs = call.counters.mediaFrames * 20;
    expect(oa.seen.appendedMs).toBeGreaterThan(sentMs - 400);
    expect(oa.seen.appendedMs).toBeLessThanOrEqual(sentMs);

    const api = await b.admin<CallRecord>(`/api/calls/${call.callSid}`);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ callSid: call.callSid, provider: 'openai', carrier: 'twilio', direction: 'inbound', status: 'completed' });
    expect(api.body.counters.bargeIns).toBe(1);
    const turns = api.body.turns;
    expect(turns.map((t) => t.role)).toEqual(['agent', 'user', 'agent', 'user', 'agent']);
    expect(turns.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(turns[0]!.text).toBe(script.greeting.text);
    expect(turns[1]!.text).toBe(script.userTranscripts[0]);
    expect(turns[2]!.interrupted).toBe(true);
    expect(turns[3]!.text).toBe(script.userTranscripts[1]);
    expect(turns.filter((t) => t.interrupted)).toHaveLength(1);
    expect(rec.timings.firstAgentAudioMs).toBeGreaterThan(0);
    const active = await b.admin<{ count: number }>('/api/calls/active');
    expect(active.body.count).toBe(0);
  }, 60_000);

  it('hangs up through the Twilio REST API after the agent calls end_call, and closes both legs', async () => {
    b = await startBridge({ provider: 'openai', speed: SPEED });
    const call = await b.call();
    await b.oa!.waitFor((s) => s.responses[0]?.status === 'completed', 10_000);
    const result = await b.oa!.callTool('end_call', { reason: 'caller is done' });
    expect(JSON.parse(result.output)).toEqual({ ok: true });
    const closed = await call.closed;
    expect(closed.by).toBe('carrier');
    expect(call.endReason).toBe('rest-hangup');
    expect(b.rest.requests.some((r) => r.method === 'POST' && r.path.endsWith(`/Calls/${call.callSid}.json`) && r.form.Status === 'completed')).toBe(true);
    await b.oa!.waitFor((s) => s.closes.find((c) => c.by === 'client'), 5000);
    await b.waitIdle();
  }, 30_000);

  it('ends the call politely with a spoken apology when OpenAI rejects the API key', async () => {
    b = await startBridge({ provider: 'openai', speed: SPEED, env: { OPENAI_API_KEY: 'sk-wrong' } });
    const call = await b.call();
    await call.closed;
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('failed');
    expect(rec.endReason).toMatch(/provider_error/);
    const update = b.rest.requests.find((r) => r.path.endsWith(`/Calls/${call.callSid}.json`) && typeof r.form.Twiml === 'string');
    expect(update?.form.Twiml).toMatch(/<Say>Sorry, our assistant is not available.*<\/Say><Hangup\/>/);
    expect(await b.metricsText()).toMatch(/callbridge_provider_errors_total\{provider="openai",category="auth"\} 1/);
    await b.waitIdle();
  }, 30_000);
});

/**
 * PROVIDER_FAILOVER through the emulators: the chosen provider refuses at call start, or drops
 * mid-call, and the other one continues the same call with the conversation so far, while the
 * Twilio media socket stays open. Prints the silence the caller heard (carrier-side playout gap).
 */
import type { CallRecord } from '../../src/call/call-record';
import { RESUME_MESSAGE } from '../../src/call/failover';
import { defaultScript } from '../emulators/agent-script';
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { carrierTimeline } from './faults-helpers';

const SPEED = 4;
const script = defaultScript();

describe('provider failover', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  });

  it('ElevenLabs refuses at call start → OpenAI answers the same call', async () => {
    b = await startBridge({ provider: 'elevenlabs', both: true, speed: SPEED, env: { PROVIDER_FAILOVER: 'true' }, elevenlabs: { signedUrlStatus: 503 } });
    const call = await b.call();
    await call.waitFor('media', 10_000);
    expect(b.oa!.seen.upgrades).toHaveLength(1);
    expect(call.isClosed).toBe(false);
    const live = b.srv.registry.find(call.callSid)!;
    expect(live).toMatchObject({ provider: 'elevenlabs', status: 'in-progress', counters: expect.objectContaining({ failovers: 1 }) });
    expect(live.providerHistory).toEqual([expect.objectContaining({ from: 'elevenlabs', to: 'openai' })]);
    // No apology, no hang-up: the Twilio call was never touched through REST.
    expect(b.rest.requests.filter((r) => typeof r.form.Twiml === 'string')).toEqual([]);
    expect(await b.metricsText()).toMatch(/callbridge_provider_failovers_total 1/);
    await call.hangup();
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('completed');
  }, 60_000);

  it('ElevenLabs drops mid-call → OpenAI continues with the earlier turns in its instructions; the media socket stays open', async () => {
    b = await startBridge({ provider: 'elevenlabs', both: true, speed: SPEED, env: { PROVIDER_FAILOVER: 'true' } });
    const call = await b.call();
    const conv = await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    await conv.playout();
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('the agent reply', () => b.el!.seen.agentResponses.length >= 2);
    await conv.playout();
    await until('both turns in the transcript', () => (b.srv.registry.find(call.callSid)?.turns.length ?? 0) >= 3);
    await new Promise((r) => setTimeout(r, 1500));
    await conv.playout();
    await until('the carrier played everything', () => call.bufferedBytes === 0);

    const timeline = carrierTimeline(call);
    const failedAt = Date.now();
    conv.drop(); // TCP gone, no close frame (1006)

    const update = await b.oa!.waitFor((s) => s.sessionUpdates.find((u) => u.ok), 10_000);
    const instructions = (update.event as { session: { instructions: string } }).session.instructions;
    expect(instructions).toContain(`Agent: ${script.greeting.text}`);
    expect(instructions).toContain(`Caller: ${script.userTranscripts[0]}`);
    expect(instructions).toContain(`Agent: ${script.replies[0]!.text}`);
    await b.oa!.waitFor((s) => JSON.stringify(s.items).includes(RESUME_MESSAGE), 10_000);

    const firstAudio = await until('OpenAI audio at the carrier', () => timeline.media[0]);
    const playout = await until('playout of it', () => timeline.playouts[0]);
    // Nothing was queued at the carrier when the drop happened, so the caller's extra silence is drop → new audio.
    const gapMs = firstAudio - failedAt;
    const idleMs = Math.round(playout.idleMs);
    console.log(
      `failover gap: first OpenAI audio at the carrier ${gapMs} ms after the ElevenLabs drop ` +
        `(carrier idle ${idleMs} ms in all, ${idleMs - gapMs} ms of it before the drop)`,
    );
    expect(call.isClosed).toBe(false);

    // The call goes on with OpenAI: the caller speaks again and OpenAI answers.
    const responses = b.oa!.seen.responses.length;
    call.sendAudio(fixture('caller-bargein-8k.wav'));
    await b.oa!.waitFor((s) => s.responses.length > responses, 15_000);
    const live = b.srv.registry.find(call.callSid) as CallRecord;
    expect(live.providerHistory).toEqual([expect.objectContaining({ from: 'elevenlabs', to: 'openai' })]);
    expect(live.counters.failovers).toBe(1);
    await call.hangup();
    expect((await b.ended(call.callSid)).status).toBe('completed');
  }, 90_000);

  it('OpenAI drops mid-call → ElevenLabs continues with the earlier turns as its prompt override', async () => {
    // The emulator drops each socket (no close frame) 3 s after it opens: after the greeting.
    b = await startBridge({ provider: 'openai', both: true, speed: SPEED, env: { PROVIDER_FAILOVER: 'true' }, openai: { dropAfterMs: 3000 } });
    const call = await b.call();
    await call.waitFor('media', 10_000);
    await until('the greeting turn', () => (b.srv.registry.find(call.callSid)?.turns.length ?? 0) >= 1);
    const greeting = b.srv.registry.find(call.callSid)!.turns[0]!.text;
    const conv = await b.el!.waitForConversation(10_000);
    const init = await until('the initiation message', () => b.el!.seen.inits[0]);
    expect(init.conversation_config_override?.agent?.prompt?.prompt).toContain(`Agent: ${greeting}`);
    expect(init.conversation_config_override?.agent?.first_message).toBe(RESUME_MESSAGE);
    await call.waitFor((r) => r.msg.event === 'media' && b.el!.seen.agentResponses.length >= 1, 10_000);
    expect(call.isClosed).toBe(false);
    expect(b.srv.registry.find(call.callSid)!.providerHistory).toEqual([expect.objectContaining({ from: 'openai', to: 'elevenlabs' })]);
    await conv.playout();
    await call.hangup();
    expect((await b.ended(call.callSid)).status).toBe('completed');
  }, 60_000);

  it('both providers unreachable → the apology path ends the call', async () => {
    b = await startBridge({
      provider: 'elevenlabs',
      both: true,
      speed: SPEED,
      env: { PROVIDER_FAILOVER: 'true' },
      elevenlabs: { signedUrlStatus: 503 },
      openai: { rejectUpgradeStatus: 500 },
    });
    const call = await b.call();
    await call.closed;
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('failed');
    const update = b.rest.requests.find((r) => typeof r.form.Twiml === 'string');
    expect(update?.form.Twiml).toMatch(/<Say>Sorry.*<\/Say><Hangup\/>/);
  }, 60_000);

  it('ElevenLabs refuses our key (401) → no failover: a misconfiguration would fail every call the same way, so the apology ends it', async () => {
    b = await startBridge({ provider: 'elevenlabs', both: true, speed: SPEED, env: { PROVIDER_FAILOVER: 'true' }, elevenlabs: { signedUrlStatus: 401 } });
    const call = await b.call();
    await call.closed;
    const rec = await b.ended(call.callSid);
    expect(rec.status).toBe('failed');
    expect(rec.counters.failovers ?? 0).toBe(0);
    expect(b.oa!.seen.upgrades).toHaveLength(0);
    expect(b.rest.requests.find((r) => typeof r.form.Twiml === 'string')?.form.Twiml).toMatch(/<Say>Sorry.*<\/Say><Hangup\/>/);
    expect(await b.metricsText()).toMatch(/callbridge_provider_errors_total\{provider="elevenlabs",category="auth"\} 1/);
  }, 60_000);
});

/**
 * Provider faults through the emulators, each with its defined outcome: a close or drop mid-utterance
 * without failover (apology, every turn so far stored), a stall (the leg's watchdog: failover or
 * apology), `error` events (non-fatal: the call keeps talking), audio that does not fit the declared
 * format, the signed-URL request failing by category, and OpenAI refusing the session. After each
 * call the server has no live call and the process no extra timer or socket. Prints the silence the
 * caller heard for each (carrier playout gaps, or fault → apology).
 * Covered elsewhere, not repeated here: failover on a drop mid-call and on 503/refusals at call start,
 * 401 with failover on (test/integration/failover.test.ts); malformed provider frames
 * (openai-provider / elevenlabs-provider tests).
 */
import { fixture, startBridge, until, type Bridge, type BridgeOptions } from '../helpers/bridge';
import { apology, carrierTimeline, report, resources, settledLeaks, waitApology, greetedElevenLabsCall } from './faults-helpers';

jest.setTimeout(60_000);
const SPEED = 4;
const APOLOGY = /<Say>Sorry.*<\/Say><Hangup\/>/;

let b: Bridge | undefined;
let baseline: Record<string, number> = {};

async function bridge(opts: BridgeOptions): Promise<Bridge> {
  b = await startBridge({ speed: SPEED, ...opts });
  await b.srv.store.healthy(); // warm-up: the embedded store's worker starts on first use
  baseline = resources();
  return b;
}

afterEach(async () => {
  const leaks = b ? await settledLeaks(b, baseline) : [];
  await b?.close();
  b = undefined;
  expect(leaks).toEqual([]);
});

/** The call's turns as stored (after the store's queue is flushed), and as the live record had them. */
async function storedTurns(br: Bridge, callSid: string): Promise<{ stored: number; spoken: number }> {
  await br.waitIdle(10_000); // written once both legs are released
  expect(await br.srv.store.flush(15_000)).toBe(0);
  const row = await br.srv.store.getCall(callSid);
  return { stored: row?.turns.length ?? 0, spoken: br.srv.registry.find(callSid)?.turns.length ?? -1 };
}

describe('the provider closes mid-utterance, no failover', () => {
  it('ElevenLabs: error + close 1011 while the reply plays → the apology, and every turn so far is stored', async () => {
    const br = await bridge({ provider: 'elevenlabs' });
    const { call, conv } = await greetedElevenLabsCall(br);
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('the agent reply', () => br.el!.seen.agentResponses.length >= 2);
    const failedAt = Date.now();
    conv.fail(1011, 'unknown_websocket_crash', 'Injected failure');
    const { twiml, afterMs } = await waitApology(br, failedAt);
    expect(twiml).toMatch(APOLOGY);
    await call.closed;
    const rec = await br.ended(call.callSid);
    expect(rec.status).toBe('failed');
    const turns = await storedTurns(br, call.callSid);
    expect(turns.spoken).toBeGreaterThanOrEqual(3);
    expect(turns.stored).toBe(turns.spoken);
    report('ElevenLabs close 1011 mid-utterance (failover off)', `apology, ${turns.stored}/${turns.spoken} turns stored`, afterMs);
  });

  it('OpenAI: socket dropped while the reply plays → the apology, and every turn so far is stored', async () => {
    const br = await bridge({ provider: 'openai' });
    const call = await br.call();
    await call.waitFor('media', 10_000);
    await br.oa!.waitFor((s) => s.responses.find((r) => r.status === 'completed'), 10_000);
    await until('the carrier played the greeting', () => call.bufferedBytes === 0);
    const responses = br.oa!.seen.responses.length;
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await br.oa!.waitFor((s) => s.responses.length > responses, 15_000);
    await until('reply audio at the carrier', () => call.bufferedBytes > 0);
    const failedAt = Date.now();
    br.oa!.drop();
    const { twiml, afterMs } = await waitApology(br, failedAt);
    expect(twiml).toMatch(APOLOGY);
    await call.closed;
    expect((await br.ended(call.callSid)).status).toBe('failed');
    const turns = await storedTurns(br, call.callSid);
    expect(turns.spoken).toBeGreaterThanOrEqual(2);
    expect(turns.stored).toBe(turns.spoken);
    report('OpenAI drop mid-utterance (failover off)', `apology, ${turns.stored}/${turns.spoken} turns stored`, afterMs);
  });
});

describe('the provider stalls (connection up, nothing sent, pings unanswered)', () => {
  it('ElevenLabs stalls with PROVIDER_FAILOVER → the watchdog fails the leg and OpenAI continues the call', async () => {
    const br = await bridge({ provider: 'elevenlabs', both: true, env: { PROVIDER_FAILOVER: 'true' } });
    const { call, conv } = await greetedElevenLabsCall(br);
    await until('the carrier played the greeting', () => call.bufferedBytes === 0);
    const timeline = carrierTimeline(call);
    const stalledAt = Date.now();
    conv.stall();
    const first = await until('OpenAI audio at the carrier', () => timeline.media[0], 20_000);
    const silence = first - stalledAt;
    expect(call.isClosed).toBe(false);
    const live = br.srv.registry.find(call.callSid)!;
    expect(live.providerHistory).toEqual([expect.objectContaining({ from: 'elevenlabs', to: 'openai' })]);
    expect(apology(br)).toBeUndefined();
    // Bounded: the watchdog's idle + grace + check period (4.5 s) plus the OpenAI handshake, with room for a loaded machine.
    expect(silence).toBeLessThan(15_000);
    report('ElevenLabs stall (failover on)', 'watchdog → failover to OpenAI, call continues', silence);
    await call.hangup();
    expect((await br.ended(call.callSid)).status).toBe('completed');
  });

  it('OpenAI stalls without failover → the watchdog fails the leg and the apology ends the call', async () => {
    const br = await bridge({ provider: 'openai' });
    const call = await br.call();
    await call.waitFor('media', 10_000);
    await br.oa!.waitFor((s) => s.responses.find((r) => r.status === 'completed'), 10_000);
    await until('the carrier played the greeting', () => call.bufferedBytes === 0);
    const stalledAt = Date.now();
    br.oa!.stall();
    call.sendAudio(fixture('caller-booking-8k.wav'));
    const { twiml, afterMs } = await waitApology(br, stalledAt);
    expect(twiml).toMatch(APOLOGY);
    await call.closed;
    expect((await br.ended(call.callSid)).status).toBe('failed');
    expect(afterMs).toBeLessThan(15_000);
    report('OpenAI stall (failover off)', 'watchdog → apology', afterMs);
  });
});

describe('the provider sends `error` without closing (non-fatal)', () => {
  it('ElevenLabs `error` event → logged, the conversation goes on: the caller speaks and the agent answers', async () => {
    const br = await bridge({ provider: 'elevenlabs' });
    const { call, conv } = await greetedElevenLabsCall(br);
    const timeline = carrierTimeline(call);
    conv.send({ type: 'error', error_event: { code: 1011, message: 'transient hiccup', error_type: 'llm_error' } });
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('the agent reply', () => br.el!.seen.agentResponses.length >= 2);
    await until('reply audio played at the carrier', () => timeline.playouts[0], 15_000);
    expect(call.isClosed).toBe(false);
    expect(apology(br)).toBeUndefined();
    await conv.playout();
    await call.hangup();
    expect((await br.ended(call.callSid)).status).toBe('completed');
    report('ElevenLabs error event (no close)', 'ignored, call keeps talking', 'none (no gap added)');
  });

  it('OpenAI `error` event → logged, the conversation goes on: the caller speaks and the agent answers', async () => {
    const br = await bridge({ provider: 'openai' });
    const call = await br.call();
    await call.waitFor('media', 10_000);
    await br.oa!.waitFor((s) => s.responses.find((r) => r.status === 'completed'), 10_000);
    const error = { type: 'invalid_request_error', code: 'invalid_value', message: 'Injected error', param: null, event_id: null };
    br.oa!.inject(JSON.stringify({ type: 'error', event_id: 'event_inj', error }));
    const responses = br.oa!.seen.responses.length;
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await br.oa!.waitFor((s) => s.responses.length > responses, 15_000);
    await until('reply audio at the carrier', () => call.bufferedBytes > 0);
    expect(call.isClosed).toBe(false);
    expect(apology(br)).toBeUndefined();
    await call.hangup();
    expect((await br.ended(call.callSid)).status).toBe('completed');
    report('OpenAI error event (no close)', 'ignored, call keeps talking', 'none (no gap added)');
  });
});

describe('audio that does not fit the declared format', () => {
  it('ElevenLabs pcm_16000 chunks of odd length and of invalid base64 → the call keeps talking and answers the caller', async () => {
    const br = await bridge({ provider: 'elevenlabs', elevenlabs: { outputFormat: 'pcm_16000' } });
    const { call, conv } = await greetedElevenLabsCall(br);
    const eventId = br.el!.seen.agentResponses[0]!.eventId;
    for (const n of [1, 161, 3, 641]) conv.send({ type: 'audio', audio_event: { audio_base_64: Buffer.alloc(n, 0x11).toString('base64'), event_id: eventId } });
    conv.send({ type: 'audio', audio_event: { audio_base_64: '%%%not base64%%%', event_id: eventId } });
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await until('the agent reply', () => br.el!.seen.agentResponses.length >= 2);
    await conv.playout();
    expect(call.isClosed).toBe(false);
    expect(call.violations).toEqual([]);
    await call.hangup();
    expect((await br.ended(call.callSid)).status).toBe('completed');
    report('ElevenLabs odd-length PCM chunks', 'call keeps talking', 'none');
  });

  it('OpenAI deltas of invalid base64 → the call keeps talking and answers the caller', async () => {
    const br = await bridge({ provider: 'openai' });
    const call = await br.call();
    await call.waitFor('media', 10_000);
    await br.oa!.waitFor((s) => s.responses.find((r) => r.status === 'completed'), 10_000);
    for (const delta of ['%%%', '', 'A', 'QUJD=extra', 42])
      br.oa!.inject(
        JSON.stringify({
          type: 'response.output_audio.delta',
          event_id: 'e',
          response_id: 'resp_x',
          item_id: 'item_x',
          output_index: 0,
          content_index: 0,
          delta,
        }),
      );
    const responses = br.oa!.seen.responses.length;
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await br.oa!.waitFor((s) => s.responses.length > responses, 15_000);
    await until('reply audio at the carrier', () => call.bufferedBytes > 0);
    expect(call.isClosed).toBe(false);
    expect(call.violations).toEqual([]);
    await call.hangup();
    expect((await br.ended(call.callSid)).status).toBe('completed');
    report('OpenAI invalid base64 deltas', 'call keeps talking', 'none');
  });
});

describe('the signed-URL request fails', () => {
  // 503 and 401 with failover: test/integration/failover.test.ts; 401 without: bridge-elevenlabs.test.ts.
  const cases: Array<{ fault: string; el: BridgeOptions['elevenlabs']; failover: boolean; expect: 'failover' | 'apology' }> = [
    { fault: 'HTTP 429', el: { signedUrlStatus: 429 }, failover: true, expect: 'failover' },
    { fault: 'HTTP 500', el: { signedUrlStatus: 500 }, failover: true, expect: 'failover' },
    { fault: 'timeout (no answer in 5 s)', el: { signedUrlDelayMs: 8000 }, failover: true, expect: 'failover' },
    { fault: 'HTTP 429', el: { signedUrlStatus: 429 }, failover: false, expect: 'apology' },
  ];
  it.each(cases)('$fault with failover $failover → $expect', async (c) => {
    const br = await bridge({ provider: 'elevenlabs', both: true, elevenlabs: c.el, env: { PROVIDER_FAILOVER: String(c.failover) } });
    const placedAt = Date.now();
    const call = await br.call();
    if (c.expect === 'failover') {
      await call.waitFor('media', 20_000);
      const waited = Date.now() - placedAt;
      expect(br.srv.registry.find(call.callSid)!.providerHistory).toEqual([expect.objectContaining({ from: 'elevenlabs', to: 'openai' })]);
      expect(apology(br)).toBeUndefined();
      report(`signed URL ${c.fault} (failover on)`, 'OpenAI answers the call', `${waited} ms from the call to the first agent audio`);
      await call.hangup();
      expect((await br.ended(call.callSid)).status).toBe('completed');
    } else {
      const { twiml, afterMs } = await waitApology(br, placedAt);
      expect(twiml).toMatch(APOLOGY);
      await call.closed;
      expect((await br.ended(call.callSid)).status).toBe('failed');
      expect(br.oa!.seen.upgrades).toHaveLength(0);
      report(`signed URL ${c.fault} (failover off)`, 'apology', `${afterMs} ms from the call to the apology`);
    }
  });
});

describe('OpenAI refuses the session', () => {
  it('session.update answered with `error` → no failover (it would fail the same way every call): the apology', async () => {
    const br = await bridge({
      provider: 'openai',
      both: true,
      env: { PROVIDER_FAILOVER: 'true' },
      openai: { rejectSessionUpdate: { type: 'invalid_request_error', code: 'invalid_value', param: 'session.model', message: 'Injected refusal' } },
    });
    const placedAt = Date.now();
    const call = await br.call();
    const { twiml, afterMs } = await waitApology(br, placedAt);
    expect(twiml).toMatch(APOLOGY);
    await call.closed;
    const rec = await br.ended(call.callSid);
    expect(rec.status).toBe('failed');
    expect(rec.counters.failovers ?? 0).toBe(0);
    expect(br.el!.seen.requests).toHaveLength(0);
    report('OpenAI session.update refused (failover on)', 'apology, no failover', `${afterMs} ms from the call to the apology`);
  });

  it('upgrade refused with 401 → auth: the apology without failover', async () => {
    const br = await bridge({ provider: 'openai', both: true, env: { PROVIDER_FAILOVER: 'true' }, openai: { rejectUpgradeStatus: 401 } });
    const placedAt = Date.now();
    const call = await br.call();
    const { twiml, afterMs } = await waitApology(br, placedAt);
    expect(twiml).toMatch(APOLOGY);
    await call.closed;
    expect((await br.ended(call.callSid)).counters.failovers ?? 0).toBe(0);
    expect(br.el!.seen.requests).toHaveLength(0);
    expect(await br.metricsText()).toMatch(/callbridge_provider_errors_total\{provider="openai",category="auth"\} 1/);
    report('OpenAI upgrade 401 (failover on)', 'apology, no failover', `${afterMs} ms from the call to the apology`);
  });
});

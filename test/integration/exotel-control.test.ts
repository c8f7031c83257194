/**
 * Exotel call control through the real server: outbound placement (Connect API → flow → dynamic URL),
 * transfer via the Connect applet (agent tool and admin API), hang-up from either side, status
 * callbacks, and the static applet URL.
 */
import { EXOTEL, startExotelBridge, until, type ExotelBridge } from '../helpers/exotel-bridge';

describe('Exotel call control', () => {
  let b: ExotelBridge;
  afterEach(async () => {
    await b?.close();
  }, 60_000);

  it('places an outbound call through the Connect API; the flow reaches /outbound and the callee hears the agent', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs', rate: 16000 });
    const placed = await b.admin<{ callSid: string }>('/api/calls', {
      method: 'POST',
      body: { to: '+919812345678', carrier: 'exotel', firstMessage: 'Hello from the outbound test.' },
    });
    expect(placed.status).toBe(201);
    const req = b.rest.requests.find((r) => r.path.endsWith('/Calls/connect.json'))!;
    expect(req.status).toBe(200);
    expect(req.form).toMatchObject({
      From: '+919812345678',
      CallerId: EXOTEL.callerId,
      Url: `http://my.exotel.com/${EXOTEL.accountSid}/exoml/start_voice/${EXOTEL.appId}`,
      StatusCallback: 'https://calls.example.test/webhooks/exotel/status',
      'StatusCallbackEvents[]': ['answered', 'terminal'],
    });
    const rec = await until('answered', () => b.rest.recordOf(placed.body.callSid), 5000);
    expect(rec.applets[0]!.url).toContain('/outbound?carrier=exotel');
    await rec.call.waitFor('media', 10_000);
    const conv = await b.el!.waitForConversation(5000);
    expect(b.el!.seen.inits.at(-1)?.conversation_config_override?.agent?.first_message).toBe('Hello from the outbound test.');
    await conv.playout();
    await rec.call.hangup();
    const ended = await b.ended(placed.body.callSid, 10_000);
    expect(ended).toMatchObject({ carrier: 'exotel', direction: 'outbound', to: '+919812345678', from: EXOTEL.callerId, status: 'completed' });
    await rec.done;
    // Status callbacks: answered then terminal, both applied (JSON, no signature).
    expect(rec.status.map((s) => [s.params.EventType, s.status])).toEqual([
      ['answered', 200],
      ['terminal', 200],
    ]);
    expect(b.srv.ops.book.get(placed.body.callSid)).toMatchObject({ carrier: 'exotel', status: 'completed' });
  }, 60_000);

  it('transfers when the agent calls transfer_call: the stream closes and the Connect applet receives the destination', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs' });
    const rec = await b.call();
    await rec.call.waitFor('media', 10_000);
    await b.el!.waitForConversation(5000);
    const result = await b.el!.callTool('transfer_call', { reason: 'caller asked for a human' });
    expect(result.is_error).toBe(false);
    await rec.done;
    expect(rec.call.isClosed).toBe(true);
    expect((await rec.call.closed).by).toBe('server');
    expect(rec.applets.map((a) => a.kind)).toEqual(['voicebot', 'connect']);
    expect(new URL(rec.applets[1]!.url).searchParams.get('CallSid')).toBe(rec.call.callSid);
    expect(rec.applets[1]!.body).toMatchObject({ destination: { numbers: ['+919812345678'] }, outgoing_phone_number: EXOTEL.callerId });
    expect(rec.outcome).toBe('transferred');
    expect(rec.transferTo).toBe('+919812345678');
    const ended = await b.ended(rec.call.callSid);
    expect(ended.status).toBe('transferred');
  }, 60_000);

  it('transfers through the admin API, and hangs up through the admin API (Connect applet then gets no number)', async () => {
    b = await startExotelBridge({ provider: 'openai' });
    const one = await b.call();
    await one.call.waitFor('media', 10_000);
    const t = await b.admin(`/api/calls/${one.call.callSid}/transfer`, { method: 'POST', body: { to: '+919800000001' } });
    expect(t.status).toBe(200);
    await one.done;
    expect(one.transferTo).toBe('+919800000001');
    expect((await b.ended(one.call.callSid)).status).toBe('transferred');

    const two = await b.call();
    await two.call.waitFor('media', 10_000);
    const h = await b.admin(`/api/calls/${two.call.callSid}/hangup`, { method: 'POST' });
    expect(h.status).toBe(200);
    await two.done;
    expect(two.outcome).toBe('no-answer');
    expect(two.applets[1]!.body).toMatchObject({ destination: { numbers: [] } });
    expect((await b.ended(two.call.callSid)).status).toBe('completed');
  }, 60_000);

  it('hangs up from the agent side after its last words have played', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs' });
    const rec = await b.call();
    await rec.call.waitFor('media', 10_000);
    await b.el!.waitForConversation(5000);
    await b.el!.hangUp();
    await rec.done;
    expect((await rec.call.closed).by).toBe('server');
    expect(rec.call.bufferedBytes).toBe(0);
    expect(rec.outcome).toBe('no-answer');
    const ended = await b.ended(rec.call.callSid);
    expect(ended.status).toBe('completed');
  }, 60_000);

  it('accepts a static applet URL with EXOTEL_STREAM_TOKEN and refuses upgrades without a token or with a wrong one', async () => {
    const token = 'static-token-0123456789abcdef';
    b = await startExotelBridge({
      provider: 'elevenlabs',
      env: { EXOTEL_STREAM_TOKEN: token, EXOTEL_STREAM_USER: 'exo', EXOTEL_STREAM_PASSWORD: 'secret-pass' },
    });
    const wsBase = 'wss://exo:secret-pass@calls.example.test/media-stream?carrier=exotel&sample-rate=8000';
    const ok = await b.call({ streamUrl: `${wsBase}&token=${token}` });
    await ok.call.waitFor('media', 10_000);
    const rec = await until('live call', () => b.srv.registry.find(ok.call.callSid));
    expect(rec.carrier).toBe('exotel');
    await ok.call.hangup();

    const noToken = await b.call({ streamUrl: wsBase });
    await noToken.done;
    expect(noToken.call.notes.join('\n')).toMatch(/upgrade attempt 2 failed: upgrade answered 401/);
    const noCreds = await b.call({ streamUrl: `wss://calls.example.test/media-stream?carrier=exotel&token=${token}` });
    await noCreds.done;
    expect(noCreds.call.notes.join('\n')).toMatch(/answered 401/);
    const wrong = await b.call({ streamUrl: `${wsBase}&token=guessed-token-000000000` });
    const closed = await wrong.call.closed;
    expect(closed).toMatchObject({ by: 'server', code: 1008 });
    await b.waitIdle();
    expect(await b.metricsText()).toMatch(/callbridge_sockets_refused_total\{reason="token"\} [1-9]/);
  }, 60_000);

  it('applies status callbacks idempotently, in JSON or form encoding, and checks EXOTEL_WEBHOOK_TOKEN', async () => {
    b = await startExotelBridge({ provider: 'elevenlabs', env: { EXOTEL_WEBHOOK_TOKEN: 'hook-token-0123456789' } });
    const post = (q: string, body: string, type: string) =>
      fetch(`${b.base}/webhooks/exotel/status${q}`, { method: 'POST', headers: { 'content-type': type }, body });
    const sid = 'f'.repeat(32);
    expect((await post('', JSON.stringify({ CallSid: sid, Status: 'completed' }), 'application/json')).status).toBe(401);
    expect((await post('?token=guessed-token-0000000', JSON.stringify({ CallSid: sid, Status: 'completed' }), 'application/json')).status).toBe(403);
    const q = '?token=hook-token-0123456789';
    expect((await post(q, JSON.stringify({ CallSid: sid, EventType: 'answered', Status: null }), 'application/json')).status).toBe(200);
    expect(b.srv.ops.book.get(sid)?.status).toBe('in-progress');
    expect(
      (
        await post(
          q,
          new URLSearchParams({ CallSid: sid, EventType: 'terminal', Status: 'busy', ConversationDuration: '0' }).toString(),
          'application/x-www-form-urlencoded',
        )
      ).status,
    ).toBe(200);
    // A replay, and a late `answered`, change nothing.
    expect((await post(q, JSON.stringify({ CallSid: sid, EventType: 'terminal', Status: 'completed' }), 'application/json')).status).toBe(200);
    expect((await post(q, JSON.stringify({ CallSid: sid, EventType: 'answered' }), 'application/json')).status).toBe(200);
    expect(b.srv.ops.book.get(sid)).toMatchObject({ carrier: 'exotel', status: 'busy', durationS: 0 });
    expect((await post(q, JSON.stringify({ Status: 'completed' }), 'application/json')).status).toBe(400);
    const connect = await fetch(`${b.base}/webhooks/exotel/connect?CallSid=${sid}`);
    expect(connect.status).toBe(401);
  }, 30_000);
});

/**
 * The OpenAI Realtime connector and leg (src/providers/openai-realtime/) against a fake socket and a
 * fake clock: the dial, the handshake and its deadline, truncation at played ms, barge-in, and the
 * close cap, without a server or a real wait.
 */
import { testConfig } from '../../helpers/config';
import { settle } from '../../helpers/fake-clock';
import { dialOpenAi, legContext, readyOpenAiLeg } from '../../helpers/openai-leg';

const ctx = legContext();
const delta = (itemId: string, responseId: string, bytes: number) => ({
  type: 'response.output_audio.delta',
  item_id: itemId,
  response_id: responseId,
  output_index: 0,
  content_index: 0,
  delta: Buffer.alloc(bytes, 0x55).toString('base64'),
});

const dial = () => dialOpenAi(ctx);
/** A leg past its handshake, greeting sent. */
const readyLeg = () => readyOpenAiLeg(ctx);

describe('OpenAI Realtime leg', () => {
  it('dials with the API key and no beta header, configures the session, then reports ready and greets', async () => {
    const r = await dial();
    expect(new URL(r.socket.url).searchParams.get('model')).toBe(testConfig().OPENAI_REALTIME_MODEL);
    expect(r.socket.opts).toMatchObject({ headers: { Authorization: 'Bearer sk-test' }, handshakeTimeoutMs: 10_000 });
    r.socket.accept();
    expect(r.socket.sent).toEqual([]);
    r.socket.receive({ type: 'session.created', session: { type: 'realtime' } });
    const [update] = r.socket.sentOfType('session.update');
    expect(update).toMatchObject({
      session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } },
    });
    r.socket.receive({ type: 'session.updated', session: update!.session });
    await r.connecting;
    await settle();
    expect(r.events).toEqual([{ type: 'ready', inputFormat: ctx.carrierFormat, outputFormat: ctx.carrierFormat }]);
    expect(r.socket.sentJson.slice(1).map((m) => m.type)).toEqual(['conversation.item.create', 'response.create']);
  });

  it('gives up when the session is not configured within the deadline of the injected clock', async () => {
    const r = await dial();
    r.socket.accept();
    await r.clock.advance(9_999);
    expect(r.outcome()).toBeUndefined();
    await r.clock.advance(1);
    expect(r.outcome()).toMatchObject({ category: 'connectivity' });
    expect(r.socket.terminated).toBe(true);
  });

  it('refuses a session.updated that does not confirm the planned formats', async () => {
    const r = await dial();
    r.socket.accept();
    r.socket.receive({ type: 'session.created', session: { type: 'realtime' } });
    r.socket.receive({ type: 'session.updated', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 24000 } } } } });
    await expect(r.connecting).rejects.toMatchObject({ code: 'CB_OPENAI_FORMAT', category: 'bad_request' });
  });

  it('truncates at the played ms, clamped to what was forwarded for the item, and drops the item’s later deltas', async () => {
    const r = await readyLeg();
    r.events.length = 0;
    r.socket.receive(delta('item_1', 'resp_1', 800)); // 100 ms of μ-law
    r.leg.truncate!('item_1', 250);
    r.socket.receive(delta('item_1', 'resp_1', 160));
    r.socket.receive(delta('item_2', 'resp_2', 800));
    r.leg.truncate!('item_2', 42.4);
    expect(r.socket.sentOfType('conversation.item.truncate')).toEqual([
      { type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 100 },
      { type: 'conversation.item.truncate', item_id: 'item_2', content_index: 0, audio_end_ms: 42 },
    ]);
    expect(r.events.map((e) => (e.type === 'audio' ? `${e.itemId}:${e.payload.length}` : e.type))).toEqual(['item_1:800', 'item_2:800']);
  });

  it('reports speech_started as an interruption and drops the deltas of the response it cut', async () => {
    const r = await readyLeg();
    r.events.length = 0;
    r.socket.receive({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } });
    r.socket.receive(delta('item_1', 'resp_1', 160));
    r.socket.receive({ type: 'input_audio_buffer.speech_started', audio_start_ms: 1200, item_id: 'item_u1' });
    r.socket.receive(delta('item_1', 'resp_1', 160));
    expect(r.events.map((e) => e.type)).toEqual(['audio', 'interruption']);
  });

  it('turns a close it did not ask for into a fatal error, and session_expired into the end of the call', async () => {
    const a = await readyLeg();
    a.socket.closed(1011, 'server error');
    expect(a.events.at(-1)).toMatchObject({ type: 'error', fatal: true });

    const b = await readyLeg();
    b.socket.receive({ type: 'error', error: { type: 'invalid_request_error', code: 'session_expired', message: 'expired', param: null } });
    b.socket.closed(1000);
    expect(b.events.at(-1)).toEqual({ type: 'end', reason: 'session_expired' });
  });

  it('close() asks for 1000 and terminates the socket 2 s later when the server never closes', async () => {
    const r = await readyLeg();
    let closed = false;
    void r.leg.close('call ended').then(() => (closed = true));
    expect(r.socket.closeRequest).toEqual({ code: 1000, reason: 'call ended' });
    await r.clock.advance(1_999);
    expect(r.socket.terminated).toBe(false);
    await r.clock.advance(1);
    expect(r.socket.terminated).toBe(true);
    expect(closed).toBe(true);
  });
});

/**
 * The ElevenLabs leg (src/providers/elevenlabs/leg.ts) against a fake socket and a fake clock: the
 * handshake order, the metadata deadline, barge-in filtering, keep-alive, close codes and the close
 * cap, each without a server or a real wait.
 */
import { openElevenLabsLeg } from '../../../src/providers/elevenlabs/leg';
import type { ProviderEvent, ProviderLeg } from '../../../src/providers/types';
import { silentLogger } from '../../../src/observability/logger';
import { CallbridgeError } from '../../../src/errors';
import { FakeClock, settle } from '../../helpers/fake-clock';
import { fakeSockets } from '../../helpers/fake-socket';

const SIGNED_URL = 'wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_test&conversation_signature=sig';
const INITIATION = JSON.stringify({ type: 'conversation_initiation_client_data', dynamic_variables: { call_sid: 'CA1' } });
const metadata = (output = 'ulaw_8000') => ({
  type: 'conversation_initiation_metadata',
  conversation_initiation_metadata_event: { conversation_id: 'conv_1', agent_output_audio_format: output, user_input_audio_format: 'ulaw_8000' },
});
const audio = (eventId: number, bytes = 160) => ({
  type: 'audio',
  audio_event: { audio_base_64: Buffer.alloc(bytes, 0x55).toString('base64'), event_id: eventId },
});

function rig(opts: { closeTimeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const net = fakeSockets();
  const events: ProviderEvent[] = [];
  const opened = openElevenLabsLeg(
    { signedUrl: SIGNED_URL, initiation: INITIATION, log: silentLogger, openSocket: net.open, clock, ...opts },
    (ev) => void events.push(ev),
  );
  let outcome: ProviderLeg | Error | undefined;
  opened.then(
    (leg) => (outcome = leg),
    (err: Error) => (outcome = err),
  );
  return { clock, socket: net.last(), events, opened, outcome: () => outcome };
}

/** A leg past its handshake. */
async function readyLeg() {
  const r = rig();
  r.socket.accept();
  r.socket.receive(metadata());
  const leg = await r.opened;
  await settle();
  return { ...r, leg };
}

describe('ElevenLabs leg', () => {
  it('opens the signed URL verbatim, sends the initiation first, and is ready once the metadata arrives', async () => {
    const r = rig();
    expect(r.socket.url).toBe(SIGNED_URL);
    r.socket.accept();
    expect(r.socket.sent).toEqual([INITIATION]);
    r.socket.receive(metadata());
    r.socket.receive(audio(1)); // arrives before the session holds the leg: held, delivered after ready
    await r.opened;
    expect(r.events).toEqual([]);
    await settle();
    expect(r.events.map((e) => e.type)).toEqual(['ready', 'audio']);
    expect(r.events[0]).toEqual({
      type: 'ready',
      inputFormat: { encoding: 'mulaw', sampleRate: 8000 },
      outputFormat: { encoding: 'mulaw', sampleRate: 8000 },
      conversationId: 'conv_1',
    });
  });

  it('gives up when no metadata comes within 10 s of the injected clock, and drops the socket', async () => {
    const r = rig();
    r.socket.accept();
    await r.clock.advance(9_999);
    expect(r.outcome()).toBeUndefined();
    await r.clock.advance(1);
    expect(r.outcome()).toBeInstanceOf(CallbridgeError);
    expect(r.outcome()).toMatchObject({ code: 'CB_EL_TIMEOUT', category: 'connectivity' });
    expect(r.socket.terminated).toBe(true);
    expect(r.events).toEqual([]);
  });

  it('refuses an agent whose output format a phone line cannot carry', async () => {
    const r = rig();
    r.socket.accept();
    r.socket.receive(metadata('mp3_44100_128'));
    await expect(r.opened).rejects.toMatchObject({ code: 'CB_EL_FORMAT', category: 'bad_request' });
  });

  it('reports a 401 at the upgrade as an auth failure', async () => {
    const r = rig();
    r.socket.refuse(401);
    await expect(r.opened).rejects.toMatchObject({ category: 'auth' });
  });

  it('forwards caller audio as user_audio_chunk, and drops it while the socket is backed up', async () => {
    const r = await readyLeg();
    r.leg.sendAudio(Buffer.alloc(160, 1));
    expect(r.socket.sent.slice(1)).toEqual([JSON.stringify({ user_audio_chunk: Buffer.alloc(160, 1).toString('base64') })]);
    r.socket.bufferedAmount = 2 * 1024 * 1024;
    r.leg.sendAudio(Buffer.alloc(160, 2));
    expect(r.socket.sent).toHaveLength(2);
  });

  it('drops agent audio older than the last interruption (the official client’s rule) and answers pings', async () => {
    const r = await readyLeg();
    r.events.length = 0;
    r.socket.receive(audio(3));
    r.socket.receive({ type: 'interruption', interruption_event: { event_id: 5 } });
    r.socket.receive(audio(4)); // still in flight from the interrupted turn
    r.socket.receive(audio(5));
    r.socket.receive({ type: 'ping', ping_event: { event_id: 9 } });
    expect(r.events.map((e) => (e.type === 'audio' ? `audio:${e.itemId}` : e.type))).toEqual(['audio:3', 'interruption', 'audio:5']);
    expect(r.socket.sentJson.at(-1)).toEqual({ type: 'pong', event_id: 9 });
  });

  it('turns a normal close by the server into the end of the conversation, and any other close into a fatal error', async () => {
    const a = await readyLeg();
    a.socket.closed(1000, 'agent ended the call');
    expect(a.events.at(-1)).toEqual({ type: 'end', reason: 'agent_ended' });

    const b = await readyLeg();
    b.socket.closed(1011, 'internal error');
    const last = b.events.at(-1);
    expect(last).toMatchObject({ type: 'error', fatal: true, error: { category: 'server' } });
  });

  it('close() asks for 1000, emits nothing more, and terminates the socket when the server does not answer within 2 s', async () => {
    const r = await readyLeg();
    r.events.length = 0;
    let closed = false;
    void r.leg.close('call ended').then(() => (closed = true));
    expect(r.socket.closeRequest).toEqual({ code: 1000, reason: 'call ended' });
    r.socket.receive(audio(7));
    await r.clock.advance(1_999);
    expect(r.socket.terminated).toBe(false);
    expect(closed).toBe(false);
    await r.clock.advance(1);
    expect(r.socket.terminated).toBe(true);
    expect(closed).toBe(true);
    expect(r.events).toEqual([]);
  });
});

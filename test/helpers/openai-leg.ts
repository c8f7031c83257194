/**
 * The OpenAI Realtime leg over fake sockets and a fake clock, for unit and fuzz tests: `dialOpenAi`
 * connects (nothing answered yet); `readyOpenAiLeg` also plays the server's side of the handshake
 * (`session.created`, then `session.updated` echoing the client's `session.update`,
 * https://platform.openai.com/docs/api-reference/realtime-server-events/session), so the leg is ready
 * and has sent its greeting.
 */
import type { Logger } from '../../src/observability/logger';
import { silentLogger } from '../../src/observability/logger';
import { createOpenAiConnector } from '../../src/providers/openai-realtime/connector';
import type { CallContext, ProviderEvent, ProviderLeg } from '../../src/providers/types';
import { testConfig } from './config';
import { FakeClock, settle } from './fake-clock';
import { fakeSockets } from './fake-socket';

/** A Twilio inbound call's context in μ-law 8 kHz, no tools, with `firstMessage` as the greeting. */
export function legContext(firstMessage = 'Hello, Acme salon.'): CallContext {
  return { callSid: 'CA1', carrier: 'twilio', direction: 'inbound', carrierFormat: { encoding: 'mulaw', sampleRate: 8000 }, tools: [], firstMessage };
}

/** Prepare and connect the OpenAI connector for `ctx`; the socket is dialled but not accepted. */
export async function dialOpenAi(ctx: CallContext, log: Logger = silentLogger) {
  const clock = new FakeClock();
  const net = fakeSockets();
  const events: ProviderEvent[] = [];
  const prepared = await createOpenAiConnector(testConfig(), log, { openSocket: net.open, clock }).prepare(ctx);
  const connecting = prepared.connect(ctx, (ev) => void events.push(ev));
  let outcome: ProviderLeg | Error | undefined;
  connecting.then(
    (leg) => (outcome = leg),
    (err: Error) => (outcome = err),
  );
  return { clock, socket: net.last(), events, connecting, outcome: () => outcome };
}

/** A leg past its handshake, greeting sent. */
export async function readyOpenAiLeg(ctx: CallContext, log: Logger = silentLogger) {
  const r = await dialOpenAi(ctx, log);
  r.socket.accept();
  r.socket.receive({ type: 'session.created', session: { type: 'realtime' } });
  r.socket.receive({ type: 'session.updated', session: r.socket.sentOfType('session.update')[0]!.session });
  const leg = await r.connecting;
  await settle();
  return { ...r, leg };
}

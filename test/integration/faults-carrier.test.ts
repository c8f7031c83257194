/**
 * Carrier faults through the Twilio emulator: the media socket dropped without `stop` (TCP gone), and
 * `stop` sent twice. Either way the session ends once, the provider socket is closed, the record is
 * final with every turn stored, and nothing is left behind (no live call, no extra timer or socket).
 */
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { report, resources, settledLeaks, greetedElevenLabsCall } from './faults-helpers';

jest.setTimeout(60_000);
const SPEED = 4;

let b: Bridge | undefined;
let baseline: Record<string, number> = {};

afterEach(async () => {
  const leaks = b ? await settledLeaks(b, baseline) : [];
  await b?.close();
  b = undefined;
  expect(leaks).toEqual([]);
});

/** A call through ElevenLabs that has had its greeting, one caller turn and the reply. */
async function talkedCall() {
  b = await startBridge({ provider: 'elevenlabs', speed: SPEED });
  await b.srv.store.healthy(); // warm-up: the embedded store's worker starts on first use
  baseline = resources();
  const br = b;
  const { call, conv } = await greetedElevenLabsCall(br);
  call.sendAudio(fixture('caller-booking-8k.wav'));
  await until('the agent reply', () => br.el!.seen.agentResponses.length >= 2);
  await until('three turns', () => (br.srv.registry.find(call.callSid)?.turns.length ?? 0) >= 3);
  return { br, call, conv };
}

async function callsTotal(br: Bridge): Promise<number> {
  const m = /callbridge_calls_total\{[^}]*outcome="completed"\} (\d+)/.exec(await br.metricsText());
  return Number(m?.[1] ?? 0);
}

it('media socket dropped without `stop` → the session ends, the ElevenLabs socket is closed, the record is final and every turn stored', async () => {
  const { br, call, conv } = await talkedCall();
  await call.drop();
  const rec = await br.ended(call.callSid, 10_000);
  await conv.done;
  await br.waitIdle(10_000); // the record is final once both legs are released (the store write and the metrics follow)
  expect(br.el!.seen.closes).toEqual([expect.objectContaining({ by: 'client', code: 1000 })]);
  expect(rec.status).toBe('completed');
  expect(await br.srv.store.flush(15_000)).toBe(0);
  const stored = await br.srv.store.getCall(call.callSid);
  expect(stored?.call.status).toBe('completed');
  expect(stored?.turns).toHaveLength(rec.turns.length);
  expect(await callsTotal(br)).toBe(1);
  report('carrier socket dropped without stop', `session ended (completed), provider closed, ${stored?.turns.length}/${rec.turns.length} turns stored`, 'n/a');
});

it('`stop` sent twice → the call ends once: one record, one finished call counted, the provider closed once', async () => {
  const { br, call, conv } = await talkedCall();
  call.sendStop();
  call.sendStop();
  await call.closed;
  const rec = await br.ended(call.callSid, 10_000);
  await conv.done;
  await br.waitIdle(10_000); // the record is final once both legs are released (the store write and the metrics follow)
  expect(rec.status).toBe('completed');
  expect(br.el!.seen.closes).toHaveLength(1);
  expect(await callsTotal(br)).toBe(1);
  expect(await br.srv.store.flush(15_000)).toBe(0);
  const stored = await br.srv.store.getCall(call.callSid);
  expect(stored?.call.status).toBe('completed');
  expect(stored?.turns).toHaveLength(rec.turns.length);
  expect((await br.admin(`/api/calls/${call.callSid}`)).status).toBe(200);
  report('carrier sends stop twice', `ended once (completed), 1 record, calls_total 1, ${stored?.turns.length} turns stored`, 'n/a');
});

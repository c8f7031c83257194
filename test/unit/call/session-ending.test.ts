/**
 * How a CallSession ends (call/ending.ts), on a fake clock: the agent's last words play before the
 * hang-up, the playout wait has a cap, tools act after the goodbye, a transfer keeps its status,
 * the drain goodbye has a grace period, and a dead provider gets the apology.
 */
import { APOLOGY } from '../../../src/call/session';
import { CallbridgeError } from '../../../src/errors';
import { sessionRig } from '../../helpers/session-rig';

describe('CallSession ending', () => {
  it('hangs up only after the agent’s last words have played, then releases both legs', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    for (let i = 0; i < 3; i++) leg.says('1', 20); // the last words, in three provider chunks
    leg.emit({ type: 'end', reason: 'agent_ended' });
    await r.settle();
    expect(r.record().status).toBe('ending');
    r.echo(2);
    await r.settle();
    expect(r.actions).toEqual([]);
    r.echo(1);
    await r.settle();
    expect(r.actions).toEqual([{ op: 'hangup' }]);
    expect(r.carrierCloses).toEqual([{ code: 1000, reason: 'call ended' }]);
    expect(leg.closedWith).toBe('agent_ended');
    expect(r.ended).toEqual([expect.objectContaining({ status: 'completed', endReason: 'agent_ended', endedAt: new Date(r.clock.wallMs()).toISOString() })]);
  });

  it('hangs up 10 s after the end when the carrier never echoes the last marks', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.says('1', 40);
    leg.emit({ type: 'end', reason: 'agent_ended' });
    await r.clock.advance(9_999);
    expect(r.actions).toEqual([]);
    await r.clock.advance(1);
    expect(r.actions).toEqual([{ op: 'hangup' }]);
    expect(r.ended).toHaveLength(1);
  });

  it('hangs up at once when nothing is left to play', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.emit({ type: 'end', reason: 'max_duration' });
    await r.settle();
    expect(r.actions).toEqual([{ op: 'hangup' }]);
    expect(r.ended[0]).toMatchObject({ status: 'completed', endReason: 'max_duration' });
  });

  it('end_call: answers the tool, lets the goodbye play for 1.5 s, then hangs up after playout', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.emit({ type: 'tool_call', id: 'tc-1', name: 'end_call', args: { reason: 'caller is done' } });
    await r.settle();
    expect(leg.toolResults).toEqual([{ callId: 'tc-1', output: '{"ok":true}', isError: false }]);
    leg.says('2', 40); // "Goodbye!"
    await r.clock.advance(1_499);
    expect(r.record().status).toBe('in-progress');
    await r.clock.advance(1);
    expect(r.record().status).toBe('ending');
    expect(r.actions).toEqual([]);
    r.echo();
    await r.settle();
    expect(r.actions).toEqual([{ op: 'hangup' }]);
    expect(r.ended[0]).toMatchObject({ status: 'completed', endReason: 'caller is done' });
  });

  it('transfer_call: transfers after the goodbye has played, and the stop that follows keeps the call transferred', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.emit({ type: 'tool_call', id: 'tc-2', name: 'transfer_call', args: { reason: 'wants a human' } });
    await r.settle();
    leg.says('3', 40);
    await r.clock.advance(1_500);
    expect(r.actions).toEqual([]);
    r.echo();
    await r.settle();
    expect(r.actions).toEqual([{ op: 'transfer', to: '+14155550199' }]);
    r.carrierSays({ type: 'stop' });
    await r.settle();
    expect(r.actions).toEqual([{ op: 'transfer', to: '+14155550199' }]); // no hang-up
    expect(r.ended[0]).toMatchObject({ status: 'transferred', endReason: 'transfer: wants a human' });
  });

  it('endWithMessage: says goodbye through the carrier and is finished after the grace period even without a stop', async () => {
    const r = sessionRig();
    await r.connect();
    await r.session.endWithMessage('We are closing for maintenance. Goodbye.', 'drain', 15_000);
    expect(r.actions).toEqual([{ op: 'sayAndHangup', message: 'We are closing for maintenance. Goodbye.' }]);
    await r.clock.advance(14_999);
    expect(r.ended).toEqual([]);
    await r.clock.advance(1);
    expect(r.ended[0]).toMatchObject({ status: 'completed', endReason: 'drain' });
  });

  it('the caller hanging up ends the call without a REST hang-up', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    r.carrierSays({ type: 'stop' });
    await r.settle();
    expect(r.actions).toEqual([]);
    expect(leg.closedWith).toBe('carrier_stop');
    expect(r.ended[0]).toMatchObject({ status: 'completed', endReason: 'carrier_stop' });
    // Nothing is handled once the call has ended.
    leg.says('4', 20);
    expect(r.sent).toEqual([]);
  });

  it('a provider that fails for good (failover off) gets the apology, and the call ends failed', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.emit({ type: 'error', error: new CallbridgeError('CB_TEST_DROP', 'socket dropped', 'connectivity'), fatal: true });
    await r.settle();
    expect(r.actions).toEqual([{ op: 'sayAndHangup', message: APOLOGY }]);
    expect(r.ended[0]).toMatchObject({ status: 'failed', endReason: 'provider_error: socket dropped' });
  });

  it('a provider that cannot be reached at call start gets the apology before any agent audio', async () => {
    const r = sessionRig();
    r.connectors.elevenlabs.refuse = new CallbridgeError('CB_TEST_DOWN', 'unreachable', 'connectivity');
    await r.session.start();
    await r.settle();
    expect(r.actions).toEqual([{ op: 'sayAndHangup', message: APOLOGY }]);
    expect(r.ended[0]).toMatchObject({ status: 'failed' });
  });

  it('a non-fatal provider error keeps the call going', async () => {
    const r = sessionRig();
    const leg = await r.connect();
    leg.emit({ type: 'error', error: new Error('one bad frame'), fatal: false });
    await r.settle();
    expect(r.actions).toEqual([]);
    expect(r.record().status).toBe('in-progress');
  });
});

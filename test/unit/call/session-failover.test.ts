/**
 * PROVIDER_FAILOVER in CallSession (call/failover.ts) with fake providers and a fake clock: the other
 * provider takes the same call with the conversation so far, the failed leg is silenced, caller
 * audio is kept meanwhile, and a call fails over once at most.
 */
import { RESUME_MESSAGE } from '../../../src/call/failover';
import { APOLOGY } from '../../../src/call/session';
import { CallbridgeError } from '../../../src/errors';
import { sessionRig } from '../../helpers/session-rig';

const dropped = () => new CallbridgeError('CB_TEST_DROP', 'socket dropped (1011)', 'server');
const FAILOVER = { PROVIDER_FAILOVER: 'true' };

describe('CallSession provider failover', () => {
  it('moves a call whose provider drops to the other provider, with the conversation so far, on the same carrier leg', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    const first = await r.connect();
    first.says('1', 20);
    first.emit({ type: 'transcript', role: 'agent', text: 'Hello, Acme salon.', itemId: '1' });
    r.echo();
    await r.clock.advance(2_000);
    first.emit({ type: 'interruption' });
    first.emit({ type: 'transcript', role: 'user', text: 'I need a haircut on Friday.' });
    await r.clock.advance(3_000);
    first.emit({ type: 'error', error: dropped(), fatal: true });
    await r.settle();

    expect(first.closedWith).toBe('failover');
    expect(r.connectors.openai.legs).toHaveLength(1);
    const ctx = r.connectors.openai.contexts[0]!;
    expect(ctx.firstMessage).toBe(RESUME_MESSAGE);
    expect(ctx.prompt).toContain('Agent: Hello, Acme salon.\nCaller: I need a haircut on Friday.');
    expect(ctx.prompt!.startsWith(r.cfg.SYSTEM_PROMPT)).toBe(true);
    const rec = r.record();
    expect(rec.provider).toBe('elevenlabs'); // the cohort stays the one chosen at call start
    expect(rec.providerHistory).toEqual([{ from: 'elevenlabs', to: 'openai', atMs: 5_000, reason: 'socket dropped (1011)', connectMs: 0 }]);
    expect(rec.counters.failovers).toBe(1);
    expect(r.actions).toEqual([]);
    expect(r.carrierCloses).toEqual([]);
  });

  it('keeps caller audio while the other provider connects and forwards it once it is ready', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    const first = await r.connect();
    first.emit({ type: 'error', error: dropped(), fatal: true });
    r.carrierSays({ type: 'audio', payload: Buffer.alloc(160, 1) });
    await r.settle();
    r.carrierSays({ type: 'audio', payload: Buffer.alloc(160, 2) });
    const second = r.connectors.openai.leg;
    expect(second.audio).toEqual([]);
    second.ready();
    expect(second.audio.map((b) => b[0])).toEqual([1, 2]);
    expect(first.audio).toEqual([]);
  });

  it('ignores whatever the failed leg still sends after the switch', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    const first = await r.connect();
    first.emit({ type: 'error', error: dropped(), fatal: true });
    await r.settle();
    r.connectors.openai.leg.ready();
    first.says('9', 100);
    first.emit({ type: 'end', reason: 'agent_ended' });
    await r.settle();
    expect(r.sent).toEqual([]);
    expect(r.actions).toEqual([]);
    r.connectors.openai.leg.says('resp-1', 20);
    expect(r.sent.map((c) => c.type)).toEqual(['audio', 'mark']);
  });

  it('fails over at call start when the chosen provider cannot be reached, before the caller hears anything', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    r.connectors.elevenlabs.refuse = new CallbridgeError('CB_TEST_503', 'signed URL request: HTTP 503', 'server');
    await r.session.start();
    await r.settle();
    const ctx = r.connectors.openai.contexts[0]!;
    // No turns yet: the new provider greets as the first would have, with the call's own prompt.
    expect(ctx.firstMessage).toBeUndefined();
    expect(ctx.prompt).toBe(r.cfg.SYSTEM_PROMPT);
    expect(r.record().providerHistory).toEqual([expect.objectContaining({ from: 'elevenlabs', to: 'openai', atMs: 0 })]);
    expect(r.actions).toEqual([]);
  });

  it('fails over once: when the second provider fails too, the caller hears the apology', async () => {
    const r = sessionRig({ provider: 'openai', env: FAILOVER });
    const first = await r.connect();
    first.emit({ type: 'error', error: dropped(), fatal: true });
    await r.settle();
    const second = r.connectors.elevenlabs.leg;
    second.ready();
    second.emit({ type: 'error', error: dropped(), fatal: true });
    await r.settle();
    expect(r.legs).toHaveLength(2);
    expect(r.actions).toEqual([{ op: 'sayAndHangup', message: APOLOGY }]);
    expect(r.ended[0]).toMatchObject({ status: 'failed', counters: expect.objectContaining({ failovers: 1 }) });
  });

  it('ends with the apology when the other provider is unreachable too', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    const first = await r.connect();
    r.connectors.openai.refuse = new CallbridgeError('CB_TEST_DOWN', 'connect ECONNREFUSED', 'connectivity');
    first.emit({ type: 'error', error: dropped(), fatal: true });
    await r.settle();
    expect(r.actions).toEqual([{ op: 'sayAndHangup', message: APOLOGY }]);
    expect(r.record().providerHistory).toBeUndefined();
  });

  it('closes the new leg when the caller hung up while it was connecting', async () => {
    const r = sessionRig({ provider: 'elevenlabs', env: FAILOVER });
    const first = await r.connect();
    first.emit({ type: 'error', error: dropped(), fatal: true });
    r.carrierSays({ type: 'stop' });
    await r.settle();
    expect(r.connectors.openai.leg.closedWith).toBe('call ended while failing over');
    expect(r.ended).toHaveLength(1);
  });
});

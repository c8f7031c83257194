/**
 * CallSession playback and barge-in with a fake carrier, fake provider legs and a fake clock:
 * agent audio goes out in the provider's chunks with one mark each, marks and the clock count what the
 * caller heard, `clear` goes out first, truncation is at what was heard, and marks from before a barge-in
 * never count.
 */
import { sessionRig } from '../../helpers/session-rig';

describe('CallSession playback and barge-in', () => {
  it('forwards agent audio in the chunks the provider sent, each followed by one mark', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    leg.says('item-1', 300);
    leg.says('item-1', 30);
    expect(r.sent.map((c) => c.type)).toEqual(['audio', 'mark', 'audio', 'mark']);
    expect(r.sent.filter((c) => c.type === 'audio').map((c) => (c as { payload: Buffer }).payload.length)).toEqual([2400, 240]);
  });

  it('on an interruption sends clear before anything else and truncates the item at what the caller heard', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    for (let i = 0; i < 5; i++) leg.says('item-1', 20);
    r.echo(2); // 40 ms have played
    const before = r.sent.length;
    leg.emit({ type: 'interruption' });
    expect(r.sentSince(before)).toEqual([{ type: 'clear' }]);
    expect(leg.truncates).toEqual([{ itemId: 'item-1', playedMs: 40 }]);
    // The rest of the interrupted utterance never reaches the caller.
    leg.says('item-1', 40);
    expect(r.sentSince(before)).toEqual([{ type: 'clear' }]);
    expect(r.record().counters.bargeIns).toBe(1);
  });

  it('truncates inside a long chunk at the ms the clock says were heard since the last echo', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    leg.says('item-1', 200);
    await r.clock.advance(150);
    leg.says('item-1', 500); // queued behind the first
    await r.clock.advance(60);
    r.echo(1); // the first chunk has played (its echo 10 ms late): the second starts now
    await r.clock.advance(130);
    const before = r.sent.length;
    leg.emit({ type: 'interruption' });
    expect(r.sentSince(before)).toEqual([{ type: 'clear' }]);
    expect(leg.truncates).toEqual([{ itemId: 'item-1', playedMs: 330 }]);
  });

  it('truncates at 0 ms when the caller barged in before any mark came back', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    leg.says('item-1', 60);
    leg.emit({ type: 'interruption' });
    expect(leg.truncates).toEqual([{ itemId: 'item-1', playedMs: 0 }]);
  });

  it('ignores the echoes of marks sent before a barge-in: they neither count as heard nor as played out', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    for (let i = 0; i < 5; i++) leg.says('item-1', 20);
    r.echo(1);
    leg.emit({ type: 'interruption' });
    expect(leg.truncates).toEqual([{ itemId: 'item-1', playedMs: 20 }]);
    for (let i = 0; i < 3; i++) leg.says('item-2', 20);
    r.echo(4); // Twilio returns the cleared marks of item-1 at once
    // item-2's three marks are still pending: a barge-in now still clears, and cuts item-2 at 0 ms.
    const before = r.sent.length;
    leg.emit({ type: 'interruption' });
    expect(r.sentSince(before)).toEqual([{ type: 'clear' }]);
    expect(leg.truncates.at(-1)).toEqual({ itemId: 'item-2', playedMs: 0 });
  });

  it('treats an interruption while nothing is playing as the caller starting a turn: no clear, no truncation', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    leg.says('item-1', 40);
    r.echo();
    const before = r.sent.length;
    leg.emit({ type: 'interruption' });
    expect(r.sentSince(before)).toEqual([]);
    expect(leg.truncates).toEqual([]);
    expect(r.record().counters.bargeIns).toBe(0);
  });

  it('clears playback for a provider without truncation (ElevenLabs tracks what was spoken itself)', async () => {
    const r = sessionRig({ provider: 'elevenlabs' });
    const leg = await r.connect();
    expect(leg.truncate).toBeUndefined();
    for (let i = 0; i < 3; i++) leg.says('7', 20);
    r.echo(1);
    const before = r.sent.length;
    leg.emit({ type: 'interruption' });
    expect(r.sentSince(before)).toEqual([{ type: 'clear' }]);
    expect(r.record().counters.bargeIns).toBe(1);
  });

  it('marks the cut-off agent turn as interrupted, also when its transcript arrives after the barge-in', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    await r.clock.advance(1000);
    for (let i = 0; i < 5; i++) leg.says('item-1', 20);
    r.echo(2);
    await r.clock.advance(40);
    leg.emit({ type: 'interruption' });
    leg.emit({ type: 'transcript', role: 'user', text: 'Wait, actually Tuesday' });
    leg.emit({ type: 'transcript', role: 'agent', text: 'We are open from nine to five on weekdays.', itemId: 'item-1' });
    expect(r.record().turns).toEqual([
      { seq: 1, role: 'agent', text: 'We are open from nine to five on weekdays.', interrupted: true, atMs: 1000 },
      { seq: 2, role: 'user', text: 'Wait, actually Tuesday', interrupted: false, atMs: 1040 },
    ]);
  });

  it('holds nothing back: the end of an utterance goes out with its mark as it arrives', async () => {
    const r = sessionRig({ provider: 'openai' });
    const leg = await r.connect();
    leg.says('item-1', 30);
    expect(r.sent.map((c) => c.type)).toEqual(['audio', 'mark']);
    await r.clock.advance(1000);
    expect(r.sent).toHaveLength(2);
  });

  it('times the call with the injected clock: provider ready and first agent audio in ms since the start', async () => {
    const r = sessionRig({ provider: 'openai' });
    await r.session.start();
    await r.clock.advance(250);
    r.connectors.openai.leg.ready();
    await r.clock.advance(600);
    r.connectors.openai.leg.says('item-1', 20);
    const rec = r.record();
    expect(rec.timings).toEqual({ providerReadyMs: 250, firstAgentAudioMs: 850 });
    expect(rec.startedAt).toBe(new Date(r.clock.wallMs() - 850).toISOString());
    expect(rec.answeredAt).toBe(new Date(r.clock.wallMs() - 600).toISOString());
  });

  it('holds caller audio until the provider is ready, then forwards it in order', async () => {
    const r = sessionRig({ provider: 'openai' });
    await r.session.start();
    for (let i = 0; i < 3; i++) r.carrierSays({ type: 'audio', payload: Buffer.alloc(160, i) });
    const leg = r.connectors.openai.leg;
    expect(leg.audio).toEqual([]);
    leg.ready();
    expect(leg.audio.map((b) => b[0])).toEqual([0, 1, 2]);
    r.carrierSays({ type: 'audio', payload: Buffer.alloc(160, 3) });
    expect(leg.audio.map((b) => b[0])).toEqual([0, 1, 2, 3]);
    expect(r.record().counters.framesIn).toBe(4);
  });
});

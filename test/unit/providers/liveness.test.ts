/** The provider stall watchdog (src/providers/liveness.ts) on a fake clock. */
import { EventEmitter } from 'node:events';
import { Liveness } from '../../../src/providers/liveness';
import { FakeClock } from '../../helpers/fake-clock';

class PingSocket extends EventEmitter {
  pings = 0;
  ping(): void {
    this.pings++;
  }
}

describe('Liveness', () => {
  it('pings after idleMs of quiet and reports a stall after idleMs + graceMs, once', async () => {
    const clock = new FakeClock();
    const ws = new PingSocket();
    const stalls: number[] = [];
    const l = new Liveness(clock, ws, (ms) => stalls.push(ms), { idleMs: 2000, graceMs: 2000, checkMs: 500 });
    await clock.advance(1999);
    expect(ws.pings).toBe(0);
    await clock.advance(1);
    expect(ws.pings).toBe(1);
    await clock.advance(1999);
    expect(stalls).toEqual([]);
    await clock.advance(1);
    expect(stalls).toEqual([4000]);
    await clock.advance(10_000);
    expect(stalls).toHaveLength(1);
    expect(ws.pings).toBe(1);
    l.stop();
  });

  it('a pong or a message keeps a quiet peer alive; stop() ends the checks', async () => {
    const clock = new FakeClock();
    const ws = new PingSocket();
    const stalls: number[] = [];
    const l = new Liveness(clock, ws, (ms) => stalls.push(ms), { idleMs: 2000, graceMs: 2000, checkMs: 500 });
    for (let i = 0; i < 10; i++) {
      await clock.advance(3000);
      ws.emit('pong');
    }
    expect(stalls).toEqual([]);
    expect(ws.pings).toBe(10);
    await clock.advance(1000);
    l.seen();
    await clock.advance(3500);
    expect(stalls).toEqual([]);
    l.stop();
    await clock.advance(60_000);
    expect(stalls).toEqual([]);
  });
});

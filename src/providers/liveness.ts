/**
 * Stall watchdog for a provider socket: a peer that hangs with the TCP connection still up (no audio, no
 * pings, no close) would otherwise leave the caller in dead air until the call's own limits end it.
 *
 * Every `checkMs` the watchdog looks at the time since the last frame from the server (`seen()`, called
 * by the leg on every message and on every WebSocket pong). After `idleMs` of nothing it sends one
 * WebSocket ping (RFC 6455 §5.5.2: the peer must answer with a pong, https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2);
 * after `idleMs + graceMs` of nothing it calls `onStall` once and stops. A quiet but healthy peer (OpenAI
 * sends nothing while the caller is silent) answers the ping and is never declared stalled.
 * Worst case from the last frame to `onStall`: `idleMs + graceMs + checkMs`.
 */
import type { Clock, Timer } from '../clock';

export interface LivenessOptions {
  /** Quiet time (ms) before a WebSocket ping is sent. Default 2 000. */
  idleMs?: number;
  /**
   * Further quiet time (ms) after which the peer is stalled. Default 4 000: a pong can be held up by TCP
   * retransmissions (Linux's initial RTO is 1 s and doubles), and a false stall ends a healthy call, so the
   * grace is twice the idle time; a real stall is then noticed 6–6.5 s after the last frame.
   */
  graceMs?: number;
  /** Check period (ms). Default 500. */
  checkMs?: number;
}

/** What the watchdog needs of the socket: `ws`'s WebSocket has both. */
export interface PingableSocket {
  ping?(): void;
  on(event: 'pong', listener: () => void): unknown;
}

export class Liveness {
  private last: number;
  private pinged = false;
  private timer?: Timer;

  /** Starts watching at once; `stop()` it when the socket closes (it holds an interval timer). */
  constructor(
    private readonly clock: Clock,
    private readonly socket: PingableSocket,
    private readonly onStall: (quietMs: number) => void,
    private readonly o: LivenessOptions = {},
  ) {
    this.last = clock.now();
    socket.on('pong', () => this.seen());
    this.timer = clock.setInterval(() => this.check(), o.checkMs ?? 500);
  }

  /** The server sent something. */
  seen(): void {
    this.last = this.clock.now();
    this.pinged = false;
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const quiet = this.clock.now() - this.last;
    const idleMs = this.o.idleMs ?? 2000;
    if (quiet >= idleMs + (this.o.graceMs ?? 4000)) {
      this.stop();
      this.onStall(Math.round(quiet));
      return;
    }
    if (quiet >= idleMs && !this.pinged) {
      this.pinged = true;
      try {
        this.socket.ping?.();
      } catch {
        // not open any more: the close handler takes over
      }
    }
  }
}

/**
 * A fake provider socket (src/providers/socket.ts `ProviderSocket`) that a test drives from the
 * server's side: accept or refuse the upgrade, send server frames, close. What the leg sent is kept
 * as text. No network, no timers: pair it with the fake clock for deadlines.
 */
import { EventEmitter } from 'node:events';
import { SOCKET_CLOSED, SOCKET_CONNECTING, SOCKET_OPEN, type OpenSocket, type ProviderSocket, type SocketOptions } from '../../src/providers/socket';

const SOCKET_CLOSING = 2;

export class FakeSocket extends EventEmitter implements ProviderSocket {
  readyState = SOCKET_CONNECTING;
  bufferedAmount = 0;
  /** Frames the leg sent, in order. */
  readonly sent: string[] = [];
  /** The close the leg asked for (code, reason), if it did. */
  closeRequest?: { code?: number; reason?: string };
  terminated = false;

  constructor(
    readonly url: string,
    readonly opts: SocketOptions,
  ) {
    super();
  }

  /** The sent frames parsed as JSON. */
  get sentJson(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }

  /** Sent events of one `type` (JSON frames with a `type` field, as OpenAI's are). */
  sentOfType(type: string): Array<Record<string, unknown>> {
    return this.sentJson.filter((m) => m.type === type);
  }

  send(data: string): void {
    if (this.readyState !== SOCKET_OPEN) throw new Error('FakeSocket: send while not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closeRequest = { code, reason };
    if (this.readyState === SOCKET_OPEN) this.readyState = SOCKET_CLOSING;
  }

  terminate(): void {
    this.terminated = true;
    this.closed(1006, '');
  }

  // ---- the server's side ----

  /** The upgrade succeeds. */
  accept(): void {
    this.readyState = SOCKET_OPEN;
    this.emit('open');
  }

  /** The upgrade is answered with HTTP `status` (as `ws` reports it, before the leg terminates). */
  refuse(status: number): void {
    this.emit('unexpected-response', {}, { statusCode: status, resume: () => undefined });
    if (this.readyState !== SOCKET_CLOSED) this.closed(1006, '');
  }

  /** One text frame from the server (objects are sent as JSON). */
  receive(msg: unknown): void {
    const text = typeof msg === 'string' ? msg : JSON.stringify(msg);
    this.emit('message', Buffer.from(text), false);
  }

  /** The connection ends with `code` (the server closed it, or it dropped). Emitted once. */
  closed(code: number, reason = ''): void {
    if (this.readyState === SOCKET_CLOSED) return;
    this.readyState = SOCKET_CLOSED;
    this.emit('close', code, Buffer.from(reason));
  }
}

/** An `OpenSocket` handing out FakeSockets; `sockets` holds every one opened, in order. */
export function fakeSockets(): { open: OpenSocket; sockets: FakeSocket[]; last(): FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    open: (url, opts) => {
      const s = new FakeSocket(url, opts);
      sockets.push(s);
      return s;
    },
    sockets,
    last: () => {
      const s = sockets.at(-1);
      if (!s) throw new Error('no socket opened yet');
      return s;
    },
  };
}

/**
 * What a provider leg needs from the world: a way to open its WebSocket, and a clock. Connectors
 * take both as parameters (`ProviderDeps`), so a leg runs in a unit test against a fake socket and a
 * fake clock, and in production against `ws` 8 and the process clock.
 */
import WebSocket from 'ws';
import { systemClock, type Clock } from '../clock';

/**
 * WebSocket `readyState` values (WHATWG WebSockets, https://websockets.spec.whatwg.org/#dom-websocket-readystate;
 * `ws` uses the same numbers).
 */
export const SOCKET_CONNECTING = 0;
export const SOCKET_OPEN = 1;
export const SOCKET_CLOSED = 3;

/** A message as `ws` delivers it: text frames are Buffers too, told apart by `isBinary`. */
export type SocketData = Buffer | ArrayBuffer | Buffer[];

/** The HTTP answer to a refused upgrade (`ws`'s 'unexpected-response' gives an IncomingMessage). */
export interface UpgradeResponse {
  statusCode?: number;
  /** Drain the body so the socket can be released. */
  resume(): void;
}

/** The part of a `ws` client socket the legs use; `ws`'s WebSocket satisfies it as it is. */
export interface ProviderSocket {
  readonly readyState: number;
  /** Bytes queued by `send` and not yet written to the network. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Destroy the connection at once, without a closing handshake. */
  terminate(): void;
  /** WebSocket ping (RFC 6455 §5.5.2); the peer answers with a pong. Optional: fakes may leave it out. */
  ping?(): void;
  on(event: 'open', listener: () => void): this;
  on(event: 'pong', listener: () => void): this;
  on(event: 'message', listener: (data: SocketData, isBinary: boolean) => void): this;
  /** Always emitted once, last, after 'error' too (a `ws` guarantee the legs rely on). */
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'unexpected-response', listener: (req: unknown, res: UpgradeResponse) => void): this;
  once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
}

export interface SocketOptions {
  /** Extra request headers of the upgrade (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Largest frame accepted from the server (bytes); `ws` closes with 1009 beyond it. */
  maxPayload: number;
  /** Deadline for the HTTP upgrade (ms); none: no deadline of the socket's own. */
  handshakeTimeoutMs?: number;
}

/** Opens a client socket to `url`; it starts connecting at once. */
export type OpenSocket = (url: string, opts: SocketOptions) => ProviderSocket;

/** `ws` 8, per-message deflate off (audio does not compress, and it costs CPU per frame). */
export const openWebSocket: OpenSocket = (url, o) =>
  new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: o.maxPayload,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.handshakeTimeoutMs !== undefined ? { handshakeTimeout: o.handshakeTimeoutMs } : {}),
  });

/** What touches the world, for a provider: its sockets and its clock. */
export interface ProviderDeps {
  openSocket: OpenSocket;
  clock: Clock;
}

/** Production: real sockets, the process clock. */
export const liveProviderDeps: ProviderDeps = { openSocket: openWebSocket, clock: systemClock };

/** `over` with the production default for each part it leaves out. */
export function providerDeps(over: Partial<ProviderDeps> = {}): ProviderDeps {
  return { openSocket: over.openSocket ?? openWebSocket, clock: over.clock ?? systemClock };
}

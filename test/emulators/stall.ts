/**
 * A peer that hangs with its TCP connection up: nothing more is written (no audio, no pings, no pong to
 * the client's WebSocket pings, no close), as from a hung process. Frames are still read (and ignored
 * by the no-op sends), so the socket closes when the client gives up.
 */
import type { WebSocket } from 'ws';

/** Stall a server-side `ws` socket for good. */
export function stallSocket(ws: WebSocket): void {
  ws.send = () => undefined;
  ws.ping = () => undefined;
  // ws answers a ping through websocket.pong() (autoPong, ws 8.x receiver 'ping' handler).
  ws.pong = () => undefined;
}

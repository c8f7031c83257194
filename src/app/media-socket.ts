/**
 * `WS /media-stream`: `ws` 8 in noServer mode on the HTTP server's `upgrade` event, so a socket is
 * refused with an HTTP status before the handshake (unknown path or carrier 404, draining 503, bad
 * Twilio signature 403, Exotel without a token 401), then per message: codec → CarrierEvent →
 * CallSession. `?carrier=` picks the carrier's stream rules (CarrierStream; Twilio by default).
 *
 * A socket whose `start` lacks a valid token for a call we answered is closed with 1008 (policy
 * violation, RFC 6455 §7.4.1). Malformed frames are counted and logged and never end the call.
 * Sources: docs/protocols/twilio.md#signatures, #stream-messages, #marks-clear-and-stop (https://www.twilio.com/docs/usage/security,
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages). ws 8.23.0 pitfalls: a frame over `maxPayload`
 * (default 100 MiB) makes the socket emit `error` and close with 1009, and a server-side socket with no `error`
 * listener then takes the whole process down, so `maxPayload` is lowered and every socket gets an `error` listener;
 * `bufferedAmount` has no cap, so outbound audio is dropped above a threshold; a text frame that is not UTF-8 closes the
 * socket with 1007 unless `skipUTF8Validation` is set, so it is, and the codec counts such a frame as not_json.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { PendingCall, PendingCalls } from '../call/pending';
import type { CallRegistry } from '../call/registry';
import { CallSession } from '../call/session';
import type { ToolRegistry } from '../call/tools';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { CallbridgeError } from '../errors';
import type { CallControl, CallControls, CarrierCodec, CarrierCommand, CarrierEvent, CarrierStartEvent, CarrierStream } from '../carriers/types';
import type { CarrierName } from '../identity';
import type { Logger } from '../observability/logger';
import type { Connectors } from '../providers';
import type { Metrics } from '../observability/metrics';
import type { Store } from '../store/types';
import { clientAddress, type AddressLimiter } from './limits-ip';
import type { ServerState } from './probes';

/** Hard cap per WebSocket message (bytes); beyond it `ws` closes the socket with 1009. */
const HARD_MAX_PAYLOAD = 8 * 1024 * 1024;
/** Outbound backlog (bytes) above which agent audio is dropped rather than queued without bound. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** A socket must send `start` within this many ms. */
const START_TIMEOUT_MS = 15_000;
/** Frames kept while a `start`'s token is checked (about 2 s of 20 ms media frames); more are dropped and counted. */
const MAX_HELD_EVENTS = 100;
/** Bad-frame log lines per call before going quiet (still counted). */
const BAD_FRAME_LOG_LIMIT = 5;

export interface MediaSocketDeps {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  state: ServerState;
  registry: CallRegistry;
  pending: PendingCalls;
  tools: ToolRegistry;
  /** REST call control per carrier; the session gets its carrier's. */
  controls: CallControls;
  /** Where sessions persist calls and turns. */
  store?: Store;
  /** Provider connectors, for failover (PROVIDER_FAILOVER). */
  connectors?: Connectors;
  /** The sessions' clock (default: the process clock). */
  clock?: Clock;
  /** Concurrent media sockets per client address (MAX_MEDIA_SOCKETS_PER_IP); 429 before the handshake beyond. */
  ipLimit?: AddressLimiter;
  /** Stream rules by `?carrier=` value (every carrier of the registry). */
  streams: ReadonlyMap<CarrierName, CarrierStream<PendingCall>>;
  /** The carrier of a socket opened without `?carrier=`. */
  defaultCarrier: CarrierName;
}

/** The carrier's call control, or one that fails clearly when that carrier has no credentials. */
function controlFor(controls: CallControls, carrier: CarrierName): CallControl {
  const c = controls[carrier];
  if (c) return c;
  const fail = async (): Promise<never> => {
    throw new CallbridgeError('CB_CARRIER_CONFIG', `no REST credentials configured for ${carrier}`, 'application');
  };
  return { hangup: fail, transfer: fail, sayAndHangup: fail, placeCall: fail };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** Attach the media-stream endpoint to `server`. Returns the WebSocketServer (closed by the caller). */
export function attachMediaSocket(server: Server, deps: MediaSocketDeps): WebSocketServer {
  const { metrics } = deps;
  // skipUTF8Validation: a text frame that is not UTF-8 would otherwise fail the socket (ws closes 1007, RFC 6455 §8.1) and end
  // the call; unchecked, it reaches the codec, which drops and counts it as not_json like any other malformed frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD, perMessageDeflate: false, skipUTF8Validation: true });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.endsWith('/media-stream')) return refuse(socket, 404, 'Not Found');
    const carrier = url.searchParams.get('carrier') ?? deps.defaultCarrier;
    const stream = deps.streams.get(carrier);
    if (!stream) return refuse(socket, 404, `Unknown carrier ${carrier}`);
    // While draining, only calls answered before SIGTERM may still open their stream.
    if (deps.state.draining && deps.pending.size === 0) return refuse(socket, 503, 'Service Unavailable');
    const release = deps.ipLimit?.acquire(clientAddress(req));
    if (deps.ipLimit && !release) {
      metrics.socketsRefusedTotal.inc({ reason: 'ip_limit' });
      return refuse(socket, 429, 'Too Many Requests');
    }
    if (release) socket.once('close', release);
    const refusal = stream.checkUpgrade(req, url);
    if (refusal) {
      metrics.socketsRefusedTotal.inc({ reason: refusal.reason });
      return refuse(socket, refusal.status, refusal.text);
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, stream, stream.codec(url), url, deps));
  });
  return wss;
}

/**
 * One media socket. `socket` is the TCP socket under `ws`: writes made in one tick (a media frame
 * and its mark) are corked into one `writev` syscall, which the profile showed to be the largest
 * cost per frame (https://nodejs.org/api/stream.html#writablecork).
 */
function onConnection(ws: WebSocket, socket: Duplex, stream: CarrierStream<PendingCall>, codec: CarrierCodec, url: URL, deps: MediaSocketDeps): void {
  const { log, metrics } = deps;
  let session: CallSession | undefined;
  let streamSid = '';
  let badFrames = 0;
  let detach: (() => void) | undefined;
  /** Events received after `start` while its token is being checked; undefined before `start` and once the session runs. */
  let held: CarrierEvent[] | undefined;
  ws.on('error', (err) => log.warn({ err: err.message, callSid: session?.callSid }, 'media socket error'));
  const startTimer = setTimeout(() => {
    metrics.socketsRefusedTotal.inc({ reason: 'no_start' });
    ws.close(1008, 'no start message');
  }, START_TIMEOUT_MS);

  const port = {
    get isOpen() {
      return ws.readyState === ws.OPEN;
    },
    send: write,
    close(code: number, reason: string) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };

  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  function write(cmd: CarrierCommand): void {
    if (ws.readyState !== ws.OPEN) return;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    if (cmd.type === 'audio' && ws.bufferedAmount > MAX_BUFFERED) {
      metrics.badFramesTotal.inc({ carrier: codec.name, reason: 'backlog_drop' });
      return;
    }
    ws.send(codec.serialize(cmd, streamSid));
  }

  const dropBad = (reason: string, size: number) => {
    badFrames++;
    metrics.badFramesTotal.inc({ carrier: codec.name, reason });
    session?.badFrame();
    if (badFrames <= BAD_FRAME_LOG_LIMIT) log.warn({ callSid: session?.callSid, reason, bytes: size }, 'malformed media frame dropped');
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (raw.length > deps.cfg.MAX_FRAME_BYTES) return dropBad('oversized', raw.length);
    const parsed = codec.parse(raw, isBinary);
    if (!parsed.ok) return dropBad(parsed.reason, raw.length);
    const ev = parsed.event;
    if (ev.type === 'start') {
      if (session || held) return dropBad('duplicate_start', raw.length);
      clearTimeout(startTimer);
      if (ev.warnings?.length) log.warn({ callSid: ev.callSid, carrier: codec.name, warnings: ev.warnings }, 'media stream start: worked around');
      held = [];
      stream.claim(ev, url).then(
        (pending) => begin(ev, pending),
        (err: Error) => {
          log.error({ callSid: ev.callSid, err: err.message }, 'media token check failed');
          begin(ev, undefined);
        },
      );
      return;
    }
    if (!session) {
      // Frames after `start` wait (bounded) while its token is checked, then reach the session in order.
      if (held) {
        if (held.length < MAX_HELD_EVENTS) held.push(ev);
        else dropBad('held_overflow', raw.length);
      } else if (ev.type !== 'connected') dropBad('before_start', raw.length);
      return;
    }
    session.onCarrier(ev);
  });

  function begin(ev: CarrierStartEvent, pending: PendingCall | undefined): void {
    if (!pending) {
      metrics.socketsRefusedTotal.inc({ reason: 'token' });
      log.warn({ callSid: ev.callSid }, 'media socket start without a valid call token: closing 1008');
      ws.close(1008, 'invalid call token');
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      log.warn({ callSid: ev.callSid }, 'media socket closed while its token was checked: call not started');
      return;
    }
    streamSid = ev.streamSid;
    detach = stream.attached?.(ev.callSid, port.close);
    session = new CallSession(pending, ev, port, {
      cfg: deps.cfg,
      log,
      metrics,
      control: controlFor(deps.controls, codec.name),
      tools: deps.tools,
      connectors: deps.connectors,
      onEnded: (record) => deps.registry.end(record),
      store: deps.store,
      clock: deps.clock,
    });
    deps.registry.add(session);
    void session.start();
    const queued = held ?? [];
    held = undefined;
    for (const e of queued) session.onCarrier(e);
  }

  ws.on('close', () => {
    clearTimeout(startTimer);
    detach?.();
    session?.carrierClosed();
  });
}

/**
 * OpenAI Realtime (GA) emulator, part 4 of 4: the server and its test API. Plain `ws://` on
 * 127.0.0.1 (no TLS needed: callbridge dials with `ws` directly, docs/protocols/openai-realtime.md#connection),
 * path `/v1/realtime`. Auth, beta refusal, model check and fault injection happen here;
 * one `EmulatedSession` (openai-realtime-session.ts) per socket does the rest.
 *
 * ```ts
 * const emu = await startOpenAiEmulator({ speed: 4 });
 * // OPENAI_REALTIME_URL = emu.url, OPENAI_API_KEY = 'sk-test'
 * await emu.waitFor((s) => s.responses.find((r) => r.status === 'completed'));
 * const { output } = await emu.callTool('check_availability', { date: '2026-03-14' });
 * await emu.close();
 * ```
 */
import { createServer, type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RealtimeAudioFormats, RealtimeError } from 'openai/resources/realtime/realtime';
import WebSocket, { WebSocketServer } from 'ws';
import { defaultScript, type AgentScript } from './agent-script';
import type { UpdateError } from './openai-realtime-config';
import { EmulatedSession, type ToolCallResult } from './openai-realtime-session';
import { stallSocket } from './stall';

/** A scripted tool call: the VAD-created response after caller turn `afterUserTurn` (0-based) calls it. */
export interface ToolStep {
  afterUserTurn: number;
  name: string;
  args: unknown;
  used?: boolean;
}

export interface OpenAiEmulatorOptions {
  /** Accepted API key (Bearer header or `openai-insecure-api-key.<key>` subprotocol). Default 'sk-test'. */
  apiKey?: string;
  /** Playout pace multiple for response audio (1 = real time). Default 1. */
  speed?: number;
  /** What the model says. Default `defaultScript()`. */
  script?: AgentScript;
  /** Session cap (ms) → `error` session_expired, then close 1001. Default 60 min. */
  sessionCapMs?: number;
  /** Scripted tool calls (docs/protocols/openai-realtime.md#function-calls). */
  toolSteps?: ToolStep[];
  // ---- fault injection; may be changed at run time through `emulator.options` ----
  /** Refuse the upgrade with this HTTP status (e.g. 401, 403, 500). */
  rejectUpgradeStatus?: number;
  /** Destroy each socket (no close frame) this many ms after it opens. */
  dropAfterMs?: number;
  /** Hold `session.created` this many ms. */
  delaySessionCreatedMs?: number;
  /** The next response ends with `response.done{status:'failed'}` (cleared once used). */
  failNextResponse?: boolean;
  /** Answer every `session.update` with this `error` instead of `session.updated` (a refused session). */
  rejectSessionUpdate?: UpdateError;
}

export type ResolvedOptions = Required<Pick<OpenAiEmulatorOptions, 'apiKey' | 'speed' | 'script' | 'sessionCapMs'>> & OpenAiEmulatorOptions;

/** Everything the emulator saw, in arrival order (docs/protocols/openai-realtime.md#emulator). */
export interface OpenAiEmulatorSeen {
  upgrades: Array<{ url: string; headers: IncomingHttpHeaders; protocols: string[]; model: string | null; tls: false; status: number }>;
  /** `type` of every well-formed client event. */
  clientEvents: string[];
  sessionUpdates: Array<{ event: unknown; ok: boolean; error?: UpdateError }>;
  /** Effective formats after each accepted `session.update`. */
  formats: Array<{ input: RealtimeAudioFormats; output: RealtimeAudioFormats }>;
  /** Caller audio appended, all sessions (ms, may be fractional). */
  appendedMs: number;
  speech: Array<{ type: 'started' | 'stopped'; ms: number; itemId: string }>;
  /** Message items the client created (greeting requests, …). */
  items: unknown[];
  responses: Array<{ id: string; trigger: 'client' | 'vad' | 'tool'; kind: 'audio' | 'tool' | 'failed'; status: string; audioMs: number; itemId?: string }>;
  cancels: Array<{ responseId: string; reason: 'turn_detected' | 'client_cancelled'; audioMs: number }>;
  truncates: Array<{ itemId: string; requestedMs: number; appliedMs: number | null; ok: boolean; error?: string }>;
  toolOutputs: Array<{ callId: string; output: string; known: boolean }>;
  closes: Array<{ code: number; reason: string; by: 'server' | 'client' | 'drop' }>;
  errors: RealtimeError[];
}

export interface OpenAiEmulator {
  /** `ws://127.0.0.1:PORT/v1/realtime` */
  readonly url: string;
  /** Live options: change faults (`failNextResponse`, `dropAfterMs`, …) between or during calls. */
  readonly options: ResolvedOptions;
  readonly seen: OpenAiEmulatorSeen;
  /** Sockets currently open. */
  readonly openSessions: number;
  /** Resolves with the first truthy `check(seen)`, re-checked on every change; rejects after `timeoutMs` (default 5000). */
  waitFor<T>(check: (seen: OpenAiEmulatorSeen) => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** The model calls a tool on the newest open session; resolves with the bridge's function_call_output. */
  callTool(name: string, args: unknown): Promise<ToolCallResult>;
  /** Send a raw text frame on the newest open session (malformed JSON, unknown event types). */
  inject(text: string): void;
  /** Fault: the newest open session hangs (nothing sent, nothing read, pings unanswered: ./stall.ts). */
  stall(): void;
  /** Fault: destroy the newest open session's socket now (no close frame: the client sees 1006). */
  drop(): void;
  /** Clear `seen`, scripted-step usage and one-shot faults. */
  reset(): void;
  /** Terminate every socket and stop listening. */
  close(): Promise<void>;
}

/** What sessions share with the server. */
export interface EmulatorShared {
  opts: ResolvedOptions;
  seen: OpenAiEmulatorSeen;
  newId(prefix: string): string;
  changed(): void;
  closeSocket(ws: WebSocket, code: number, reason: string): void;
  dropSocket(ws: WebSocket): void;
}

function emptySeen(): OpenAiEmulatorSeen {
  return {
    upgrades: [],
    clientEvents: [],
    sessionUpdates: [],
    formats: [],
    appendedMs: 0,
    speech: [],
    items: [],
    responses: [],
    cancels: [],
    truncates: [],
    toolOutputs: [],
    closes: [],
    errors: [],
  };
}

/** Start the emulator on 127.0.0.1, port 0. */
export async function startOpenAiEmulator(options: OpenAiEmulatorOptions = {}): Promise<OpenAiEmulator> {
  const opts: ResolvedOptions = { apiKey: 'sk-test', speed: 1, script: options.script ?? defaultScript(), sessionCapMs: 60 * 60_000, ...options };
  let seen = emptySeen();
  let seq = 0;
  const waiters = new Set<() => void>();
  const sessions = new Map<WebSocket, EmulatedSession>();
  const closedBy = new Map<WebSocket, { by: 'server' | 'drop'; code?: number; reason?: string }>();

  const shared: EmulatorShared = {
    opts,
    get seen() {
      return seen;
    },
    newId: (prefix) => `${prefix}_${(++seq).toString(36).padStart(6, '0')}`,
    changed: () => {
      for (const w of [...waiters]) w();
    },
    closeSocket(ws, code, reason) {
      closedBy.set(ws, { by: 'server', code, reason });
      ws.close(code, reason);
    },
    dropSocket(ws) {
      closedBy.set(ws, { by: 'drop' });
      ws.terminate();
    },
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false),
  });
  const server = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required'));

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const record = { url: req.url ?? '', headers: { ...req.headers }, protocols, model: url.searchParams.get('model'), tls: false as const, status: 101 };
    seen.upgrades.push(record);
    const refuse = (status: number) => {
      record.status = status;
      const body = `{"error":{"message":"refused by emulator","code":${status}}}`;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
      shared.changed();
    };
    if (url.pathname !== '/v1/realtime') return refuse(404);
    if (opts.rejectUpgradeStatus) return refuse(opts.rejectUpgradeStatus);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, record.model, req.headers, protocols));
  });

  function onConnection(ws: WebSocket, model: string | null, headers: IncomingHttpHeaders, protocols: string[]): void {
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      // A server-initiated close is recorded with the code the server sent, even if the peer then
      // tore the TCP connection down without answering (which the socket reports as 1006).
      const ours = closedBy.get(ws);
      seen.closes.push(
        ours ? { code: ours.code ?? code, reason: ours.reason ?? reason.toString(), by: ours.by } : { code, reason: reason.toString(), by: 'client' },
      );
      sessions.delete(ws);
      shared.changed();
    });
    const refuse = (error: Pick<RealtimeError, 'type' | 'code' | 'message'>, code: number, reason: string) => {
      const e: RealtimeError = { ...error, param: null, event_id: null };
      seen.errors.push(e);
      ws.send(JSON.stringify({ type: 'error', event_id: shared.newId('event'), error: e }));
      shared.closeSocket(ws, code, reason);
    };
    // Auth first (docs/protocols/openai-realtime.md#connection): Bearer header or browser subprotocol.
    const bearer = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    const subKey = protocols.find((p) => p.startsWith('openai-insecure-api-key.'))?.slice('openai-insecure-api-key.'.length);
    if ((bearer ?? subKey) !== opts.apiKey) {
      return refuse(
        {
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        },
        3000,
        'invalid_request_error.invalid_api_key',
      );
    }
    // Beta shape: refused like today's service (docs/protocols/openai-realtime.md#ga-and-beta; unverified beyond third-party traces).
    if (/realtime=v1/i.test(String(headers['openai-beta'] ?? '')) || protocols.includes('openai-beta.realtime-v1')) {
      return refuse(
        {
          type: 'invalid_request_error',
          code: 'beta_api_shape_disabled',
          message: 'The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.',
        },
        4000,
        'beta_api_shape_disabled',
      );
    }
    // Missing model: error then close (code and text unverified: not documented).
    if (!model) return refuse({ type: 'invalid_request_error', code: 'missing_model', message: "Missing required parameter: 'model'." }, 4000, 'missing_model');
    const session = new EmulatedSession(ws, shared, model);
    sessions.set(ws, session);
    session.start();
    shared.changed();
  }

  const newest = (): EmulatedSession | undefined => [...sessions.values()].filter((s) => !s.closed).pop();

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    options: opts,
    get seen() {
      return seen;
    },
    get openSessions() {
      return sessions.size;
    },
    waitFor<T>(check: (s: OpenAiEmulatorSeen) => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const test = () => {
          const v = check(seen);
          if (v === undefined || v === null || v === false) return;
          cleanup();
          resolve(v);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`openai emulator: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(test);
        };
        waiters.add(test);
        test();
      });
    },
    callTool(name, args) {
      const session = newest();
      if (!session) return Promise.reject(new Error('openai emulator: no open session to call a tool on'));
      return session.callTool(name, args);
    },
    inject(text) {
      newest()?.inject(text);
    },
    stall() {
      const ws = [...sessions.entries()].filter(([, s]) => !s.closed).pop()?.[0];
      if (!ws) throw new Error('openai emulator: no open session to stall');
      stallSocket(ws);
    },
    drop() {
      const ws = [...sessions.entries()].filter(([, s]) => !s.closed).pop()?.[0];
      if (!ws) throw new Error('openai emulator: no open session to drop');
      shared.dropSocket(ws);
    },
    reset() {
      seen = emptySeen();
      opts.failNextResponse = false;
      for (const s of opts.toolSteps ?? []) s.used = false;
    },
    async close() {
      for (const ws of sessions.keys()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

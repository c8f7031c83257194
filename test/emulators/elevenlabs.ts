/**
 * ElevenLabs Conversational AI emulator: the signed-URL REST call and the conversation WebSocket
 * on one loopback port (`ws` in `noServer` mode behind `upgrade`), following docs/protocols/elevenlabs.md#emulator
 * (the post-call webhook is not here).
 *
 * ```ts
 * const el = await startElevenLabsEmulator({ speed: 4 });
 * const cfg = testConfig({ ELEVENLABS_API_BASE: el.httpUrl });
 * // … drive a call …
 * expect(el.seen.pongs.unknown).toEqual([]);
 * await el.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ElevenLabsAudioFormat } from '../../src/providers/elevenlabs/wire';
import { defaultScript, type AgentScript } from './agent-script';
import { EmulatedConversation, type ConversationOptions } from './elevenlabs-conversation';
import { emptySeen, type ElevenLabsSeen, type ToolResultSeen } from './elevenlabs-seen';
import type { VadOptions } from './vad';

export type { ElevenLabsSeen, ToolResultSeen } from './elevenlabs-seen';
export { EmulatedConversation } from './elevenlabs-conversation';

export interface ElevenLabsEmulatorOptions {
  /** Expected `xi-api-key`. Default 'xi-test-key'. */
  apiKey?: string;
  /** The one known agent. Default 'agent_test'. */
  agentId?: string;
  /** Accept upgrades without a signature or API key (public agent, docs/protocols/elevenlabs.md#conversation-socket). Default false. */
  publicAgent?: boolean;
  /** The agent's formats, reported in the metadata. Default 'ulaw_8000' both. */
  outputFormat?: ElevenLabsAudioFormat;
  inputFormat?: ElevenLabsAudioFormat;
  /** Playout pace multiple: 1 = real time (default), 4 = four times faster. */
  speed?: number;
  /** Ping period in ms. Default 1000. */
  pingIntervalMs?: number;
  /** Default `defaultScript()`. */
  script?: AgentScript;
  /** Audio per `audio` message, ms. Default 100. */
  chunkMs?: number;
  /** Fault: answer the signed-URL call with this HTTP status. */
  signedUrlStatus?: number;
  /** Fault: hold the signed-URL answer this long (ms); a client that gives up first gets nothing. */
  signedUrlDelayMs?: number;
  /** Fault: refuse every upgrade (`true` = 403, or the status to answer). */
  rejectUpgrade?: boolean | number;
  /** How a bad signature is refused: HTTP 403 on the upgrade (default) or accept then close 1008. */
  authFailure?: 'http' | 'close';
  /** Signed-URL lifetime, ms. Default 15 min (commonly quoted; unverified: ElevenLabs does not document it). */
  signatureTtlMs?: number;
  /** Fault: after the metadata, close with `closeCode` (default 1011; 1006 drops the TCP socket). */
  closeAfterMs?: number;
  closeCode?: number;
  /** Fault: wait this long after the initiation data before sending the metadata. Default 0. */
  metadataDelayMs?: number;
  /** Start without initiation data after this long. Default 1000. */
  initWaitMs?: number;
  /** End with `max_duration_exceeded` (close 1000) this long after the metadata. */
  maxDurationMs?: number;
  /** Close 1002 `transport_receive_timeout` after this long without client input. Default 60 000. */
  receiveTimeoutMs?: number;
  /** Wait for a `client_tool_result`. Default 10 000 ms. */
  toolTimeoutMs?: number;
  /** Speak the next scripted reply after a tool result. Default true. */
  replyAfterTool?: boolean;
  /** Overrides the agent allows; a forbidden one → `override_error` + close 1008. Default all. */
  allowOverrides?: Partial<ConversationOptions['allowOverrides']>;
  /** Energy VAD tuning (threshold, startMs, silenceMs). */
  vad?: Partial<Omit<VadOptions, 'sampleRate'>>;
}

export interface ElevenLabsEmulator {
  /** `http://127.0.0.1:PORT`: use as `ELEVENLABS_API_BASE`. */
  readonly httpUrl: string;
  /** `ws://127.0.0.1:PORT`. */
  readonly wsUrl: string;
  readonly seen: ElevenLabsSeen;
  /** Change options for later requests and conversations (fault injection between steps). */
  configure(opts: ElevenLabsEmulatorOptions): void;
  /** The newest open conversation, if any. */
  conversation(): EmulatedConversation | undefined;
  /** Resolves with the newest open conversation once there is one. */
  waitForConversation(timeoutMs?: number): Promise<EmulatedConversation>;
  /** Scripted `client_tool_call` on the live conversation; resolves with its `client_tool_result`. */
  callTool(name: string, parameters: Record<string, unknown>): Promise<ToolResultSeen>;
  /** Agent hangs up: finish the audio, then close 1000. */
  hangUp(): Promise<void>;
  /** Send a raw server message (object or text) on the live conversation. */
  send(msg: Record<string, unknown> | string): void;
  /** Resolves when the live conversation has no agent audio sent or playing. */
  playout(): Promise<void>;
  /** Clear `seen`, signatures and options set by `configure`. Live conversations keep running. */
  reset(): void;
  /** Close every conversation and the server. */
  close(): Promise<void>;
}

const SIGNED_URL_PATHS = new Set(['/v1/convai/conversation/get-signed-url', '/v1/convai/conversation/get_signed_url']);
const CONVERSATION_PATH = '/v1/convai/conversation';

interface Signature {
  expiresAt: number;
  singleUse: boolean;
  used: boolean;
  conversationId?: string;
}

/** Start the emulator on 127.0.0.1, port 0. */
export async function startElevenLabsEmulator(initial: ElevenLabsEmulatorOptions = {}): Promise<ElevenLabsEmulator> {
  let o: ElevenLabsEmulatorOptions = { ...initial };
  const seen = emptySeen();
  const signatures = new Map<string, Signature>();
  const live = new Set<EmulatedConversation>();
  const apiKey = () => o.apiKey ?? 'xi-test-key';
  const agentId = () => o.agentId ?? 'agent_test';
  const newConversationId = () => `conv_${randomBytes(12).toString('hex')}`;

  const server = createServer((req, res) => onRequest(req, res, false));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, handleProtocols: (p) => (p.has('convai') ? 'convai' : false) });
  server.on('upgrade', (req, socket, head) => onUpgrade(req, socket as Socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const httpUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}`;

  function onRequest(req: IncomingMessage, res: ServerResponse, held: boolean): void {
    if (o.signedUrlDelayMs && !held) {
      const t = setTimeout(() => !res.destroyed && onRequest(req, res, true), o.signedUrlDelayMs);
      res.on('close', () => clearTimeout(t));
      return;
    }
    const u = new URL(req.url ?? '/', httpUrl);
    const query = Object.fromEntries(u.searchParams);
    const answer = (status: number, body: unknown) => {
      seen.requests.push({ method: req.method ?? '', path: u.pathname, query, headers: req.headers, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || !SIGNED_URL_PATHS.has(u.pathname)) return answer(404, { detail: 'Not Found' });
    if (o.signedUrlStatus) return answer(o.signedUrlStatus, { detail: { status: 'injected_fault', message: `Injected HTTP ${o.signedUrlStatus}` } });
    if (req.headers['xi-api-key'] !== apiKey()) return answer(401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    if (!query.agent_id) return answer(422, { detail: [{ type: 'missing', loc: ['query', 'agent_id'], msg: 'Field required', input: null }] });
    if (query.agent_id !== agentId()) return answer(404, { detail: { status: 'agent_not_found', message: `Agent ${query.agent_id} not found` } });
    const signature = randomBytes(24).toString('base64url');
    const withId = query.include_conversation_id === 'true';
    const conversationId = withId ? newConversationId() : undefined;
    signatures.set(signature, { expiresAt: Date.now() + (o.signatureTtlMs ?? 15 * 60_000), singleUse: withId, used: false, conversationId });
    // Points back at this host (docs/protocols/elevenlabs.md#hosts-and-regions): the bridge must use it verbatim.
    const signedUrl = `${wsUrl}${CONVERSATION_PATH}?agent_id=${encodeURIComponent(query.agent_id)}&conversation_signature=${signature}`;
    answer(200, { signed_url: signedUrl, ...(conversationId ? { conversation_id: conversationId } : {}) });
  }

  /** Why an upgrade is not allowed, or `undefined` (docs/protocols/elevenlabs.md#conversation-socket). */
  function refusal(query: Record<string, string>, key: string | undefined): string | undefined {
    if (query.agent_id !== agentId()) return 'unknown agent';
    const sig = query.conversation_signature;
    if (sig !== undefined) {
      const s = signatures.get(sig);
      if (!s) return 'unknown signature';
      if (Date.now() >= s.expiresAt) return 'expired signature';
      if (s.singleUse && s.used) return 'signature already used';
      s.used = true;
      return undefined;
    }
    if (key === apiKey() || o.publicAgent) return undefined;
    return 'no signature or API key';
  }

  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const u = new URL(req.url ?? '/', httpUrl);
    const query = Object.fromEntries(u.searchParams);
    const refuse = (status: number, reason: string) => {
      seen.upgrades.push({ path: u.pathname, query, accepted: false, reason });
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (u.pathname !== CONVERSATION_PATH) return refuse(404, 'unknown path');
    if (o.rejectUpgrade) return refuse(typeof o.rejectUpgrade === 'number' ? o.rejectUpgrade : 403, 'injected refusal');
    const key = req.headers['xi-api-key'];
    const why = refusal(query, typeof key === 'string' ? key : undefined);
    if (why && o.authFailure !== 'close') return refuse(403, why);
    const sig = query.conversation_signature;
    const conversationId = (sig && signatures.get(sig)?.conversationId) || newConversationId();
    wss.handleUpgrade(req, socket, head, (ws) => {
      seen.upgrades.push({ path: u.pathname, query, protocol: ws.protocol || undefined, accepted: !why, reason: why });
      const conv = new EmulatedConversation(ws, conversationOptions(conversationId), seen);
      live.add(conv);
      void conv.done.then(() => live.delete(conv));
      if (why) conv.closeWith(1008, why);
    });
  }

  function conversationOptions(conversationId: string): ConversationOptions {
    return {
      conversationId,
      inputFormat: o.inputFormat ?? 'ulaw_8000',
      outputFormat: o.outputFormat ?? 'ulaw_8000',
      speed: o.speed ?? 1,
      pingIntervalMs: o.pingIntervalMs ?? 1000,
      script: o.script ?? defaultScript(),
      chunkMs: o.chunkMs ?? 100,
      initWaitMs: o.initWaitMs ?? 1000,
      metadataDelayMs: o.metadataDelayMs ?? 0,
      closeAfterMs: o.closeAfterMs,
      closeCode: o.closeCode ?? 1011,
      maxDurationMs: o.maxDurationMs,
      receiveTimeoutMs: o.receiveTimeoutMs ?? 60_000,
      toolTimeoutMs: o.toolTimeoutMs ?? 10_000,
      replyAfterTool: o.replyAfterTool ?? true,
      allowOverrides: { prompt: true, firstMessage: true, language: true, voice: true, ...o.allowOverrides },
      vad: o.vad ?? {},
    };
  }

  const newest = () => [...live].filter((c) => c.isOpen).pop();
  const needLive = () => {
    const c = newest();
    if (!c) throw new Error('no live ElevenLabs conversation');
    return c;
  };

  return {
    httpUrl,
    wsUrl,
    seen,
    configure: (opts) => void (o = { ...o, ...opts }),
    conversation: newest,
    async waitForConversation(timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const c = newest();
        if (c) return c;
        if (Date.now() > until) throw new Error('no ElevenLabs conversation opened');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    callTool: (name, parameters) => needLive().callTool(name, parameters),
    hangUp: () => needLive().hangUp(),
    send: (msg) => needLive().send(msg),
    playout: () => newest()?.playout() ?? Promise.resolve(),
    reset() {
      Object.assign(seen, emptySeen());
      signatures.clear();
      o = { ...initial };
    },
    async close() {
      const all = [...live];
      for (const c of all) c.drop();
      await Promise.all(all.map((c) => c.done));
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

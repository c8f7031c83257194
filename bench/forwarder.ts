/**
 * The floor of `npm run bench`: the least a Twilio ⇄ ElevenLabs bridge can do, measured by the same
 * load generator as callbridge (scripts/bench-bridge.ts). No business logic: no signature check,
 * no store, no transcript, no barge-in bookkeeping, no marks.
 *
 * - `POST /inbound` → TwiML `<Connect><Stream url="wss://<PUBLIC_URL host>/media-stream">`
 *   (https://www.twilio.com/docs/voice/twiml/stream; docs/protocols/twilio.md#twiml-connect-stream).
 * - `WS /media-stream`: on `start`, one signed URL per call (`GET <ELEVENLABS_API_BASE>/v1/convai/conversation/get-signed-url?agent_id=…`
 *   with `xi-api-key`), the conversation socket, `conversation_initiation_client_data` first
 *   (docs/protocols/elevenlabs.md#signed-url, #conversation-socket).
 * - Every message each way is parsed (`JSON.parse`) and its base64 passed through untouched: caller
 *   `media.payload` → `{"user_audio_chunk":…}`; agent `audio_event.audio_base_64` →
 *   `{"event":"media","streamSid":…,"media":{"payload":…}}` (docs/protocols/twilio.md#stream-messages);
 *   `ping` → `pong`, `interruption` → `clear`. Caller audio before the provider socket is open is dropped.
 * - `GET /metrics`: event-loop lag p99 and max (seconds) since the previous scrape, under prom-client's
 *   names (`nodejs_eventloop_lag_p99_seconds`), measured with perf_hooks `monitorEventLoopDelay` at
 *   prom-client's 10 ms resolution. `GET /ready` answers 200.
 *
 * Env: PORT, PUBLIC_URL (https base the carrier reaches), ELEVENLABS_API_BASE, ELEVENLABS_API_KEY,
 * ELEVENLABS_AGENT_ID. Run: `node --import tsx bench/forwarder.ts`.
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';

/** What the forwarder needs to know. */
export interface ForwarderOptions {
  /** TCP port on 127.0.0.1 (0 = any). */
  port: number;
  /** https base URL the carrier reaches (the stream URL's host). */
  publicUrl: string;
  /** http(s) base of the ElevenLabs API (the bench provider). */
  apiBase: string;
  apiKey: string;
  agentId: string;
}

/** Start the forwarder; resolves with the listening server. */
export function startForwarder(o: ForwarderOptions): Promise<Server> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const app = express();
  const streamUrl = `wss://${new URL(o.publicUrl).host}/media-stream`;
  app.post(['/inbound', '/outbound'], (_req, res) => {
    res.type('text/xml').send(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${streamUrl}"/></Connect></Response>`);
  });
  app.get('/ready', (_req, res) => {
    res.send('ok');
  });
  app.get('/metrics', (_req, res) => {
    const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    res.type('text/plain').send(`nodejs_eventloop_lag_p99_seconds ${s(lag.percentile(99))}\nnodejs_eventloop_lag_max_seconds ${s(lag.max)}\n`);
    lag.reset();
  });
  const server = createServer(app);
  const wss = new WebSocketServer({ server, path: '/media-stream', perMessageDeflate: false });
  wss.on('connection', (carrier) => bridge(carrier, o));
  return new Promise((resolve) => server.listen(o.port, '127.0.0.1', () => resolve(server)));
}

/** One call: the carrier socket and its provider socket, forwarding both ways. */
function bridge(carrier: WebSocket, o: ForwarderOptions): void {
  let streamSid = '';
  let provider: WebSocket | undefined;
  carrier.on('error', () => undefined);
  carrier.on('close', () => provider?.close());
  carrier.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString());
    if (msg.event === 'media') {
      if (provider?.readyState === WebSocket.OPEN) provider.send(`{"user_audio_chunk":"${msg.media.payload}"}`);
    } else if (msg.event === 'start') {
      streamSid = msg.start.streamSid;
      connectProvider(o).then(
        (ws) => {
          if (carrier.readyState !== WebSocket.OPEN) return ws.close();
          provider = ws;
          ws.on('message', (d: Buffer) => {
            const ev = JSON.parse(d.toString());
            if (ev.type === 'audio') carrier.send(`{"event":"media","streamSid":"${streamSid}","media":{"payload":"${ev.audio_event.audio_base_64}"}}`);
            else if (ev.type === 'ping') ws.send(`{"type":"pong","event_id":${ev.ping_event.event_id}}`);
            else if (ev.type === 'interruption') carrier.send(`{"event":"clear","streamSid":"${streamSid}"}`);
          });
          ws.on('close', () => carrier.close());
        },
        () => carrier.close(),
      );
    } else if (msg.event === 'stop') {
      carrier.close();
    }
  });
}

/** Fetch a signed URL and open the conversation socket; resolves once it is open and initiated. */
async function connectProvider(o: ForwarderOptions): Promise<WebSocket> {
  const res = await fetch(`${o.apiBase}/v1/convai/conversation/get-signed-url?agent_id=${encodeURIComponent(o.agentId)}`, {
    headers: { 'xi-api-key': o.apiKey },
  });
  if (!res.ok) throw new Error(`signed URL: HTTP ${res.status}`);
  const { signed_url } = (await res.json()) as { signed_url: string };
  const ws = new WebSocket(signed_url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  ws.send(JSON.stringify({ type: 'conversation_initiation_client_data' }));
  return ws;
}

if (require.main === module) {
  const env = (k: string, d?: string) => process.env[k] ?? d ?? '';
  startForwarder({
    port: Number(env('PORT', '3000')),
    publicUrl: env('PUBLIC_URL', 'https://localhost'),
    apiBase: env('ELEVENLABS_API_BASE', 'https://api.elevenlabs.io'),
    apiKey: env('ELEVENLABS_API_KEY'),
    agentId: env('ELEVENLABS_AGENT_ID'),
  }).then(() => process.send ?? console.error(`forwarder listening on 127.0.0.1:${env('PORT', '3000')}`));
}

/**
 * Bench provider: a minimal ElevenLabs ConvAI end (signed URL + WebSocket, docs/protocols/elevenlabs.md
 * #signed-url, #client-messages, #server-events) run as its own process by scripts/bench-bridge.ts, so its work is not charged to the
 * bridge. Per conversation: `conversation_initiation_metadata` (μ-law 8 kHz both ways), one greeting
 * frame at once (call-setup time), then every `user_audio_chunk` echoed straight back as `audio`.
 *
 * Timestamps ride in the audio (see ./bench-stamp.ts): the carrier's send time arrives in each chunk;
 * this process records arrival − send (carrier → provider through the bridge) and stamps its own send
 * time into the echo. Latencies go to the parent over IPC on request.
 * Env: PORT (0 = any). IPC in: 'reset' | 'stats'; out: { ready, port } | { stats: number[] (ms) }.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { GREETING_TAG, nowNs, readStamp, stampFrame } from './bench-stamp';

const inbound: number[] = [];
let conversations = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/v1/convai/conversation/get-signed-url') {
    const host = req.headers.host;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ signed_url: `ws://${host}/v1/convai/conversation?agent_id=${url.searchParams.get('agent_id')}&conversation_signature=bench` }));
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1024 * 1024 });
wss.on('connection', (ws: WebSocket) => {
  ws.on('error', () => undefined);
  let started = false;
  const id = `conv_bench_${++conversations}`;
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (!started) {
      started = true; // the first message is conversation_initiation_client_data
      ws.send(
        JSON.stringify({
          type: 'conversation_initiation_metadata',
          conversation_initiation_metadata_event: { conversation_id: id, agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'ulaw_8000' },
        }),
      );
      const greeting = Buffer.alloc(160, 0xff);
      stampFrame(greeting, GREETING_TAG, 0n, nowNs());
      ws.send(audioMessage(greeting));
      return;
    }
    const at = text.indexOf('"user_audio_chunk":"');
    if (at < 0) return; // pong, tool results, …
    const b64 = text.slice(at + 20, text.indexOf('"', at + 20));
    const frame = Buffer.from(b64, 'base64');
    const stamp = readStamp(frame);
    if (!stamp) return;
    const t = nowNs();
    inbound.push(Number(t - stamp.carrierNs) / 1e6);
    stampFrame(frame, stamp.tag, stamp.carrierNs, t);
    ws.send(audioMessage(frame));
  });
});

function audioMessage(frame: Buffer): string {
  // One event_id for the whole conversation: one long agent utterance.
  return `{"type":"audio","audio_event":{"audio_base_64":"${frame.toString('base64')}","event_id":1}}`;
}

process.on('message', (m: string) => {
  if (m === 'reset') inbound.length = 0;
  if (m === 'stats') process.send!({ stats: inbound.splice(0) });
});
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send!({ ready: true, port: (server.address() as AddressInfo).port });
});

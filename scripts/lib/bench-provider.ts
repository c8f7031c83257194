/**
 * Bench provider: a minimal ElevenLabs ConvAI end (signed URL + WebSocket, docs/protocols/elevenlabs.md
 * #signed-url, #client-messages, #server-events) run as its own process by scripts/bench-bridge.ts, so its work is not charged to the
 * bridge. Per conversation: `conversation_initiation_metadata` (μ-law 8 kHz both ways), one greeting
 * frame at once (call-setup time), then one `audio` event per CHUNK_FRAMES caller frames received:
 * the agent talks all the time, in chunks of CHUNK_FRAMES × 20 ms (default 10: 200 ms, a size that
 * the real service sends; a bridge that forwards chunks as they come sends the carrier 5 per second).
 *
 * Timestamps ride in the audio (see ./bench-stamp.ts): the carrier's send time arrives in each chunk;
 * this process records arrival − send (carrier → provider through the bridge; also without the frames
 * in flight while this process stalled, ./bench-stats.ts StallWatch) and stamps its own send
 * time into the first frame of each agent chunk. Nothing is decoded: stamps are read from and written
 * into the base64 text, and each agent chunk is a copy of a precomputed message.
 * Env: PORT (0 = any), CHUNK_FRAMES. IPC in: 'stats'; out: { ready, port } | { stats: { all, clean }: LatencyHistogram.drain() each }.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FILL, GREETING_TAG, MEDIA_TAG, nowNs, readStampB64, writeStampB64 } from './bench-stamp';
import { DirectionLatency } from './bench-stats';

const CHUNK_FRAMES = Math.max(1, Number(process.env.CHUNK_FRAMES ?? 10));
const FRAME_BYTES = 160;
const TEXT = { binary: false };
const USER_AUDIO = Buffer.from('"user_audio_chunk":"');
const inbound = new DirectionLatency();
let conversations = 0;

/** A precomputed `audio` event of `frames` frames of μ-law silence, and where its base64 starts. */
function audioTemplate(frames: number): { msg: Buffer; at: number } {
  // One event_id for the whole conversation: one long agent utterance.
  const head = '{"type":"audio","audio_event":{"audio_base_64":"';
  const b64 = Buffer.alloc(frames * FRAME_BYTES, FILL).toString('base64');
  return { msg: Buffer.from(`${head}${b64}","event_id":1}}`, 'latin1'), at: head.length };
}
const GREETING = audioTemplate(1);
const CHUNK = audioTemplate(CHUNK_FRAMES);

/** A copy of `t` stamped now with `tag`: a copy, since a server socket may still queue the previous one. */
function stamped(t: { msg: Buffer; at: number }, tag: number): Buffer {
  const out = Buffer.allocUnsafe(t.msg.length);
  t.msg.copy(out);
  writeStampB64(out, t.at, tag, 0n, nowNs());
  return out;
}

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
  let frames = 0;
  const id = `conv_bench_${++conversations}`;
  ws.on('message', (data: Buffer) => {
    if (!started) {
      started = true; // the first message is conversation_initiation_client_data
      ws.send(
        JSON.stringify({
          type: 'conversation_initiation_metadata',
          conversation_initiation_metadata_event: { conversation_id: id, agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'ulaw_8000' },
        }),
      );
      ws.send(stamped(GREETING, GREETING_TAG), TEXT);
      return;
    }
    const at = data.indexOf(USER_AUDIO);
    if (at < 0) return; // pong, tool results, …
    const stamp = readStampB64(data, at + USER_AUDIO.length);
    if (!stamp) return;
    inbound.record(stamp.carrierNs);
    if (++frames % CHUNK_FRAMES === 0) ws.send(stamped(CHUNK, MEDIA_TAG), TEXT);
  });
});

process.on('message', (m: string) => {
  if (m === 'stats') process.send!({ stats: { all: inbound.all.drain(), clean: inbound.clean.drain() } });
});
process.on('disconnect', () => process.exit(0));

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send!({ ready: true, port: (server.address() as AddressInfo).port });
});

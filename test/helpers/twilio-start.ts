/**
 * A hand-made Twilio media socket for negative tests: correctly signed upgrade, then `connected` and
 * `start` for a call SID with a chosen token (https://www.twilio.com/docs/voice/media-streams/websocket-messages#start-message).
 */
import twilio from 'twilio';
import WebSocket from 'ws';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from './config';

export const STREAM_URL = 'wss://calls.example.test/media-stream';
const sig = (url: string, p: Record<string, string>, token = TEST_AUTH_TOKEN) => twilio.getExpectedTwilioSignature(token, url, p);

/** Open a correctly signed media socket and send `start` for `callSid` with `token`. */
export async function openStart(base: string, callSid: string, token: string | undefined): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(base.replace('http', 'ws') + '/media-stream', { headers: { 'X-Twilio-Signature': sig(STREAM_URL, {}) } });
  ws.on('error', () => undefined);
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  const streamSid = `MZ${callSid.slice(2)}`;
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(
    JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      streamSid,
      start: {
        accountSid: TEST_ACCOUNT_SID,
        streamSid,
        callSid,
        tracks: ['inbound'],
        customParameters: token === undefined ? {} : { token },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    }),
  );
  return { ws, closed };
}

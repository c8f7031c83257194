/**
 * The Twilio carrier emulator and Calls REST mock, checked against a tiny in-test server playing
 * callbridge's part (docs/protocols/twilio.md, its #emulator section in particular) and against the real twilio SDK.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { WebSocketServer, type WebSocket } from 'ws';
import { MULAW_SILENCE, samplesToMulaw } from '../../src/audio/g711';
import { TwilioCarrierEmulator } from '../emulators/twilio-carrier';
import { startTwilioRestMock, type TwilioRestMock } from '../emulators/twilio-rest';
import { Playout } from '../emulators/twilio/playout';

const TOKEN = '0123456789abcdef0123456789abcdef';
const ACCOUNT = 'AC' + 'b'.repeat(32);
const PUBLIC = 'https://calls.example.test';
const SPEED = 8;

/** A Media Streams message as the server side receives it (https://www.twilio.com/docs/voice/media-streams/websocket-messages). */
type Json = { event?: string; sequenceNumber?: string; media?: { payload: string }; mark?: { name: string }; [field: string]: unknown };

/** A stand-in for callbridge: validates signatures like the real server and exposes the media socket. */
class FakeServer {
  server: Server;
  wss = new WebSocketServer({ noServer: true });
  base = '';
  webhooks: { path: string; params: Record<string, string>; valid: boolean }[] = [];
  upgrades: { valid: boolean }[] = [];
  sockets: { ws: WebSocket; got: Json[]; raw: string[] }[] = [];
  twimlQuery = '?ignored=1';
  refuseUpgrade = false;

  constructor() {
    this.server = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      const params = Object.fromEntries(new URLSearchParams(body));
      const path = req.url ?? '';
      const valid = twilio.validateRequest(TOKEN, String(req.headers['x-twilio-signature'] ?? ''), PUBLIC + path, params);
      this.webhooks.push({ path, params, valid });
      if (!valid) {
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('bad signature');
        return;
      }
      if (path.startsWith('/webhooks/')) {
        res.writeHead(204).end();
        return;
      }
      const vr = new twilio.twiml.VoiceResponse();
      const stream = vr.connect().stream({ url: `wss://calls.example.test/media-stream${this.twimlQuery}` });
      stream.parameter({ name: 'token', value: 'tok-1' });
      stream.parameter({ name: 'direction', value: path === '/outbound' ? 'outbound' : 'inbound' });
      vr.hangup();
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(vr.toString());
    });
    this.server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const valid = twilio.validateRequest(TOKEN, String(req.headers['x-twilio-signature'] ?? ''), 'wss://calls.example.test/media-stream', {});
      this.upgrades.push({ valid });
      if (!valid || this.refuseUpgrade) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const s = { ws, got: [] as Json[], raw: [] as string[] };
        ws.on('message', (d, bin) => {
          s.raw.push(bin ? '<binary>' : d.toString());
          try {
            s.got.push(JSON.parse(d.toString()));
          } catch {
            /* malformed on purpose */
          }
        });
        this.sockets.push(s);
      });
    });
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The server side of the newest media socket, once its `start` arrived. */
  async socket() {
    await until(() => this.sockets.length > 0 && this.sockets.at(-1)!.got.some((m) => m.event === 'start'));
    return this.sockets.at(-1)!;
  }

  async close() {
    for (const s of this.sockets) s.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const tone = (n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin(i / 5)));
const media = (streamSid: string, bytes: number, fill = 0x55) =>
  JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.alloc(bytes, fill).toString('base64') } });
const mark = (streamSid: string, name: string) => JSON.stringify({ event: 'mark', streamSid, mark: { name } });

let srv: FakeServer;
let carrier: TwilioCarrierEmulator;
const place = (over: Partial<Parameters<TwilioCarrierEmulator['placeCall']>[0]> = {}) =>
  carrier.placeCall({ serverBase: srv.base, publicUrl: PUBLIC, path: '/inbound', from: '+14155550123', to: '+14155550100', ...over });

beforeEach(async () => {
  srv = new FakeServer();
  await srv.start();
  carrier = new TwilioCarrierEmulator({ authToken: TOKEN, accountSid: ACCOUNT, speed: SPEED });
});
afterEach(async () => {
  await carrier.close();
  await srv.close();
});

describe('Twilio carrier emulator', () => {
  it('posts every voice parameter signed over the public URL and starts the stream exactly as Twilio does', async () => {
    const call = await place({ audio: tone(400) });
    const hook = srv.webhooks[0]!;
    expect(hook.valid).toBe(true);
    expect(hook.params).toMatchObject({
      CallSid: call.callSid,
      AccountSid: ACCOUNT,
      From: '+14155550123',
      To: '+14155550100',
      Caller: '+14155550123',
      Called: '+14155550100',
      CallStatus: 'ringing',
      ApiVersion: '2010-04-01',
      Direction: 'inbound',
      FromCountry: 'US',
    });
    expect(call.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.twiml.parameters).toEqual({ token: 'tok-1', direction: 'inbound' });
    expect(call.twiml.afterConnect).toEqual(['Hangup']);
    expect(call.twiml.droppedQuery).toBe('?ignored=1');
    expect(srv.upgrades).toEqual([{ valid: true }]);

    const s = await srv.socket();
    expect(s.got[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(s.got[1]).toEqual({
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: ACCOUNT,
        streamSid: call.streamSid,
        callSid: call.callSid,
        tracks: ['inbound'],
        customParameters: { token: 'tok-1', direction: 'inbound' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: call.streamSid,
    });
    await until(() => s.got.filter((m) => m.event === 'media').length >= 6);
    const frames = s.got.filter((m) => m.event === 'media');
    frames.forEach((m, i) => {
      expect(m).toEqual({
        event: 'media',
        sequenceNumber: String(i + 2),
        media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: expect.any(String) },
        streamSid: call.streamSid,
      });
      expect(Buffer.from(m.media!.payload, 'base64')).toHaveLength(160);
    });
    // 400 samples of speech = 2.5 frames; then the line carries μ-law silence.
    const clip = samplesToMulaw(tone(400));
    expect(Buffer.from(frames[0]!.media!.payload, 'base64')).toEqual(clip.subarray(0, 160));
    expect(Buffer.from(frames[2]!.media!.payload, 'base64')).toEqual(Buffer.concat([clip.subarray(320), Buffer.alloc(80, MULAW_SILENCE)]));
    expect(Buffer.from(frames[4]!.media!.payload, 'base64').every((b) => b === MULAW_SILENCE)).toBe(true);
    expect(call.callerClips[0]).toEqual({ startMs: 0, endMs: 60, bytes: 400 });
  });

  it('echoes a mark only after the audio queued before it has played', async () => {
    const call = await place();
    const s = await srv.socket();
    s.ws.send(media(call.streamSid, 800));
    s.ws.send(mark(call.streamSid, 'turn-1'));
    let playedAtEcho = -1;
    call.on('mark', () => (playedAtEcho = call.played().length));
    await until(() => s.got.some((m) => m.event === 'mark'));
    const sent = s.got.find((m) => m.event === 'mark')!;
    expect(sent).toEqual({ event: 'mark', sequenceNumber: expect.stringMatching(/^\d+$/), streamSid: call.streamSid, mark: { name: 'turn-1' } });
    expect(playedAtEcho).toBe(800);
    expect(call.marks[0]).toMatchObject({ name: 'turn-1', cleared: false });
    // The media was the first message in: its arrival is the call's first agent audio, no later than the mark's.
    expect(call.received[0]!.msg.event).toBe('media');
    expect(call.firstMediaAtMs).toBe(call.received[0]!.atMs);
    expect(call.firstMediaAtMs).toBeLessThanOrEqual(call.marks[0]!.sentAtMs);
    // Sequence numbers stay one counter across media and the echo.
    const seqs = s.got.filter((m) => m.sequenceNumber).map((m) => Number(m.sequenceNumber));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // Media keeps flowing every 20 ms, so frames sent after the echo may still be on the wire.
    expect(call.counters.sequenceNumber).toBeGreaterThanOrEqual(seqs.length);
  });

  it('echoes a mark at once when nothing is queued', async () => {
    const call = await place();
    const s = await srv.socket();
    s.ws.send(mark(call.streamSid, 'idle'));
    await until(() => s.got.some((m) => m.event === 'mark'));
    expect(call.played()).toHaveLength(0);
  });

  it('discards queued audio on clear and echoes every pending mark in order', async () => {
    const call = await place();
    const s = await srv.socket();
    s.ws.send(media(call.streamSid, 80000));
    s.ws.send(mark(call.streamSid, 'a'));
    s.ws.send(media(call.streamSid, 8000));
    s.ws.send(mark(call.streamSid, 'b'));
    s.ws.send(JSON.stringify({ event: 'clear', streamSid: call.streamSid }));
    await call.waitFor('clear');
    await until(() => s.got.filter((m) => m.event === 'mark').length === 2);
    expect(s.got.filter((m) => m.event === 'mark').map((m) => m.mark!.name)).toEqual(['a', 'b']);
    expect(call.clears[0]!.marks).toEqual(['a', 'b']);
    expect(call.clears[0]!.discardedBytes + call.played().length).toBe(88000);
    expect(call.marks.every((m) => m.cleared)).toBe(true);
    expect(call.bufferedBytes).toBe(0);
  });

  it('records 31950/31951 for malformed frames and flags file headers, keeping the call up', async () => {
    const call = await place();
    const s = await srv.socket();
    const sid = call.streamSid;
    s.ws.send(Buffer.alloc(160, 0xff), { binary: true });
    s.ws.send('not json');
    s.ws.send(JSON.stringify({ event: 'play', streamSid: sid }));
    s.ws.send(JSON.stringify({ event: 'media', stream_sid: sid, media: { payload: 'AAAA' } }));
    s.ws.send(JSON.stringify({ event: 'media', streamSid: 'MZ' + '0'.repeat(32), media: { payload: 'AAAA' } }));
    s.ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: {} }));
    s.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: {} }));
    s.ws.send(JSON.stringify({ event: 'clear', streamSid: sid, extra: 1 }));
    s.ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: 'AAA' } }));
    s.ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.from('RIFF....WAVE').toString('base64') } }));
    await until(() => call.violations.length >= 10);
    expect(call.violations.map((v) => [v.code, v.dropped])).toEqual([[31950, true], ...Array(8).fill([31951, true]), [31951, false]]);
    expect(call.violations[9]!.reason).toMatch(/RIFF/);
    expect(call.received).toHaveLength(1);
    expect(call.isClosed).toBe(false);
  });

  it('sends dtmf, then stop on hang-up and nothing after it', async () => {
    const call = await place();
    const s = await srv.socket();
    call.sendDtmf('5');
    call.sendRaw('{"raw":true}');
    const closed = await call.hangup();
    expect(closed).toMatchObject({ by: 'carrier', code: 1000 });
    await until(() => s.ws.readyState === s.ws.CLOSED);
    const dtmf = s.got.find((m) => m.event === 'dtmf')!;
    expect(dtmf).toEqual({ event: 'dtmf', streamSid: call.streamSid, sequenceNumber: expect.any(String), dtmf: { track: 'inbound_track', digit: '5' } });
    expect(s.raw).toContain('{"raw":true}');
    const last = s.got.at(-1)!;
    expect(last).toEqual({
      event: 'stop',
      sequenceNumber: String(call.counters.sequenceNumber),
      stop: { accountSid: ACCOUNT, callSid: call.callSid },
      streamSid: call.streamSid,
    });
    expect(s.got.filter((m) => m.event === 'stop')).toHaveLength(1);
  });

  it('reports a server close without sending stop', async () => {
    const call = await place();
    const s = await srv.socket();
    s.ws.close(1000, 'agent ended');
    await expect(call.closed).resolves.toEqual({ by: 'server', code: 1000, reason: 'agent ended' });
    expect(s.got.some((m) => m.event === 'stop')).toBe(false);
    expect(call.endReason).toBe('server-close');
  });

  it('records 11200 for a forged webhook signature and 31920 for a refused upgrade', async () => {
    const forged = await place({ signature: 'forged' });
    expect(srv.webhooks[0]!.valid).toBe(false);
    expect(forged.webhook.status).toBe(403);
    expect(forged.errors.map((e) => e.code)).toEqual([11200]);
    expect(forged.isClosed).toBe(true);
    srv.refuseUpgrade = true;
    const refused = await place();
    expect(refused.errors.map((e) => e.code)).toEqual([31920]);
    await expect(refused.closed).resolves.toMatchObject({ by: 'server' });
  });
});

describe('Playout model', () => {
  it('plays 8 bytes per ms times speed and passes marks in queue order', () => {
    const echoed: string[] = [];
    const p = new Playout(2, 0, { onMark: (n) => echoed.push(n) });
    p.enqueueAudio(Buffer.alloc(160), 0);
    p.enqueueMark('m', 0);
    p.advance(5);
    expect(p.played()).toHaveLength(80);
    expect(echoed).toEqual([]);
    p.advance(10);
    expect(p.played()).toHaveLength(160);
    expect(echoed).toEqual(['m']);
    p.enqueueAudio(Buffer.alloc(16), 1000); // idle time is not banked
    expect(p.played()).toHaveLength(160);
    p.advance(1001);
    expect(p.played()).toHaveLength(176);
    expect(p.played(true).length).toBeGreaterThan(176); // the 990 ms gap becomes silence
  });
});

describe('Twilio Calls REST mock with the real SDK', () => {
  let rest: TwilioRestMock;
  let client: ReturnType<typeof twilio>;
  beforeEach(async () => {
    rest = await startTwilioRestMock({ carrier, answer: { serverBase: srv.base } });
    client = twilio(ACCOUNT, TOKEN);
    client.api.baseUrl = rest.url; // Domain.baseUrl is read on every request (twilio@6.2.0; docs/protocols/twilio.md#calls-rest)
  });
  afterEach(async () => {
    await carrier.close();
    await rest.close();
  });

  it('creates an outbound call that requests the Url, then hangs it up with stop', async () => {
    const created = await client.calls.create({
      to: '+14155550100',
      from: '+15550000000',
      url: `${PUBLIC}/outbound`,
      statusCallback: `${PUBLIC}/webhooks/twilio/status`,
      statusCallbackEvent: ['answered', 'completed'],
    });
    expect(created.status).toBe('queued');
    expect(created.direction).toBe('outbound-api');
    expect(rest.requests[0]).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`,
      auth: { username: ACCOUNT, password: TOKEN },
      status: 201,
    });
    expect(rest.requests[0]!.form.StatusCallbackEvent).toEqual(['answered', 'completed']);
    const call = await carrier.waitForCall((c) => c.callSid === created.sid);
    const s = await srv.socket();
    expect(srv.webhooks.find((w) => w.path === '/outbound')!.params).toMatchObject({
      CallSid: created.sid,
      Direction: 'outbound-api',
      CallStatus: 'in-progress',
    });
    expect((await client.calls(created.sid).fetch()).status).toBe('in-progress');

    const updated = await client.calls(created.sid).update({ status: 'completed' });
    expect(updated.status).toBe('completed');
    await expect(call.closed).resolves.toMatchObject({ by: 'carrier' });
    expect(s.got.at(-1)).toMatchObject({ event: 'stop', stop: { callSid: created.sid } });
    expect(carrier.lastRestAction).toMatchObject({ kind: 'hangup', callSid: created.sid });
    await carrier.close();
    const status = srv.webhooks.filter((w) => w.path === '/webhooks/twilio/status');
    expect(status.map((w) => [w.valid, w.params.CallStatus, w.params.SequenceNumber])).toEqual([
      [true, 'in-progress', '0'],
      [true, 'completed', '1'],
    ]);
    await expect(client.calls(created.sid).update({ status: 'completed' })).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it('transfers a live inbound call with Twiml, recording the Dial target', async () => {
    const call = await place();
    const s = await srv.socket();
    await client.calls(call.callSid).update({ twiml: '<Response><Dial>+15551234567</Dial></Response>' });
    await call.closed;
    expect(rest.transfers).toEqual([{ callSid: call.callSid, to: '+15551234567', url: undefined, twiml: expect.stringContaining('<Dial>') }]);
    expect(call.transfer?.to).toBe('+15551234567');
    expect(call.endReason).toBe('transfer');
    expect(s.got.at(-1)!.event).toBe('stop');
  });

  it('answers 404 code 20404 for an unknown call SID, 401 20003 for bad credentials, 400 21201 without To', async () => {
    const unknown = 'CA' + 'f'.repeat(32);
    const err = await client
      .calls(unknown)
      .update({ status: 'completed' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({ status: 404, code: 20404, moreInfo: 'https://www.twilio.com/docs/errors/20404' });
    const bad = twilio(ACCOUNT, 'wrong');
    bad.api.baseUrl = rest.url;
    await expect(bad.calls(unknown).fetch()).rejects.toMatchObject({ status: 401, code: 20003 });
    const res = await fetch(`${rest.url}/2010-04-01/Accounts/${ACCOUNT}/Calls.json`, {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'From=%2B15550000000&Url=https%3A%2F%2Fx',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 21201, status: 400 });
  });
});

/**
 * A new carrier or provider is one module and one registry line: a test-only carrier (loopback, its
 * own JSON wire and webhook) and a test-only provider (echo) are added to the registries this server is
 * built with, and a call flows through them — admitted by the webhook, routed by `?provider=`, bridged
 * over the media socket, transcribed, stored and counted — with no other change anywhere.
 */
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import WebSocket from 'ws';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import { CARRIERS } from '../../src/carriers';
import { silentLogger } from '../../src/observability/logger';
import { PROVIDERS } from '../../src/providers';
import { ECHO_GREETING, ECHO_TURN_BYTES, echoProvider, greetingTone } from '../fakes/echo-provider';
import { loopbackCarrier } from '../fakes/loopback-carrier';
import { TEST_ADMIN_KEY, testConfig } from '../helpers/config';
import { until } from '../helpers/server-waits';

/** 20 ms of PCM16 16 kHz whose samples count up from `seed`, so the echo is recognisable. */
function callerChunk(seed: number): Buffer {
  const b = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) b.writeInt16LE(((seed * 320 + i) % 20000) - 10000, i * 2);
  return b;
}

describe('registries: a fake carrier and a fake provider', () => {
  let srv: CallbridgeServer;
  let base: string;

  beforeAll(async () => {
    // The real providers point at a closed loopback port: only the echo provider is ever reached.
    const cfg = testConfig({ ELEVENLABS_API_BASE: 'http://127.0.0.1:9', OPENAI_REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime' });
    srv = buildServer(cfg, silentLogger, { carriers: [...CARRIERS, loopbackCarrier], providers: [...PROVIDERS, echoProvider] });
    await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
    base = `127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await srv.close();
  });

  it('takes a call through the loopback carrier to the echo provider: audio both ways, transcript, record and metrics', async () => {
    const admitted = await request(srv.app)
      .post('/inbound?carrier=loopback')
      .send({ call: 'LB-1', from: '+14155550123', to: '+15550000000', provider: 'echo' })
      .expect(200);
    expect(admitted.body).toEqual({ token: expect.stringMatching(/^v1\.[\w-]+\.[\w-]{43}$/), provider: 'echo' });

    const ws = new WebSocket(`ws://${base}/media-stream?carrier=loopback`);
    const played: Buffer[] = [];
    const markers: string[] = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { kind: string; pcm?: string; name?: string };
      if (msg.kind === 'play') played.push(Buffer.from(msg.pcm!, 'base64'));
      if (msg.kind === 'marker') {
        markers.push(msg.name!);
        ws.send(JSON.stringify({ kind: 'heard', name: msg.name }));
      }
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ kind: 'hello', call: 'LB-1', token: admitted.body.token, from: '+14155550123' }));

    const greeting = greetingTone();
    await until('the greeting played to the caller', () => Buffer.concat(played).length >= greeting.length);
    expect(Buffer.concat(played).subarray(0, greeting.length).equals(greeting)).toBe(true);
    expect(markers).toHaveLength(1); // one marker after the greeting, sent by the provider as one chunk

    const sent = Array.from({ length: 25 }, (_, i) => callerChunk(i + 1));
    for (const chunk of sent) ws.send(JSON.stringify({ kind: 'voice', pcm: chunk.toString('base64') }));
    const echoed = Buffer.concat(sent);
    await until('the caller audio echoed back', () => Buffer.concat(played).length >= greeting.length + echoed.length);
    expect(
      Buffer.concat(played)
        .subarray(greeting.length, greeting.length + echoed.length)
        .equals(echoed),
    ).toBe(true);

    const active = await request(srv.app).get('/api/calls/active').set('Authorization', `Bearer ${TEST_ADMIN_KEY}`).expect(200);
    expect(active.body.calls).toEqual([expect.objectContaining({ callSid: 'LB-1', carrier: 'loopback', provider: 'echo', status: 'in-progress' })]);

    ws.send(JSON.stringify({ kind: 'bye' }));
    await until('the call to end', () => srv.registry.size === 0);
    const call = await request(srv.app).get('/api/calls/LB-1').set('Authorization', `Bearer ${TEST_ADMIN_KEY}`).expect(200);
    expect(call.body).toMatchObject({
      callSid: 'LB-1',
      carrier: 'loopback',
      provider: 'echo',
      flagSource: 'request',
      status: 'completed',
      from: '+14155550123',
    });
    expect(call.body.conversationId).toBe('echo-conversation');
    expect(call.body.turns.map((t: { role: string; text: string }) => [t.role, t.text])).toEqual([
      ['agent', ECHO_GREETING],
      ['user', `caller spoke ${ECHO_TURN_BYTES} bytes`],
      ['agent', 'I heard you.'],
    ]);
    const metrics = await request(srv.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/callbridge_calls_total\{carrier="loopback",provider="echo",outcome="completed"\} 1/);
    ws.close();
  }, 60_000);

  it('refuses a provider name that is in no registry and routes by the flag instead', async () => {
    const res = await request(srv.app).post('/inbound?carrier=loopback').send({ call: 'LB-2', provider: 'nonesuch' }).expect(200);
    expect(res.body.provider).toBe('elevenlabs');
  });

  it('accepts the new names in the admin API and rejects names in no registry', async () => {
    const auth = { Authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const bad = await request(srv.app).post('/api/calls').set(auth).send({ to: '+14155550123', carrier: 'pigeon', provider: 'nonesuch' }).expect(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['carrier', 'provider']);
    const placed = await request(srv.app).post('/api/calls').set(auth).send({ to: '+14155550123', carrier: 'loopback', provider: 'echo' });
    expect(placed.status).toBe(502);
    expect(placed.body.message).toBe('the loopback carrier cannot do that');
  });
});

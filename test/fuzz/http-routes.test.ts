/**
 * Property tests of the HTTP routes that parse outside input, in-process with supertest against one
 * `buildServer` (idle provider connectors, provider URLs on a closed loopback port, call control
 * replaced by one that answers at once, so nothing leaves the machine): every request answers a
 * documented status and never a 5xx (Exotel's documented 503 refusal of a call when the lines are
 * busy excepted, with its `{error}` reason).
 * - Twilio `POST /inbound`, `/outbound`, `/webhooks/twilio/status`: form bodies (mutations of a real
 *   webhook, random fields, `__proto__` keys, unicode, huge values), signed with the auth token so the
 *   parser is reached, plus unsigned and mis-encoded ones.
 * - Exotel `/inbound?carrier=exotel`, `/outbound?carrier=exotel`, `/webhooks/exotel/connect`, `/webhooks/exotel/status`:
 *   the same as query, form and JSON (deep JSON, invalid JSON, bracketed qs keys).
 * - `POST /webhooks/elevenlabs/post-call`: bodies HMAC-signed as ElevenLabs signs them (mutations of
 *   a real event, deep JSON, bytes that are not JSON).
 * - `POST /api/calls` and `/api/calls/:sid/transfer` with the admin key: JSON bodies of any shape.
 * Run counts are smaller than the pure parsers' 10,000 (each request is a real HTTP round trip) and
 * are stated in the test names. A failure prints fast-check's seed and path.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fc, test } from '@fast-check/jest';
import request from 'supertest';
import twilio from 'twilio';
import { buildServer, type CallbridgeServer } from '../../src/app/build-server';
import type { CallControl } from '../../src/carriers/types';
import { silentLogger } from '../../src/observability/logger';
import { idleConnectors } from '../helpers/idle-connectors';
import { TEST_ADMIN_KEY, TEST_AUTH_TOKEN, testConfig } from '../helpers/config';
import { deepJson, deepText, hostileString, hostileValue, mutated, PROTO_KEYS, withProtoKey } from './arbitraries';

const RUNS = 10_000;
/** Per property (ms): 10,000 round trips take 25-50 s on an idle 2-core machine, several times that while other suites run. */
const TIMEOUT = 600_000;
const PUBLIC = 'https://calls.example.test';
const EL_SECRET = 'wsec_fuzz_0123456789abcdef';
const EXOTEL_TOKEN = 'exotel-fuzz-token-0123456789';
/** Nothing listens on the discard port: a provider or carrier request that escaped would fail, not leave the machine. */
const CLOSED = 'http://127.0.0.1:9';

const control: CallControl = {
  hangup: async () => true,
  transfer: async () => undefined,
  sayAndHangup: async () => undefined,
  placeCall: async () => ({ callSid: 'CA' + 'f'.repeat(32) }),
};

let srv: CallbridgeServer;
let agent: ReturnType<typeof request>;

beforeAll(async () => {
  const connectors = idleConnectors();
  const cfg = testConfig({
    PUBLIC_URL: PUBLIC,
    ELEVENLABS_API_BASE: CLOSED,
    OPENAI_REALTIME_URL: 'ws://127.0.0.1:9',
    TWILIO_API_BASE: CLOSED,
    EXOTEL_API_BASE: CLOSED,
    ELEVENLABS_WEBHOOK_SECRET: EL_SECRET,
    EXOTEL_WEBHOOK_TOKEN: EXOTEL_TOKEN,
    MAX_CONCURRENT_CALLS: '20',
  });
  srv = buildServer(cfg, silentLogger, { connectors, controls: { twilio: control, exotel: control } });
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  agent = request(`http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`);
}, 60_000);

afterAll(async () => {
  await srv.close();
}, 60_000);

/** Object.fromEntries defines `__proto__` as an own key, as a body parser does. */
const dict = (entries: [string, string][]) => Object.fromEntries(entries) as Record<string, string>;
const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...PROTO_KEYS, 'CallSid', 'CallStatus', 'From', 'To', 'SequenceNumber', 'CallDuration'));
/** A form field value: hostile strings without the multi-10-KB ones (Twilio's parser caps bodies at 64 KB). */
const formValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  hostileString.filter((s) => s.length < 2000),
);

const TWILIO_FORM = {
  CallSid: 'CA' + '1'.repeat(32),
  AccountSid: 'AC' + 'a'.repeat(32),
  From: '+14155550123',
  To: '+15550000000',
  CallStatus: 'ringing',
  Direction: 'inbound',
  ApiVersion: '2010-04-01',
  SequenceNumber: '0',
  CallDuration: '12',
};

/** A form body as string fields: mutations of the real webhook, or fields of any name and value. */
const twilioForm: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc
    .tuple(
      fc.constant(TWILIO_FORM),
      fc.array(
        fc.oneof(
          fc.tuple(key, formValue).map((kv) => ({ set: kv })),
          key.map((k) => ({ del: k })),
        ),
        { maxLength: 4 },
      ),
    )
    .map(([base, ops]) => {
      const out = Object.entries(base);
      for (const op of ops) {
        if ('del' in op) out.splice(out.findIndex(([k]) => k === op.del) >>> 0, 1);
        else out.push(op.set);
      }
      return dict(out);
    }),
  fc.array(fc.tuple(key, formValue), { maxLength: 8 }).map(dict),
);

/** `?name=value` pairs for a path, percent-encoded exactly once (the signature covers this exact text). */
const query = fc.array(fc.tuple(fc.constantFrom('provider', 'rid', 'carrier', 'x', '__proto__'), fc.string({ maxLength: 10 })), { maxLength: 2 });
const withQuery = (path: string, q: [string, string][]) =>
  q.length ? `${path}?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : path;

/** Statuses seen per route (path without query): the last test checks the properties reached past the refusals. */
const seen = new Map<string, Set<number>>();
/** 400s answered per counted source of `callbridge_bad_messages_total`. */
const refused = { post_call: 0, admin_api: 0, twilio_webhook: 0, exotel_webhook: 0, http: 0 };
function note(route: string, status: number): void {
  const path = route.split('?')[0]!;
  seen.set(path, (seen.get(path) ?? new Set()).add(status));
}

/** A documented answer of a route, or throw with what came back. */
function expectDocumented(route: string, res: request.Response, allowed: number[]): void {
  note(route, res.status);
  if (!allowed.includes(res.status)) throw new Error(`${route} answered ${res.status} (allowed ${allowed.join(', ')}): ${res.text.slice(0, 300)}`);
}

/** Exotel's refusal of a call (busy, draining…) is a documented 503 with a reason; any other 5xx is a crash. */
function expectExotelAnswer(route: string, res: request.Response): void {
  if (res.status === 503 && typeof (res.body as { error?: unknown }).error === 'string') return note(route, 503);
  expectDocumented(route, res, [200, 400, 401, 403, 404, 413, 415]);
}

describe('fuzz: HTTP routes', () => {
  test.prop([fc.constantFrom('/inbound', '/outbound', '/webhooks/twilio/status'), query, twilioForm, fc.constantFrom('signed', 'forged', 'unsigned', 'json')], {
    numRuns: RUNS,
  })(
    `Twilio voice and status webhooks: ${RUNS} form bodies, signed (most), forged, unsigned or JSON-typed → 200/204 TwiML, 400 or 403`,
    async (path, q, form, how) => {
      const url = withQuery(path, q);
      const body = new URLSearchParams(Object.entries(form)).toString();
      // Twilio signs the params the server parses back from the body; names are unique here, so that is exactly these.
      const params = Object.fromEntries(new URLSearchParams(body)) as Record<string, string>;
      let req = agent.post(url);
      if (how === 'json') req = req.type('json').send(JSON.stringify(form));
      else req = req.type('form').send(body);
      if (how === 'signed' || how === 'json') req = req.set('X-Twilio-Signature', twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, PUBLIC + url, params));
      if (how === 'forged') req = req.set('X-Twilio-Signature', twilio.getExpectedTwilioSignature('f'.repeat(32), PUBLIC + url, params));
      const res = await req;
      // `?carrier=<not twilio>` leaves /inbound and /outbound to the other carrier's routes (Exotel's token check: 401/403) or to the 404.
      const twilios = path.includes('status') || q.every(([k, v]) => k !== 'carrier' || v === 'twilio');
      expectDocumented(url, res, path.includes('status') ? [204, 400, 403] : twilios ? [200, 400, 403] : [401, 403, 404]);
      if (res.status === 400 || res.status === 413) refused.twilio_webhook++;
      if (twilios && (how === 'forged' || how === 'unsigned')) expect(res.status).toBe(403);
    },
    TIMEOUT,
  );

  const exotelParams = fc.dictionary(
    fc.oneof(key, fc.constantFrom('CallFrom', 'CallTo', 'EventType', 'Status', 'ConversationDuration', 'CustomField', 'call_sid', 'a[b][c]', 'a[]')),
    fc.oneof(formValue, fc.constantFrom('answered', 'completed', 'busy', 'terminal', '09876543210')),
    { maxKeys: 6 },
  );
  test.prop(
    [
      fc.constantFrom('/inbound', '/outbound', '/webhooks/exotel/connect', '/webhooks/exotel/status'),
      exotelParams,
      fc.constantFrom('query', 'form', 'json', 'json-text', 'deep-json', 'proto-json'),
      fc.constantFrom('token', 'token', 'token', 'wrong-token', 'no-token'),
      fc.oneof(hostileValue, deepText),
    ],
    { numRuns: RUNS },
  )(
    `Exotel dynamic URL, connect and status: ${RUNS} requests as query, form or JSON → 200, 400, 401, 403 or the documented 503 refusal`,
    async (path, params, how, auth, extra) => {
      const q = new URLSearchParams();
      if (path === '/inbound' || path === '/outbound') q.set('carrier', 'exotel');
      if (auth !== 'no-token') q.set('token', auth === 'token' ? EXOTEL_TOKEN : 'x' + EXOTEL_TOKEN);
      if (how === 'query') for (const [k, v] of Object.entries(params)) q.append(k, v);
      const url = `${path}?${q.toString()}`;
      const method = path === '/webhooks/exotel/connect' || (how === 'query' && path !== '/webhooks/exotel/status') ? 'get' : 'post';
      let req = agent[method](url);
      if (method === 'post') {
        if (how === 'form' || how === 'query') req = req.type('form').send(new URLSearchParams(Object.entries(params)).toString());
        else if (how === 'json') req = req.type('json').send(JSON.stringify({ ...params, extra }));
        else if (how === 'json-text') req = req.type('json').send(typeof extra === 'string' ? extra : JSON.stringify(extra));
        else if (how === 'deep-json') req = req.type('json').send(`{"CallSid":"c1","Status":"completed","x":${deepJson(12_000, 'array')}}`);
        else req = req.type('json').send(withProtoKey(params, extra));
      }
      const res = await req;
      expectExotelAnswer(url, res);
      if (res.status === 400 || res.status === 413) refused.exotel_webhook++;
    },
    TIMEOUT,
  );

  const POST_CALL = {
    type: 'post_call_transcription',
    event_timestamp: 1767603600,
    data: {
      agent_id: 'agent_test',
      conversation_id: 'conv_fuzz',
      status: 'done',
      transcript: [{ role: 'agent', message: 'Hello', time_in_call_secs: 0 }],
      metadata: { call_duration_secs: 12 },
      conversation_initiation_client_data: { dynamic_variables: { call_sid: 'CA' + '2'.repeat(32) } },
    },
  };
  const postCallBody: fc.Arbitrary<string | Buffer> = fc.oneof(
    { weight: 5, arbitrary: mutated([POST_CALL]).map((m) => JSON.stringify(m)) },
    { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.tuple(fc.constant(POST_CALL), hostileValue).map(([m, v]) => withProtoKey(m, v)) },
    { weight: 1, arbitrary: deepText.map((d) => JSON.stringify({ ...POST_CALL, data: { ...POST_CALL.data, deep: 0 } }).replace('"deep":0', `"deep":${d}`)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)) },
    { weight: 1, arbitrary: hostileString },
  );
  test.prop([postCallBody, fc.constantFrom('signed', 'signed', 'signed', 'stale', 'forged', 'none')], { numRuns: RUNS })(
    `ElevenLabs post-call webhook: ${RUNS} HMAC-signed (most), stale, forged or unsigned bodies → 200, 400 or 401`,
    async (body, how) => {
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const t = Math.floor(Date.now() / 1000) - (how === 'stale' ? 3600 : 0);
      const mac = createHmac('sha256', how === 'forged' ? 'not-the-secret' : EL_SECRET)
        .update(`${t}.`)
        .update(raw)
        .digest('hex');
      // superagent JSON-serialises a Buffer sent as application/json: bytes go as octet-stream (the route reads any type raw).
      let req = agent.post('/webhooks/elevenlabs/post-call').set('Content-Type', Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json');
      if (how !== 'none') req = req.set('ElevenLabs-Signature', `t=${t},v0=${mac}`);
      const res = await req.send(body);
      expectDocumented('post-call', res, how === 'signed' ? [200, 400] : [401]);
      if (res.status === 400 || res.status === 413) refused.post_call++;
    },
    TIMEOUT,
  );

  const PLACE = { to: '+14155550123', carrier: 'twilio', provider: 'openai', prompt: 'You book haircuts.', firstMessage: 'Hello!' };
  const adminBody: fc.Arbitrary<string> = fc.oneof(
    {
      weight: 5,
      arbitrary: mutated([PLACE, { to: '+919876543210', carrier: 'exotel' }, { to: '+14155550123', reason: 'caller asked' }]).map((m) => JSON.stringify(m)),
    },
    { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.tuple(fc.constant(PLACE), hostileValue).map(([m, v]) => withProtoKey(m, v)) },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: hostileString },
  );
  test.prop([fc.constantFrom('/api/calls', '/api/calls/CA404/transfer', `/api/calls/${encodeURIComponent('../%00é')}/transfer`), adminBody], { numRuns: RUNS })(
    `admin API POST /api/calls and /transfer: ${RUNS} JSON bodies of any shape → 201, 400, 404 or 413`,
    async (path, body) => {
      const res = await agent.post(path).set('Authorization', `Bearer ${TEST_ADMIN_KEY}`).type('json').send(body);
      expectDocumented(path, res, path === '/api/calls' ? [201, 400, 413] : [400, 404, 413]);
      // Bodies that are not JSON are refused (and counted) by the error handler, the rest by the route.
      if (res.status === 400 || res.status === 413) refused.admin_api++;
    },
    TIMEOUT,
  );

  it('counted every body the routes refused, once, in callbridge_bad_messages_total', async () => {
    const counted = { post_call: 0, admin_api: 0, twilio_webhook: 0, exotel_webhook: 0, http: 0 };
    for (const v of (await srv.metrics.badMessagesTotal.get()).values) counted[v.labels.source as keyof typeof counted] += v.value;
    expect(refused.post_call).toBeGreaterThan(0);
    expect(refused.admin_api).toBeGreaterThan(0);
    expect(refused.twilio_webhook).toBeGreaterThan(0);
    expect(refused.exotel_webhook).toBeGreaterThan(0);
    expect(counted).toEqual(refused);
  });

  it('reached each parser: every route answered both its success and its refusals', () => {
    const got = (path: string) => [...(seen.get(path) ?? [])].sort();
    expect(got('/inbound')).toEqual(expect.arrayContaining([200, 400, 401, 403]));
    expect(got('/outbound')).toEqual(expect.arrayContaining([200, 400, 401, 403]));
    expect(got('/webhooks/twilio/status')).toEqual([204, 400, 403]);
    expect(got('/webhooks/exotel/connect')).toEqual([200, 401, 403]);
    expect(got('/webhooks/exotel/status')).toEqual(expect.arrayContaining([200, 400, 401, 403]));
    expect(got('post-call')).toEqual([200, 400, 401]);
    expect(got('/api/calls')).toEqual([201, 400]);
    expect(got('/api/calls/CA404/transfer')).toEqual([400, 404]);
  });
});

/**
 * A mock of Twilio's Calls REST API on loopback, linked to a `TwilioCarrierEmulator` by call SID
 * (docs/protocols/twilio.md#calls-rest; https://www.twilio.com/docs/voice/api/call-resource):
 *
 * | request | answer |
 * |---|---|
 * | bad or missing Basic auth | 401 `{code: 20003}` |
 * | `POST /2010-04-01/Accounts/{AC}/Calls.json` | 201 + call resource (`status: queued`); then, optionally, the carrier "answers" ¹ |
 * | same without `To` / `From` / `Url`+`Twiml`+`ApplicationSid` | 400 code 21201 / 21603 / 21205 |
 * | `POST …/Calls/{sid}.json` `Status=completed` | 200; the live call's stream gets `stop` + close |
 * | `POST …/Calls/{sid}.json` `Twiml=` or `Url=` | 200; `stop` + close; the `<Dial>` target is recorded as a transfer |
 * | `GET …/Calls/{sid}.json` | 200 + resource (also for ended calls: Twilio keeps call records) |
 * | unknown SID, or an update of an ended call | 404 `{code: 20404, message, more_info, status: 404}` |
 *
 * ¹ by requesting `Url` with `Direction=outbound-api`, `CallStatus=in-progress`.
 *
 * Point the real SDK at it with `client.api.baseUrl = mock.url` (twilio@6.2.0
 * lib/base/Domain.js reads `baseUrl` on every request).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatedCall, StatusEvent, TwilioCarrierEmulator } from './twilio-carrier';
import { newSid } from './twilio/ids';
import { dialTarget } from './twilio/twiml';

/** One request the mock received. `form` values are arrays only for repeated fields (e.g. `StatusCallbackEvent`). */
export interface RestRequest {
  method: string;
  path: string;
  form: Record<string, string | string[]>;
  /** Decoded Basic credentials, if any. */
  auth?: { username: string; password: string };
  status: number;
}

/** A transfer done by REST update: the `<Dial>` target of `Twiml`, or the new `Url`. */
export interface RestTransfer {
  callSid: string;
  to?: string;
  url?: string;
  twiml?: string;
}

export interface TwilioRestMockOptions {
  carrier: TwilioCarrierEmulator;
  /** Default: the carrier's account SID and auth token. */
  accountSid?: string;
  authToken?: string;
  /**
   * When set, a created call with a `Url` is answered by the carrier: it POSTs the `Url` (mapped onto
   * `serverBase`) and streams `audio` (8 kHz PCM16). `delayMs` = ring time before answering (default 0).
   */
  answer?: { serverBase: string; audio?: Int16Array; delayMs?: number };
}

interface CreatedCall {
  sid: string;
  to: string;
  from: string;
  created: Date;
  canceled?: boolean;
}

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
const formatted = (n: string) => (/^\+1\d{10}$/.test(n) ? `(${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}` : n);

/** The Calls REST mock. `start()` listens on 127.0.0.1, port 0; `url` is then `http://127.0.0.1:PORT`. */
export class TwilioRestMock {
  readonly requests: RestRequest[] = [];
  readonly transfers: RestTransfer[] = [];
  url = '';
  private readonly accountSid: string;
  private readonly authToken: string;
  private readonly carrier: TwilioCarrierEmulator;
  private readonly created = new Map<string, CreatedCall>();
  private readonly pending = new Set<Promise<unknown>>();
  private server?: Server;

  constructor(private readonly opts: TwilioRestMockOptions) {
    this.carrier = opts.carrier;
    this.accountSid = opts.accountSid ?? opts.carrier.accountSid;
    this.authToken = opts.authToken ?? opts.carrier.authToken;
  }

  /** Listen on 127.0.0.1:0. @returns the base URL to give the SDK (`client.api.baseUrl`) or `TWILIO_API_BASE`. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Wait for outbound calls being answered, then close the server (dropping keep-alive sockets). */
  async close(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const form: Record<string, string | string[]> = {};
    for (const k of new Set(body.keys())) {
      const all = body.getAll(k);
      form[k] = all.length > 1 ? all : all[0]!;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const auth = parseBasic(req.headers.authorization);
    const record: RestRequest = { method: req.method ?? '', path, form, auth, status: 0 };
    this.requests.push(record);
    const send = (status: number, json: unknown) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const error = (status: number, code: number, message: string) =>
      send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

    if (!auth || auth.username !== this.accountSid || auth.password !== this.authToken) return error(401, 20003, 'Authenticate');
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/.exec(path);
    const notFound = () => error(404, 20404, `The requested resource ${path} was not found`);
    if (!m || m[1] !== this.accountSid) return notFound();
    const sid = m[2];
    const str = (k: string) => (Array.isArray(form[k]) ? (form[k] as string[])[0] : (form[k] as string | undefined));

    if (!sid) {
      if (req.method !== 'POST') return error(405, 20004, 'Method not allowed');
      const to = str('To');
      const from = str('From');
      if (!to) return error(400, 21201, "No 'To' number is specified");
      if (!from) return error(400, 21603, "A 'From' phone number is required");
      if (!str('Url') && !str('Twiml') && !str('ApplicationSid')) return error(400, 21205, 'Url, Twiml or ApplicationSid is required');
      const call: CreatedCall = { sid: newSid('CA'), to, from, created: new Date() };
      this.created.set(call.sid, call);
      send(201, this.resource(call.sid)!);
      if (this.opts.answer && str('Url')) this.answer(call, str('Url')!, form);
      return;
    }

    const resource = this.resource(sid);
    if (!resource) return notFound();
    if (req.method === 'GET') return send(200, resource);
    if (req.method !== 'POST') return error(405, 20004, 'Method not allowed');
    const live = this.carrier.liveCalls.has(sid);
    const created = this.created.get(sid);
    const status = str('Status');
    const twiml = str('Twiml');
    const newUrl = str('Url');
    // A call not yet answered is simply cancelled by `completed` or `canceled` (no stream to stop).
    if ((status === 'canceled' || status === 'completed') && created && resource.status === 'queued') {
      created.canceled = true;
      return send(200, this.resource(sid));
    }
    if (!live) return notFound(); // hang-up (or redirect) of an ended call answers 404 20404 (https://www.twilio.com/docs/api/errors/20404)
    if (status === 'completed') this.carrier.applyRestAction({ kind: 'hangup', callSid: sid });
    else if (twiml || newUrl) {
      const t: RestTransfer = { callSid: sid, to: twiml ? dialTarget(twiml) : undefined, url: newUrl, twiml };
      this.transfers.push(t);
      this.carrier.applyRestAction({ kind: 'transfer', ...t });
    }
    const out = this.resource(sid)!;
    if (status === 'completed') out.status = 'completed';
    send(200, out);
  }

  /** The carrier answers a created call: POST its `Url` with Direction outbound-api (docs/protocols/twilio.md#voice-webhook). */
  private answer(call: CreatedCall, url: string, form: Record<string, string | string[]>): void {
    const a = this.opts.answer!;
    const u = new URL(url);
    const cbUrl = typeof form.StatusCallback === 'string' ? form.StatusCallback : undefined;
    const ev = form.StatusCallbackEvent;
    const events = (ev === undefined ? undefined : Array.isArray(ev) ? ev : [ev]) as StatusEvent[] | undefined;
    const p = new Promise((r) => setTimeout(r, a.delayMs ?? 0)).then(() =>
      call.canceled
        ? undefined
        : this.carrier.placeCall({
            serverBase: a.serverBase,
            publicUrl: u.origin,
            path: u.pathname + u.search,
            from: call.from,
            to: call.to,
            direction: 'outbound-api',
            callSid: call.sid,
            audio: a.audio,
            statusCallback: cbUrl ? { url: cbUrl, events } : undefined,
          }),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** The call resource (snake_case; https://www.twilio.com/docs/voice/api/call-resource) for a created or carrier-placed call, or undefined when unknown. */
  private resource(sid: string): Record<string, unknown> | undefined {
    const created = this.created.get(sid);
    const placed: EmulatedCall | undefined = this.carrier.findCall(sid);
    if (!created && !placed) return undefined;
    const to = created?.to ?? placed!.to;
    const from = created?.from ?? placed!.from;
    const date = rfc2822(created?.created ?? new Date());
    let status = 'queued';
    if (created?.canceled) status = 'canceled';
    else if (placed) status = !placed.isClosed ? 'in-progress' : placed.endReason === 'failed' ? 'failed' : 'completed';
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json`;
    return {
      sid,
      account_sid: this.accountSid,
      parent_call_sid: null,
      to,
      to_formatted: formatted(to),
      from,
      from_formatted: formatted(from),
      phone_number_sid: null,
      status,
      direction: created ? 'outbound-api' : placed!.direction,
      api_version: '2010-04-01',
      date_created: date,
      date_updated: rfc2822(new Date()),
      start_time: placed ? date : null,
      end_time: placed?.isClosed ? rfc2822(new Date()) : null,
      duration: null,
      price: null,
      price_unit: 'USD',
      answered_by: null,
      forwarded_from: null,
      caller_name: null,
      group_sid: null,
      queue_time: '0',
      trunk_sid: null,
      uri,
      subresource_uris: { recordings: uri.replace('.json', '/Recordings.json') },
    };
  }
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** Create and start a REST mock in one step. */
export async function startTwilioRestMock(opts: TwilioRestMockOptions): Promise<TwilioRestMock> {
  const mock = new TwilioRestMock(opts);
  await mock.start();
  return mock;
}

/**
 * A mock of Exotel's v1 Connect API on loopback, linked to an `ExotelCarrierEmulator`
 * (docs/protocols/exotel.md#connect-api; https://developer.exotel.com/docs/voice-v1/api-reference/outgoing-call-to-flow):
 *
 * | request | answer |
 * |---|---|
 * | bad or missing Basic auth (API key : token) | 401 `RestException` |
 * | `POST /v1/Accounts/{sid}/Calls/connect.json`, form, `From` + `CallerId` + flow `Url` | 200 `{"Call":{…}}`; then Exotel dials `From` and runs the flow ¹ |
 * | same without `.json` | 200 `<TwilioResponse>` XML |
 * | missing `From`/`CallerId`, or a `Url` that is not `http://my.exotel.com/{sid}/exoml/start_voice/{id}` | 400 `RestException` |
 * | `GET /v1/Accounts/{sid}/Calls/{CallSid}.json` | 200 call details, 404 when unknown |
 *
 * ¹ on answer, the flow requests the Voicebot applet's dynamic URL (`flowPath`) with `CustomField`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exotelId, type ExotelCarrierEmulator, type ExotelCallRecord } from './exotel-carrier';

export interface ExotelRestMockOptions {
  carrier: ExotelCarrierEmulator;
  accountSid: string;
  apiKey: string;
  apiToken: string;
  /** Where the flow's applets are reached and how: the server's loopback base and PUBLIC_URL. */
  answer?: { serverBase: string; publicUrl: string; flowPath?: string; audio?: Int16Array; delayMs?: number };
}

export interface ExotelRestRequest {
  method: string;
  path: string;
  form: Record<string, string | string[]>;
  status: number;
}

interface Placed {
  sid: string;
  from: string;
  callerId: string;
  created: string;
  record?: ExotelCallRecord;
}

export class ExotelRestMock {
  readonly requests: ExotelRestRequest[] = [];
  private server?: Server;
  private readonly placed = new Map<string, Placed>();
  private readonly pending = new Set<Promise<unknown>>();
  url = '';

  constructor(private readonly opts: ExotelRestMockOptions) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Answer placed calls by running the flow against this server (set once the server listens). */
  answerWith(answer: NonNullable<ExotelRestMockOptions['answer']>): void {
    this.opts.answer = answer;
  }

  /** The carrier record of a call this API placed (once answered). */
  recordOf(callSid: string): ExotelCallRecord | undefined {
    return this.placed.get(callSid)?.record;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0]!;
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
      const cur = form[k];
      form[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
    }
    const record: ExotelRestRequest = { method: req.method ?? '', path, form, status: 0 };
    this.requests.push(record);
    const send = (status: number, body: unknown, xml = false) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': xml ? 'application/xml' : 'application/json' });
      res.end(xml ? String(body) : JSON.stringify(body));
    };
    const fail = (status: number, message: string) => send(status, { RestException: { Status: status, Message: message, Code: status } });
    const expected = `Basic ${Buffer.from(`${this.opts.apiKey}:${this.opts.apiToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return fail(401, 'Authentication required');
    const sid = this.opts.accountSid;
    const details = new RegExp(`^/v1/Accounts/${sid}/Calls/([0-9a-f]{32})\\.json$`).exec(path);
    if (details && req.method === 'GET') {
      const p = this.placed.get(details[1]!);
      return p ? send(200, { Call: this.callJson(p) }) : fail(404, 'Call not found');
    }
    const m = new RegExp(`^/v1/Accounts/${sid}/Calls/connect(\\.json)?$`).exec(path);
    if (!m || req.method !== 'POST') return fail(404, 'Not found');
    const str = (k: string) => (Array.isArray(form[k]) ? (form[k] as string[])[0] : (form[k] as string | undefined));
    const from = str('From');
    const callerId = str('CallerId');
    const url = str('Url');
    if (!from || !callerId) return fail(400, 'From and CallerId are required');
    if (!url || !new RegExp(`^https?://my\\.exotel\\.com/${sid}/exoml/start_voice/[\\w-]+$`).test(url))
      return fail(400, 'Url must be http://my.exotel.com/{sid}/exoml/start_voice/{app_id}');
    const p: Placed = { sid: exotelId(), from, callerId, created: new Date().toISOString().slice(0, 19).replace('T', ' ') };
    this.placed.set(p.sid, p);
    if (m[1]) send(200, { Call: this.callJson(p) });
    else send(200, `<?xml version="1.0" encoding="UTF-8"?><TwilioResponse><Call><Sid>${p.sid}</Sid><Status>in-progress</Status></Call></TwilioResponse>`, true);
    if (this.opts.answer) this.answer(p, form);
  }

  /** Exotel dials `From`; on answer the flow's Voicebot applet requests its dynamic URL. */
  private answer(p: Placed, form: Record<string, string | string[]>): void {
    const a = this.opts.answer!;
    const events = ([] as string[]).concat(form['StatusCallbackEvents[]'] ?? []);
    const cb = typeof form.StatusCallback === 'string' ? form.StatusCallback : undefined;
    const run = new Promise((r) => setTimeout(r, a.delayMs ?? 0)).then(async () => {
      p.record = await this.opts.carrier.placeCall({
        serverBase: a.serverBase,
        publicUrl: a.publicUrl,
        path: a.flowPath ?? '/outbound?carrier=exotel',
        callSid: p.sid,
        from: p.from,
        to: p.callerId,
        direction: 'outbound-api',
        audio: a.audio,
        customField: typeof form.CustomField === 'string' ? form.CustomField : undefined,
        statusCallback: cb ? { url: cb, answered: events.includes('answered') } : undefined,
      });
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  private callJson(p: Placed): Record<string, unknown> {
    const call = p.record?.call;
    const status = !call ? 'queued' : call.isClosed ? 'completed' : 'in-progress';
    return {
      Sid: p.sid,
      ParentCallSid: null,
      DateCreated: p.created,
      DateUpdated: p.created,
      AccountSid: this.opts.accountSid,
      To: p.callerId,
      From: p.from,
      PhoneNumberSid: p.callerId,
      Status: status,
      StartTime: p.created,
      EndTime: null,
      Duration: null,
      Price: null,
      Direction: 'outbound-api',
      AnsweredBy: null,
      ForwardedFrom: null,
      CallerName: null,
      Uri: `/v1/Accounts/${this.opts.accountSid}/Calls/${p.sid}.json`,
      RecordingUrl: null,
    };
  }
}

export async function startExotelRestMock(opts: ExotelRestMockOptions): Promise<ExotelRestMock> {
  return new ExotelRestMock(opts).start();
}

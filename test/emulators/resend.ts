/**
 * Resend API emulator on loopback: `POST /emails` and `GET /emails/:id` with Resend's auth, its
 * validation errors (`{statusCode, name, message}`, https://resend.com/docs/api-reference/errors)
 * and Idempotency-Key semantics (https://resend.com/docs/dashboard/emails/idempotency-keys): a key
 * (1–256 characters) replays the first answer for 24 h; the same key with another payload is 409
 * `invalid_idempotent_request`; while the first request is still being processed, 409
 * `concurrent_idempotent_requests`. The official SDK reaches it with `new Resend(key, { baseUrl })`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResendEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  idempotencyKey?: string;
  userAgent?: string;
  created_at: string;
}

export interface ResendEmulator {
  /** `http://127.0.0.1:PORT`: RESEND_BASE_URL. */
  readonly url: string;
  readonly apiKey: string;
  /** Accepted emails, in order (a replayed idempotent request is not a second email). */
  readonly emails: ResendEmail[];
  /** Every POST /emails answer: status and error name (for assertions on refusals). */
  readonly answers: { status: number; name?: string; idempotencyKey?: string }[];
  /** Fault: answer the next `count` sends with `status` (`internal_server_error` / `rate_limit_exceeded`). */
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

const MAILBOX = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const DAY_MS = 24 * 3600_000;

function err(res: ServerResponse, statusCode: number, name: string, message: string): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ statusCode, message, name }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Field problems of a send request, in Resend's words, or undefined. */
function invalid(b: Record<string, unknown>): [string, string] | undefined {
  for (const f of ['from', 'to', 'subject'] as const) if (b[f] === undefined || b[f] === '') return ['missing_required_field', `Missing \`${f}\` field.`];
  if (typeof b.from !== 'string' || !MAILBOX.test(b.from))
    return ['validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'];
  const to = Array.isArray(b.to) ? b.to : [b.to];
  if (to.length > 50) return ['validation_error', 'Invalid `to` field. Maximum 50 recipients.'];
  if (!to.every((a) => typeof a === 'string' && MAILBOX.test(a)))
    return ['validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'];
  if (typeof b.subject !== 'string') return ['validation_error', 'Invalid `subject` field.'];
  if (b.html === undefined && b.text === undefined && b.react === undefined && b.template === undefined)
    return ['validation_error', 'Missing `html` or `text` field.'];
  return undefined;
}

/** Start on 127.0.0.1, port 0. `processingMs` holds each accepted send that long (to expose concurrency). */
export async function startResendEmulator(o: { apiKey?: string; processingMs?: number } = {}): Promise<ResendEmulator> {
  const apiKey = o.apiKey ?? 're_test_0123456789';
  const emails: ResendEmail[] = [];
  const answers: ResendEmulator['answers'] = [];
  const keys = new Map<string, { payload: string; at: number; done?: { status: number; body: string } }>();
  let faults: { status: number; count: number } | undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => err(res, 500, 'internal_server_error', e.message));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    const text = await readBody(req);
    const idem = req.headers['idempotency-key'] as string | undefined;
    const answer = (status: number, body: Record<string, unknown>) => {
      answers.push({ status, name: body.name as string | undefined, idempotencyKey: idem });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return JSON.stringify(body);
    };
    const fail = (status: number, name: string, message: string) => answer(status, { statusCode: status, message, name });
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!auth)
      return void fail(
        401,
        'missing_api_key',
        'Missing API key in the authorization header. Include the following header Authorization: Bearer YOUR_API_KEY in the request.',
      );
    if (auth !== apiKey) return void fail(403, 'invalid_api_key', 'API key is invalid');

    const get = /^\/emails\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && get) {
      const e = emails.find((x) => x.id === get[1]);
      if (!e) return void fail(404, 'not_found', 'Email not found');
      return void answer(200, {
        object: 'email',
        id: e.id,
        to: e.to,
        from: e.from,
        created_at: e.created_at,
        subject: e.subject,
        html: e.html ?? null,
        text: e.text ?? null,
        bcc: null,
        cc: null,
        reply_to: null,
        last_event: 'delivered',
      });
    }
    if (req.method !== 'POST' || path !== '/emails') return void fail(405, 'method_not_allowed', 'Method not allowed');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return void fail(422, 'validation_error', 'Invalid JSON body.');
    }
    if (idem !== undefined && (idem.length < 1 || idem.length > 256)) return void fail(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    if (idem !== undefined) {
      const prior = keys.get(idem);
      if (prior && Date.now() - prior.at < DAY_MS) {
        if (prior.payload !== text)
          return void fail(
            409,
            'invalid_idempotent_request',
            'Same idempotency key used with a different request payload. Change your idempotency key or payload.',
          );
        if (!prior.done)
          return void fail(
            409,
            'concurrent_idempotent_requests',
            'Same idempotency key used while original request is still in progress. Try the request again later.',
          );
        answers.push({ status: prior.done.status, idempotencyKey: idem });
        res.writeHead(prior.done.status, { 'content-type': 'application/json' });
        return void res.end(prior.done.body);
      }
    }
    if (faults && faults.count > 0) {
      faults.count--;
      return void (faults.status === 429
        ? fail(429, 'rate_limit_exceeded', 'Too many requests. You can only make 2 requests per second.')
        : fail(faults.status, 'internal_server_error', 'An unexpected error occurred.'));
    }
    const bad = invalid(body);
    if (bad) return void fail(422, bad[0], bad[1]); // validation failures are not remembered under the key
    const entry = { payload: text, at: Date.now() } as { payload: string; at: number; done?: { status: number; body: string } };
    if (idem !== undefined) keys.set(idem, entry);
    if (o.processingMs) await new Promise((r) => setTimeout(r, o.processingMs));
    const id = randomUUID();
    emails.push({
      id,
      from: String(body.from),
      to: Array.isArray(body.to) ? (body.to as string[]) : [String(body.to)],
      subject: String(body.subject),
      text: body.text as string | undefined,
      html: body.html as string | undefined,
      idempotencyKey: idem,
      userAgent: req.headers['user-agent'],
      created_at: new Date().toISOString(),
    });
    entry.done = { status: 200, body: answer(200, { id }) };
  }

  return {
    url,
    apiKey,
    emails,
    answers,
    failNext(status, count = 1) {
      faults = { status, count };
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

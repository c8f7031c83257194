/**
 * Google Calendar v3 emulator on loopback: the OAuth token endpoint, `freeBusy`, and
 * `events.insert` / `events.list`, with the request and response shapes of
 * https://developers.google.com/calendar/api/v3/reference and the error envelope of
 * https://developers.google.com/calendar/api/guides/errors. Inserted events (not cancelled, not
 * `transparent`) are busy time for later freeBusy queries.
 *
 * Auth, as Google accepts it for a service account: a Bearer access token issued by `POST /token`
 * (JWT-bearer grant, RFC 7523), or a self-signed RS256 JWT sent directly as the Bearer token
 * (https://developers.google.com/identity/protocols/oauth2/service-account#jwt-auth), verified with
 * the public half of the emulator's test key (`kid` = `private_key_id`, `iss` = `client_email`,
 * a calendar `scope` or a googleapis `aud`, unexpired).
 *
 * ```ts
 * const gc = await startGoogleCalendarEmulator();
 * cfg: GOOGLE_API_ROOT = gc.rootUrl, GOOGLE_SERVICE_ACCOUNT_JSON = gc.serviceAccountJson, GOOGLE_CALENDAR_ID = gc.calendarId
 * gc.events()  // what was booked
 * ```
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatedEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  transparency?: 'opaque' | 'transparent';
  creator: { email: string };
  organizer: { email: string; self: true };
  start: { dateTime?: string; date?: string; timeZone?: string };
  end: { dateTime?: string; date?: string; timeZone?: string };
  iCalUID: string;
  sequence: number;
  reminders: { useDefault: boolean };
  eventType: 'default';
}

export interface SeenRequest {
  method: string;
  path: string;
  /** How the request authenticated: `jwt` (self-signed), `token` (from /token), or why it failed. */
  auth: 'jwt' | 'token' | 'none' | 'invalid';
  body?: unknown;
}

export interface GoogleCalendarEmulator {
  /** `http://127.0.0.1:PORT/`: GOOGLE_API_ROOT. */
  readonly rootUrl: string;
  /** Service-account key JSON (inline) whose `token_uri` is this emulator's `/token`. */
  readonly serviceAccountJson: string;
  readonly clientEmail: string;
  /** The one calendar that exists. */
  readonly calendarId: string;
  readonly seen: SeenRequest[];
  /** Events of the calendar, in insertion order. */
  events(): EmulatedEvent[];
  /** Add an event as if someone created it in Google Calendar (busy time the bridge did not book). */
  addEvent(start: string, end: string, summary?: string): EmulatedEvent;
  /** Fault: answer the next `count` calendar requests with `status` (Google error envelope, optional `reason`). */
  failNext(status: number, count?: number, reason?: string): void;
  close(): Promise<void>;
}

const BASE32HEX_ID = /^[a-v0-9]{5,1024}$/;
const SCOPE_OK = /https:\/\/www\.googleapis\.com\/auth\/calendar/;
const REASONS: Record<number, [string, string]> = {
  400: ['badRequest', 'INVALID_ARGUMENT'],
  401: ['authError', 'UNAUTHENTICATED'],
  403: ['forbidden', 'PERMISSION_DENIED'],
  404: ['notFound', 'NOT_FOUND'],
  409: ['duplicate', 'ALREADY_EXISTS'],
  429: ['rateLimitExceeded', 'RESOURCE_EXHAUSTED'],
  500: ['backendError', 'INTERNAL'],
  503: ['backendError', 'UNAVAILABLE'],
};

/** Google's error envelope (https://developers.google.com/calendar/api/guides/errors). */
function googleError(res: ServerResponse, code: number, message: string, reason = REASONS[code]?.[0] ?? 'backendError'): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify({ error: { code, message, errors: [{ domain: 'global', reason, message }], status: REASONS[code]?.[1] ?? 'UNKNOWN' } }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

/** Verify an RS256 JWT with `key`; returns its claims or why it is refused. */
function verifyJwt(jwt: string, key: KeyObject, kid: string, email: string): { claims: Record<string, unknown> } | { error: string } {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) return { error: 'not a JWT' };
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(b64url(h).toString()) as Record<string, unknown>;
    claims = JSON.parse(b64url(p).toString()) as Record<string, unknown>;
  } catch {
    return { error: 'malformed JWT' };
  }
  if (header.alg !== 'RS256') return { error: `alg ${String(header.alg)} is not RS256` };
  if (header.kid !== undefined && header.kid !== kid) return { error: 'unknown kid' };
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, b64url(s))) return { error: 'bad signature' };
  if (claims.iss !== email) return { error: 'iss is not the service account' };
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp < now || typeof claims.iat !== 'number' || claims.iat > now + 300)
    return { error: 'expired or not yet valid' };
  return { claims };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Start on 127.0.0.1, port 0, with a fresh RSA test key and one calendar. */
export async function startGoogleCalendarEmulator(o: { calendarId?: string; clientEmail?: string } = {}): Promise<GoogleCalendarEmulator> {
  const calendarId = o.calendarId ?? 'bookings@group.calendar.google.com';
  const clientEmail = o.clientEmail ?? 'callbridge@callbridge-test.iam.gserviceaccount.com';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(20).toString('hex');
  const pub = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const events: EmulatedEvent[] = [];
  const tokens = new Map<string, number>();
  const seen: SeenRequest[] = [];
  let faults: { status: number; count: number; reason?: string } | undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => googleError(res, 500, err.message));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rootUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  function authenticate(req: IncomingMessage): SeenRequest['auth'] {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return 'none';
    const exp = tokens.get(m[1]!);
    if (exp !== undefined) return exp > Date.now() ? 'token' : 'invalid';
    const v = verifyJwt(m[1]!, pub, kid, clientEmail);
    if ('error' in v) return 'invalid';
    const scoped = typeof v.claims.scope === 'string' && SCOPE_OK.test(v.claims.scope);
    const aud = typeof v.claims.aud === 'string' && v.claims.aud.startsWith('https://www.googleapis.com/');
    return scoped || aud ? 'jwt' : 'invalid';
  }

  function busyOf(ev: EmulatedEvent): [number, number] | undefined {
    if (ev.status === 'cancelled' || ev.transparency === 'transparent') return undefined;
    const s = Date.parse(ev.start.dateTime ?? `${ev.start.date}T00:00:00Z`);
    const e = Date.parse(ev.end.dateTime ?? `${ev.end.date}T00:00:00Z`);
    return [s, e];
  }

  function makeEvent(body: Partial<EmulatedEvent>, id: string): EmulatedEvent {
    const now = new Date().toISOString();
    return {
      kind: 'calendar#event',
      etag: `"${Date.now()}${randomBytes(2).readUInt16BE()}"`,
      id,
      status: body.status ?? 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
      created: now,
      updated: now,
      summary: body.summary,
      description: body.description,
      transparency: body.transparency,
      creator: { email: clientEmail },
      organizer: { email: calendarId, self: true },
      start: body.start!,
      end: body.end!,
      iCalUID: `${id}@google.com`,
      sequence: 0,
      reminders: { useDefault: true },
      eventType: 'default',
    };
  }

  /** Problems with an event body, as Google words them, or undefined. */
  function invalidEvent(b: Partial<EmulatedEvent>): [string, string] | undefined {
    if (!b.start || (!b.start.dateTime && !b.start.date)) return ['required', 'Missing start time.'];
    if (!b.end || (!b.end.dateTime && !b.end.date)) return ['required', 'Missing end time.'];
    for (const t of [b.start, b.end]) {
      if (t.dateTime && !RFC3339.test(t.dateTime) && !t.timeZone) return ['required', 'Missing time zone definition for start time.'];
      if (t.timeZone && !isZone(t.timeZone)) return ['invalid', `Invalid time zone definition for start time.`];
    }
    const [s, e] = busyOf(makeEvent(b, 'x'))!;
    if (Number.isNaN(s) || Number.isNaN(e)) return ['invalid', 'Invalid start time.'];
    if (e <= s) return ['timeRangeEmpty', 'The specified time range is empty.'];
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', rootUrl);
    const text = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/token') return token(text, res);
    const auth = authenticate(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      seen.push({ method: req.method ?? '', path: url.pathname, auth });
      return googleError(res, 400, 'Parse Error', 'parseError');
    }
    seen.push({ method: req.method ?? '', path: url.pathname + url.search, auth, body });
    if (auth === 'none')
      return googleError(
        res,
        401,
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'required',
      );
    if (auth === 'invalid')
      return googleError(
        res,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
      );
    if (faults && faults.count > 0) {
      faults.count--;
      return googleError(res, faults.status, 'Injected failure.', faults.reason);
    }
    if (req.method === 'POST' && url.pathname === '/calendar/v3/freeBusy') return freeBusy(body as Record<string, unknown> | undefined, res);
    const m = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(url.pathname);
    if (m) {
      if (decodeURIComponent(m[1]!) !== calendarId && decodeURIComponent(m[1]!) !== 'primary') return googleError(res, 404, 'Not Found');
      if (req.method === 'POST') return insert((body ?? {}) as Partial<EmulatedEvent>, res);
      if (req.method === 'GET') return list(url.searchParams, res);
    }
    return googleError(res, 404, 'Not Found');
  }

  /** RFC 7523 JWT-bearer grant (https://developers.google.com/identity/protocols/oauth2/service-account#httprest). */
  function token(text: string, res: ServerResponse): void {
    const form = new URLSearchParams(text);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return json(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.get('grant_type') ?? '') });
    const v = verifyJwt(form.get('assertion') ?? '', pub, kid, clientEmail);
    if ('error' in v) return json(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT Signature. (${v.error})` });
    if (typeof v.claims.scope !== 'string' || !SCOPE_OK.test(v.claims.scope))
      return json(res, 400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' });
    const access = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.set(access, Date.now() + 3599_000);
    json(res, 200, { access_token: access, expires_in: 3599, token_type: 'Bearer' });
  }

  function freeBusy(b: Record<string, unknown> | undefined, res: ServerResponse): void {
    if (!b?.timeMin) return googleError(res, 400, 'Missing timeMin parameter.', 'required');
    if (!b.timeMax) return googleError(res, 400, 'Missing timeMax parameter.', 'required');
    const from = Date.parse(String(b.timeMin));
    const to = Date.parse(String(b.timeMax));
    if (to <= from) return googleError(res, 400, 'The specified time range is empty.', 'timeRangeEmpty');
    const calendars: Record<string, unknown> = {};
    for (const item of (b.items as { id?: string }[] | undefined) ?? []) {
      const id = item.id ?? '';
      if (id !== calendarId && id !== 'primary') {
        calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
        continue;
      }
      const spans = events
        .map(busyOf)
        .filter((x): x is [number, number] => !!x && x[0] < to && x[1] > from)
        .map(([s, e]) => [Math.max(s, from), Math.min(e, to)] as [number, number])
        .sort((x, y) => x[0] - y[0]);
      const merged: [number, number][] = [];
      for (const s of spans) {
        const last = merged[merged.length - 1];
        if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
        else merged.push([...s]);
      }
      calendars[id] = {
        busy: merged.map(([s, e]) => ({ start: new Date(s).toISOString().replace('.000', ''), end: new Date(e).toISOString().replace('.000', '') })),
      };
    }
    json(res, 200, { kind: 'calendar#freeBusy', timeMin: new Date(from).toISOString(), timeMax: new Date(to).toISOString(), calendars });
  }

  function insert(b: Partial<EmulatedEvent>, res: ServerResponse): void {
    const id = b.id ?? randomBytes(13).toString('hex');
    if (!BASE32HEX_ID.test(id)) return googleError(res, 400, 'Invalid resource id value.', 'invalid');
    if (events.some((e) => e.id === id)) return googleError(res, 409, 'The requested identifier already exists.', 'duplicate');
    const bad = invalidEvent(b);
    if (bad) return googleError(res, 400, bad[1], bad[0]);
    const ev = makeEvent(b, id);
    events.push(ev);
    json(res, 200, ev);
  }

  function list(q: URLSearchParams, res: ServerResponse): void {
    const from = q.get('timeMin') ? Date.parse(q.get('timeMin')!) : -Infinity;
    const to = q.get('timeMax') ? Date.parse(q.get('timeMax')!) : Infinity;
    let items = events.filter((e) => {
      const [s, en] = busyOf({ ...e, status: 'confirmed', transparency: 'opaque' })!;
      return en > from && s < to && (q.get('showDeleted') === 'true' || e.status !== 'cancelled');
    });
    if (q.get('orderBy') === 'startTime') {
      if (q.get('singleEvents') !== 'true') return googleError(res, 400, 'The requested ordering is not available for the particular query.', 'invalid');
      items = [...items].sort((a, b) => busyOf({ ...a, status: 'confirmed' })![0] - busyOf({ ...b, status: 'confirmed' })![0]);
    }
    const max = Number(q.get('maxResults') ?? 250);
    json(res, 200, {
      kind: 'calendar#events',
      etag: `"${Date.now()}"`,
      summary: calendarId,
      updated: new Date().toISOString(),
      timeZone: 'UTC',
      accessRole: 'writer',
      defaultReminders: [],
      items: items.slice(0, max),
    });
  }

  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    project_id: 'callbridge-test',
    private_key_id: kid,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${rootUrl}token`,
  });

  return {
    rootUrl,
    serviceAccountJson,
    clientEmail,
    calendarId,
    seen,
    events: () => events,
    addEvent(start, end, summary = 'Busy') {
      const ev = makeEvent({ start: { dateTime: start }, end: { dateTime: end }, summary }, randomBytes(13).toString('hex'));
      events.push(ev);
      return ev;
    },
    failNext(status, count = 1, reason) {
      faults = { status, count, reason };
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function isZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Exotel, spoken from Exotel's end: runs a call flow against a callbridge server the way Exotel does
 * (docs/protocols/exotel.md#emulator): the Voicebot applet's dynamic-URL GET (no signature) → `{"url":…}` → WebSocket
 * to that URL with its query intact (credentials moved to `Authorization: Basic`, one retry) →
 * `connected`/`start`/paced `media`. When the server closes the stream, the flow continues: a Connect
 * applet with a dynamic URL is asked for a destination (recorded as the transfer), else the call ends.
 * StatusCallbacks (no signature) follow the end of the call.
 *
 * ```ts
 * const exotel = new ExotelCarrierEmulator({ speed: 4, connectUrl: `${PUBLIC}/webhooks/exotel/connect` });
 * const call = await exotel.placeCall({ serverBase, publicUrl, path: '/inbound?carrier=exotel', from, to });
 * await call.waitFor('media'); await call.hangup();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { ExotelStreamCall, type ExotelRate } from './exotel/call';
import { waitForEmitted } from './wait-emitted';

export { ExotelStreamCall } from './exotel/call';
export type { ExotelClosed, ExotelMarkRecord, ExotelReceived, ExotelRate } from './exotel/call';
export type { ExotelViolation } from './exotel/outbound-check';

/** 32 lower-case hex characters: Exotel's call and stream ids (docs/protocols/exotel.md#identifiers). */
export const exotelId = (): string => randomBytes(16).toString('hex');

export interface ExotelPlaceCallOptions {
  /** Where HTTP and WS actually go, e.g. `http://127.0.0.1:3000`. */
  serverBase: string;
  /** The server's PUBLIC_URL: the applet URL as configured in the flow. */
  publicUrl: string;
  /** Voicebot applet URL path + query, e.g. `/inbound?carrier=exotel`. Ignored with `streamUrl`. */
  path?: string;
  /** A static applet URL (`wss://…`): no dynamic-URL request. */
  streamUrl?: string;
  from: string;
  to: string;
  direction?: 'incoming' | 'outbound-dial' | 'outbound-api';
  callSid?: string;
  customField?: string;
  /** Caller speech, 8 kHz PCM16, queued before `start`. */
  audio?: Int16Array;
  /** StatusCallback URL and whether `answered` is subscribed (the terminal one is always sent). */
  statusCallback?: { url: string; answered?: boolean; encoding?: 'json' | 'form' };
}

/** One applet request the emulator made, and the answer. */
export interface AppletRequest {
  kind: 'voicebot' | 'connect';
  url: string;
  status: number;
  body: unknown;
  latencyMs: number;
}

export interface ExotelCallRecord {
  call: ExotelStreamCall;
  applets: AppletRequest[];
  /** Destination dialled by the Connect applet after the stream ended (the transfer). */
  transferTo?: string;
  /** How the flow ended: `hangup` (caller), `bot-closed` (no Connect applet), `transferred`, `no-answer` (Connect with no number), `failed`. */
  outcome?: string;
  status: { url: string; params: Record<string, unknown>; status: number }[];
  done: Promise<void>;
}

export interface ExotelCarrierOptions {
  accountSid?: string;
  speed?: number;
  /** Ms of caller audio per media message (default 100; 20 selectable). */
  frameMs?: number;
  variant?: 'documented' | 'camel';
  /** The flow's Connect applet dynamic URL (public form); absent = the flow hangs up after the Voicebot applet. */
  connectUrl?: string;
  /**
   * The server's EXOTEL_WEBHOOK_TOKEN, as the operator wrote it into the flow's applet URLs: appended as
   * `token=` to the Voicebot and Connect dynamic URLs that do not carry one already.
   */
  webhookToken?: string;
}

/** The carrier: one per test or demo; concurrent calls each with their own 32-hex CallSid. */
export class ExotelCarrierEmulator extends EventEmitter<{ call: [rec: ExotelCallRecord] }> {
  readonly accountSid: string;
  readonly speed: number;
  readonly calls: ExotelCallRecord[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly opts: ExotelCarrierOptions = {}) {
    super();
    this.accountSid = opts.accountSid ?? 'callbridgetest1';
    this.speed = opts.speed ?? 1;
  }

  findCall(callSid: string): ExotelCallRecord | undefined {
    return this.calls.find((c) => c.call.callSid === callSid);
  }

  /** Resolve with the first call matching `pred` (placed now or later). */
  waitForCall(pred: (c: ExotelCallRecord) => boolean = () => true, timeoutMs = 5000): Promise<ExotelCallRecord> {
    return waitForEmitted(this, 'call', this.calls, pred, timeoutMs, `no Exotel call within ${timeoutMs} ms`);
  }

  /**
   * Run the flow for one call up to the open stream (docs/protocols/exotel.md#call-set-up). Resolves with the record
   * once `start` is sent, or with a closed call when the dynamic URL or the upgrade failed.
   */
  async placeCall(o: ExotelPlaceCallOptions): Promise<ExotelCallRecord> {
    const callSid = o.callSid ?? exotelId();
    const direction = o.direction ?? 'incoming';
    const applets: AppletRequest[] = [];
    const flowParams: Record<string, string> = {
      CallSid: callSid,
      CallFrom: o.from,
      CallTo: o.to,
      From: o.from,
      To: o.to,
      Direction: direction,
      Created: exotelTime(),
      StartTime: exotelTime(),
      CallType: 'call-attempt',
      ...(o.customField ? { CustomField: o.customField } : {}),
    };
    let streamUrl = o.streamUrl;
    const notes: string[] = [];
    if (!streamUrl) {
      const res = await this.applet('voicebot', o.publicUrl.replace(/\/+$/, '') + (o.path ?? '/inbound?carrier=exotel'), o.serverBase, flowParams);
      applets.push(res);
      const url = (res.body as { url?: unknown } | undefined)?.url;
      if (res.status === 200 && typeof url === 'string' && /^wss?:\/\//.test(url)) streamUrl = url;
      else notes.push(`voicebot applet failed: dynamic URL answered ${res.status} ${JSON.stringify(res.body)}`);
    }
    const { dial, headers, rate, custom } = streamUrl
      ? dialTarget(streamUrl, o.serverBase, notes)
      : { dial: '', headers: {}, rate: 8000 as ExotelRate, custom: {} };
    const call = new ExotelStreamCall({
      callSid,
      streamSid: exotelId(),
      accountSid: this.accountSid,
      from: o.from,
      to: o.to,
      direction,
      rate,
      customParameters: custom,
      speed: this.speed,
      frameMs: this.opts.frameMs ?? 100,
      variant: this.opts.variant ?? 'documented',
    });
    call.notes.push(...notes);
    if (o.audio) call.sendAudio(o.audio);
    let finish!: () => void;
    const rec: ExotelCallRecord = { call, applets, status: [], done: new Promise((r) => (finish = r)) };
    this.calls.push(rec);
    this.emit('call', rec);
    const t0 = performance.now();
    void call.closed.then(async (closed) => {
      if (closed.code === 0) rec.outcome = 'failed';
      else if (closed.by === 'carrier') rec.outcome = 'hangup';
      else rec.outcome = await this.afterBot(rec, o, flowParams);
      if (o.statusCallback)
        await this.statusCallback(
          rec,
          o,
          callSid,
          direction,
          'terminal',
          rec.outcome === 'failed' ? 'failed' : 'completed',
          Math.round((performance.now() - t0) / 1000),
        );
      finish();
    });
    if (!streamUrl) {
      call.fail('no stream URL');
      return rec;
    }
    if (o.statusCallback?.answered) void this.statusCallback(rec, o, callSid, direction, 'answered', 'in-progress', 0);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const ws = await openSocket(dial, headers);
      if (ws.ok) {
        call.begin(ws.ws);
        return rec;
      }
      call.notes.push(`upgrade attempt ${attempt} failed: ${ws.why}`);
    }
    call.fail('stream handshake failed twice');
    return rec;
  }

  /** Caller hang-up of every live call; wait for flows and callbacks. */
  async close(): Promise<void> {
    await Promise.all(this.calls.map((c) => (c.call.isClosed ? undefined : c.call.hangup())));
    await Promise.all(this.calls.map((c) => c.done));
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  // --- internals ------------------------------------------------------------------------------

  /** The bot closed the stream: next applet (docs/protocols/exotel.md#transfer-and-hang-up). */
  private async afterBot(rec: ExotelCallRecord, o: ExotelPlaceCallOptions, flowParams: Record<string, string>): Promise<string> {
    if (!this.opts.connectUrl) return 'bot-closed';
    const res = await this.applet('connect', this.opts.connectUrl, o.serverBase, { ...flowParams, DialCallDuration: '0', EndTime: exotelTime() });
    rec.applets.push(res);
    const numbers = (res.body as { destination?: { numbers?: unknown } } | undefined)?.destination?.numbers;
    if (res.status !== 200 || !Array.isArray(numbers)) return 'failed';
    if (numbers.length === 0) return 'no-answer';
    rec.transferTo = String(numbers[0]);
    return 'transferred';
  }

  /** GET an applet URL (public form) at the server, with the flow parameters appended (docs/protocols/exotel.md#call-set-up). */
  private async applet(kind: AppletRequest['kind'], publicUrl: string, serverBase: string, params: Record<string, string>): Promise<AppletRequest> {
    const u = new URL(publicUrl);
    if (this.opts.webhookToken && !u.searchParams.has('token')) u.searchParams.set('token', this.opts.webhookToken);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    const target = new URL(u.pathname + u.search, serverBase).toString();
    const t = performance.now();
    try {
      const res = await fetch(target, { headers: { 'Exotel-Version': '1.0' } });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* recorded as text */
      }
      return { kind, url: u.toString(), status: res.status, body, latencyMs: performance.now() - t };
    } catch (err) {
      return { kind, url: u.toString(), status: 0, body: (err as Error).message, latencyMs: performance.now() - t };
    }
  }

  /** StatusCallback without signature, JSON or form (https://developer.exotel.com/docs/voice-v1/api-reference/status-callback). */
  private async statusCallback(
    rec: ExotelCallRecord,
    o: ExotelPlaceCallOptions,
    callSid: string,
    direction: string,
    event: 'answered' | 'terminal',
    status: string,
    durationS: number,
  ): Promise<void> {
    const cb = o.statusCallback!;
    const params: Record<string, unknown> = {
      CallSid: callSid,
      EventType: event,
      Status: status,
      DateUpdated: exotelTime(),
      To: o.to,
      From: o.from,
      PhoneNumberSid: o.to,
      Direction: direction,
      ConversationDuration: durationS,
      RecordingUrl: null,
      ...(o.customField ? { CustomField: o.customField } : {}),
    };
    const u = new URL(cb.url);
    const target = new URL(u.pathname + u.search, o.serverBase).toString();
    const json = (cb.encoding ?? 'json') === 'json';
    const p = fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
      body: json
        ? JSON.stringify(params)
        : new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, v === null ? '' : String(v)])).toString(),
    }).then(
      (r) => void rec.status.push({ url: cb.url, params, status: r.status }),
      () => void rec.status.push({ url: cb.url, params, status: 0 }),
    );
    this.pending.add(p);
    await p;
    this.pending.delete(p);
  }
}

/** `yyyy-mm-dd hh:mm:ss` (https://support.exotel.com/support/solutions/articles/3000096873). */
function exotelTime(d = new Date()): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** Where to dial a stream URL on loopback, with its credentials as a header (docs/protocols/exotel.md#stream-url). */
function dialTarget(
  streamUrl: string,
  serverBase: string,
  notes: string[],
): { dial: string; headers: Record<string, string>; rate: ExotelRate; custom: Record<string, string> } {
  const u = new URL(streamUrl);
  const headers: Record<string, string> = {};
  if (u.username) headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const rawRate = u.searchParams.get('sample-rate') ?? u.searchParams.get('sample_rate');
  const rate = (['8000', '16000', '24000'].includes(rawRate ?? '') ? Number(rawRate) : 8000) as ExotelRate;
  if (rawRate !== null && String(rate) !== rawRate) notes.push(`sample-rate ${rawRate} is not supported: streaming at 8000 Hz`);
  const custom: Record<string, string> = {};
  for (const [k, v] of u.searchParams) if (k !== 'sample-rate' && k !== 'sample_rate') custom[k] = v;
  if (Object.keys(custom).length > 3) notes.push(`${Object.keys(custom).length} custom parameters (Exotel allows 3)`);
  if (u.search.length > 256) notes.push(`stream URL query is ${u.search.length} characters (Exotel allows 256)`);
  const base = new URL(serverBase);
  const dial = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${u.pathname}${u.search}`;
  return { dial, headers, rate, custom };
}

function openSocket(url: string, headers: Record<string, string>): Promise<{ ok: true; ws: WebSocket } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      ws.on('error', () => {});
      resolve({ ok: false, why: `upgrade answered ${res.statusCode}` });
    });
    ws.once('error', (err) => resolve({ ok: false, why: err.message }));
  });
}

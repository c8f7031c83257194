/**
 * Twilio, spoken from Twilio's end: places calls against a callbridge server the way Twilio does
 * (signed voice webhook → TwiML → signed media-stream upgrade → `connected`/`start`/paced `media`),
 * plays back what the server sends, and ends calls by caller hang-up or REST action.
 * Wire facts: docs/protocols/twilio.md (voice webhook, signatures, stream messages, marks, and its #emulator section).
 *
 * ```ts
 * const carrier = new TwilioCarrierEmulator({ authToken, speed: 4 });
 * const call = await carrier.placeCall({ serverBase: 'http://127.0.0.1:3000', publicUrl: 'https://calls.example.com',
 *   path: '/inbound', from: '+14155550123', to: '+14155550100', audio });
 * await call.waitFor('media'); await call.hangup();
 * ```
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import twilio from 'twilio';
import { EmulatedCall } from './twilio/call';
import { newSid } from './twilio/ids';
import { postSignedForm, toLoopback, voiceParams, type SignatureMode } from './twilio/signed-post';
import { readTwiml, type ParsedTwiml } from './twilio/twiml';
import { waitForEmitted } from './wait-emitted';

export { EmulatedCall } from './twilio/call';
export type { CallEvents, CarrierError, ClearRecord, ClosedInfo, MarkRecord, Received } from './twilio/call';
export type { OutboundMessage, Violation } from './twilio/outbound-check';
export type { SignatureMode } from './twilio/signed-post';

/** Status-callback events a call can subscribe to; default `completed` only (https://www.twilio.com/docs/voice/api/call-resource#statuscallback). */
export type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export interface PlaceCallOptions {
  /** Where HTTP and WS actually go, e.g. `http://127.0.0.1:3000` (or an https deployment). */
  serverBase: string;
  /** Where the media socket goes when not `serverBase` (another instance of the deployment). */
  streamBase?: string;
  /** The server's PUBLIC_URL: webhook and upgrade signatures are computed over this form. */
  publicUrl: string;
  /** Voice URL path (may carry a query): `/inbound` or `/outbound`. */
  path: string;
  from: string;
  to: string;
  /** Default: `outbound-api` for `/outbound…`, else `inbound`. Sets `CallStatus` (`in-progress` / `ringing`). */
  direction?: 'inbound' | 'outbound-api';
  /** Caller speech, 8 kHz PCM16; streamed as μ-law from the first media frame. */
  audio?: Int16Array;
  /** Default `valid`; `forged`/`missing` for negative tests (applies to webhook and upgrade). */
  signature?: SignatureMode;
  /** Extra form fields (e.g. `CallerName`, `ForwardedFrom`); signed like the rest. */
  extraParams?: Record<string, string>;
  /** Reuse a call SID (the REST mock passes the one it answered with). Default: a fresh `CA…`. */
  callSid?: string;
  /** Override the carrier's playback/pacing speed for this call. */
  speed?: number;
  /** Public status-callback URL and subscribed events (docs/protocols/twilio.md#status-callbacks). */
  statusCallback?: { url: string; events?: StatusEvent[] };
}

/** A REST action applied to a live call (hang-up or transfer), as the REST mock reports it. */
export interface RestAction {
  kind: 'hangup' | 'transfer';
  callSid: string;
  /** `<Dial>` target for a transfer by `Twiml`. */
  to?: string;
  url?: string;
  twiml?: string;
  /** Epoch ms. */
  at: number;
}

/** A status callback the carrier sent and how the server answered. */
export interface StatusCallbackRecord {
  callSid: string;
  params: Record<string, string>;
  status: number;
}

type CarrierEvents = { call: [call: EmulatedCall] };

/** The carrier: one per test or demo; many concurrent calls, each with its own call SID and stream SID. */
export class TwilioCarrierEmulator extends EventEmitter<CarrierEvents> {
  readonly authToken: string;
  readonly accountSid: string;
  readonly speed: number;
  /** Every call placed, in order. */
  readonly calls: EmulatedCall[] = [];
  /** Calls whose media stream is still open, by call SID. */
  readonly liveCalls = new Map<string, EmulatedCall>();
  /** REST actions applied to live calls, in order; `lastRestAction` is the latest. */
  readonly restActions: RestAction[] = [];
  readonly statusCallbacks: StatusCallbackRecord[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  /**
   * @param opts.authToken the account's primary auth token (signs webhooks and upgrades).
   * @param opts.accountSid default `AC` + 32 random hex.
   * @param opts.speed wall-clock multiplier for caller pacing and playout (1 = real time; tests use ≥ 4).
   */
  constructor(opts: { authToken: string; accountSid?: string; speed?: number }) {
    super();
    this.authToken = opts.authToken;
    this.accountSid = opts.accountSid ?? newSid('AC');
    this.speed = opts.speed ?? 1;
  }

  get lastRestAction(): RestAction | undefined {
    return this.restActions[this.restActions.length - 1];
  }

  /** The call with `callSid` (live or ended), if this carrier placed it. */
  findCall(callSid: string): EmulatedCall | undefined {
    return this.calls.find((c) => c.callSid === callSid);
  }

  /** Resolve with the next call placed (or an existing one matching `pred`). */
  waitForCall(pred: (c: EmulatedCall) => boolean = () => true, timeoutMs = 5000): Promise<EmulatedCall> {
    return waitForEmitted(this, 'call', this.calls, pred, timeoutMs, `no call placed within ${timeoutMs} ms`);
  }

  /**
   * Place a call (docs/protocols/twilio.md#emulator): signed webhook, TwiML, signed upgrade, `connected` + `start`.
   * Resolves once `start` is sent, or with a call already closed when the webhook (11200), TwiML (12100)
   * or upgrade (31920) failed (see `call.errors`), or when the TwiML has no `<Stream>`.
   * @throws only on programming errors (bad URLs in the options).
   */
  async placeCall(opts: PlaceCallOptions): Promise<EmulatedCall> {
    const direction = opts.direction ?? (opts.path.startsWith('/outbound') ? 'outbound-api' : 'inbound');
    const callSid = opts.callSid ?? newSid('CA');
    const params = {
      ...voiceParams({
        callSid,
        accountSid: this.accountSid,
        from: opts.from,
        to: opts.to,
        direction,
        callStatus: direction === 'inbound' ? 'ringing' : 'in-progress',
      }),
      ...opts.extraParams,
    };
    const webhookUrl = opts.publicUrl.replace(/\/+$/, '') + opts.path;
    const status = this.statusSender(opts, callSid, params);
    status('initiated', 'initiated');
    status('ringing', 'ringing');
    const res = await postSignedForm({
      target: toLoopback(webhookUrl, opts.serverBase),
      signedUrl: webhookUrl,
      authToken: this.authToken,
      params,
      signature: opts.signature,
    });
    const parsed = readTwiml(res.status === 200 ? res.body : '');
    const call = new EmulatedCall({
      callSid,
      accountSid: this.accountSid,
      streamSid: newSid('MZ'),
      direction,
      from: opts.from,
      to: opts.to,
      speed: opts.speed ?? this.speed,
      twiml: { ...parsed, raw: res.body },
      webhook: { url: webhookUrl, status: res.status, latencyMs: res.latencyMs, params },
    });
    if (opts.audio) call.sendAudio(opts.audio); // queued before start: the first media frame carries it
    this.calls.push(call);
    this.emit('call', call);
    void call.closed.then(() => {
      this.liveCalls.delete(callSid);
      status('completed', call.endReason === 'failed' ? 'failed' : 'completed');
    });
    // Twilio: non-2xx or unreachable → 11200; no <Response> → 12100
    // (https://www.twilio.com/docs/api/errors/11200, https://www.twilio.com/docs/api/errors/12100).
    if (res.status !== 200) {
      call.fail({ code: 11200, message: `webhook answered ${res.status || res.error}` }, { by: 'carrier', code: 0, reason: 'webhook failed (11200)' });
      return call;
    }
    if (!parsed.root) {
      call.fail({ code: 12100, message: 'TwiML has no <Response> root or is not XML' }, { by: 'carrier', code: 0, reason: 'unparsable TwiML (12100)' });
      return call;
    }
    if (!/xml/i.test(res.contentType)) call.notes.push(`webhook Content-Type ${res.contentType || '(none)'} is not text/xml`);
    status('answered', 'in-progress');
    if (!parsed.streamUrl) {
      call.endReason = 'twiml-ended';
      // Not an error: e.g. a busy `<Say>…</Say><Hangup/>` answer simply runs and ends the call.
      call.fail(undefined, { by: 'carrier', code: 0, reason: `TwiML without <Stream>: ${parsed.verbs.join(', ') || 'empty'}` });
      return call;
    }
    if (!parsed.bidirectional) call.notes.push('<Start><Stream> is one-way: audio sent back is not played');
    for (const [k, v] of Object.entries(parsed.parameters))
      if (k.length + v.length >= 500) call.notes.push(`<Parameter name="${k}"> name + value is ${k.length + v.length} characters (limit < 500)`);
    const ok = await this.openStream(call, opts, webhookUrl, parsed);
    if (ok) this.liveCalls.set(callSid, call);
    return call;
  }

  /**
   * Apply a REST action to a live call: `stop` + close (docs/protocols/twilio.md#calls-rest;
   * https://www.twilio.com/docs/voice/media-streams/websocket-messages#stop-message).
   * @returns false when the call is unknown or no longer live (the REST mock answers 404 20404).
   */
  applyRestAction(action: Omit<RestAction, 'at'>): boolean {
    const call = this.liveCalls.get(action.callSid);
    if (!call || call.isClosed) return false;
    this.restActions.push({ ...action, at: Date.now() });
    if (action.kind === 'transfer') call.transfer = { to: action.to, url: action.url, twiml: action.twiml };
    void call.hangup(action.kind === 'hangup' ? 'rest-hangup' : 'transfer');
    return true;
  }

  /** Hang up every live call and wait for sockets and status callbacks to finish. */
  async close(): Promise<void> {
    await Promise.all([...this.liveCalls.values()].map((c) => c.hangup()));
    await Promise.all(this.calls.map((c) => c.closed));
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  // --- internals ------------------------------------------------------------------------------

  /** Open the media socket as Twilio does; records 31920 and returns false on any non-101 answer. */
  private async openStream(call: EmulatedCall, opts: PlaceCallOptions, webhookUrl: string, parsed: ParsedTwiml): Promise<boolean> {
    // Relative URLs resolve against the webhook URL; only wss is dialled; the query is dropped
    // (https://www.twilio.com/docs/voice/twiml/stream).
    const resolved = new URL(parsed.streamUrl!, webhookUrl);
    if (resolved.protocol === 'https:' && !/^[a-z]+:/i.test(parsed.streamUrl!)) resolved.protocol = 'wss:';
    if (resolved.protocol !== 'wss:') {
      call.fail({ code: 31920, message: `stream url ${parsed.streamUrl} is not wss://` }, { by: 'carrier', code: 0, reason: 'stream url not wss (31920)' });
      return false;
    }
    if (resolved.search) {
      call.twiml.droppedQuery = resolved.search;
      call.notes.push(`stream url query ${resolved.search} dropped (Twilio does not support query strings)`);
      resolved.search = '';
    }
    const signedUrl = resolved.toString();
    const base = new URL(opts.streamBase ?? opts.serverBase);
    if (resolved.host !== new URL(opts.publicUrl).host) call.notes.push(`stream host ${resolved.host} differs from the public URL's host`);
    const dialUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${resolved.pathname}`;
    call.twiml.dialUrl = dialUrl;
    const headers: Record<string, string> = {};
    const mode = opts.signature ?? 'valid';
    // Upgrade signature: the wss:// URL without query, params {} (docs/protocols/twilio.md#signatures; https://www.twilio.com/docs/usage/security).
    if (mode !== 'missing')
      headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(mode === 'valid' ? this.authToken : this.authToken + 'forged', signedUrl, {});
    const ws = new WebSocket(dialUrl, { headers, perMessageDeflate: false });
    const outcome = await new Promise<{ ok: true } | { ok: false; why: string }>((resolve) => {
      ws.once('open', () => resolve({ ok: true }));
      ws.once('unexpected-response', (req, res) => {
        res.resume();
        req.destroy();
        resolve({ ok: false, why: `upgrade answered ${res.statusCode}` });
      });
      ws.once('error', (err) => resolve({ ok: false, why: err.message }));
    });
    if (!outcome.ok) {
      ws.on('error', () => {}); // the destroyed request may still report an error
      ws.terminate();
      call.fail({ code: 31920, message: outcome.why }, { by: 'server', code: 0, reason: `${outcome.why} (31920)` });
      return false;
    }
    call.begin(ws);
    return true;
  }

  /** Returns a sender of signed status callbacks for the events `opts.statusCallback` subscribes to. */
  private statusSender(opts: PlaceCallOptions, callSid: string, voice: Record<string, string>): (event: StatusEvent, callStatus: string) => void {
    const cb = opts.statusCallback;
    const events = new Set(cb?.events ?? ['completed']);
    let seq = 0;
    const startedAt = Date.now();
    return (event, callStatus) => {
      if (!cb || !events.has(event)) return;
      const params: Record<string, string> = {
        ...voice,
        CallStatus: callStatus,
        CallbackSource: 'call-progress-events',
        SequenceNumber: String(seq++),
        Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
      };
      if (event === 'completed') params.CallDuration = String(Math.round((Date.now() - startedAt) / 1000));
      const p = postSignedForm({ target: toLoopback(cb.url, opts.serverBase), signedUrl: cb.url, authToken: this.authToken, params }).then((r) =>
        this.statusCallbacks.push({ callSid, params, status: r.status }),
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    };
  }
}

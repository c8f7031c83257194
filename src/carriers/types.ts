/**
 * The carrier seam: a carrier's wire ⇄ these events and commands. The session never sees a wire
 * field name; a carrier codec never sees a session. See README.md "Architecture".
 */
import type { IncomingMessage } from 'node:http';
import type { Router } from 'express';
import type { AudioFormat } from '../audio/format';
import type { Config } from '../config';
import type { CallDirection, CallIdentity, CarrierName, ProviderName } from '../identity';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** Events parsed from one carrier wire message. */
export type CarrierEvent =
  | { type: 'connected' }
  | {
      type: 'start';
      callSid: string;
      streamSid: string;
      accountSid?: string;
      from?: string;
      to?: string;
      direction: CallDirection;
      /** Custom parameters (Twilio `<Parameter>`s): carries the per-call `token`. */
      params: Record<string, string>;
      format: AudioFormat;
      /** Problems the codec worked around (e.g. an unsupported rate replaced by the URL's); logged by the socket. */
      warnings?: string[];
      /** The carrier's rules for outbound media payloads (data; ../call/outbound-audio.ts applies them). None: any size, unpaced. */
      chunking?: OutboundChunking;
    }
  /** Caller audio in the carrier's native format; `timestampMs` = ms since stream start when known. */
  | { type: 'audio'; payload: Buffer; timestampMs?: number }
  /** A mark we sent came back: the audio queued before it has played (or was cleared). */
  | { type: 'mark'; name: string }
  | { type: 'dtmf'; digit: string }
  | { type: 'stop'; reason?: string };

/**
 * How a carrier wants agent audio cut and paced, declared as data by its codec (bytes of the stream's format).
 * Agent audio is forwarded in the chunks the provider sent, re-cut only to satisfy these rules.
 */
export interface OutboundChunking {
  /** Every media payload is a multiple of this many bytes (the last of an utterance is zero-padded up to it). */
  alignBytes: number;
  /** Smallest payload (bytes) sent while more audio of the utterance may follow. */
  minBytes: number;
  /** Largest payload (bytes); a multiple of `alignBytes`. */
  maxBytes: number;
  /** Ms of audio sent ahead of the estimated playout at most; none: sent as it arrives. */
  leadMs?: number;
  /**
   * True when the chunk playing as `clear` arrives still plays to its end: chunks are then cut no larger than
   * `minBytes`, so a barge-in is heard within one smallest chunk.
   */
  clearFinishesChunk?: boolean;
}

/** Commands the session sends to the carrier. */
export type CarrierCommand = { type: 'audio'; payload: Buffer } | { type: 'mark'; name: string } | { type: 'clear' };

/** An outbound call to place through a carrier's REST API. */
export interface PlaceCallRequest {
  /** E.164 number to call. */
  to: string;
  /** Caller ID (E.164); the carrier's configured number when omitted. */
  from?: string;
  /** URL the carrier requests when the callee answers (our `/outbound` webhook). */
  answerUrl: string;
  /** URL of our status-callback webhook for this carrier. */
  statusCallbackUrl: string;
}

/**
 * Call control on a carrier's REST API (or whatever the carrier allows instead). Implementations
 * throw CallbridgeError; "already ended" is not an error.
 */
export interface CallControl {
  /** Ends the call. Resolves false when the carrier says it had already ended. */
  hangup(callSid: string): Promise<boolean>;
  /** Sends the caller to `to` (E.164); the media stream then stops and the session ends without hanging up. */
  transfer(callSid: string, to: string): Promise<void>;
  /** Speaks `message` to the caller, then ends the call: a polite end when the agent is unavailable. */
  sayAndHangup(callSid: string, message: string): Promise<void>;
  /** Places an outbound call; resolves with the carrier's call SID. */
  placeCall(req: PlaceCallRequest): Promise<{ callSid: string }>;
}

/** Call control per carrier name. */
export type CallControls = Record<CarrierName, CallControl>;

/** Why a wire message could not be parsed: the label of `callbridge_bad_frames_total{reason}`. */
export type BadFrameReason = 'binary' | 'not_json' | 'unknown_event' | 'bad_shape' | 'oversized' | 'odd_length';

export type ParseResult = { ok: true; event: CarrierEvent } | { ok: false; reason: BadFrameReason };

/**
 * A carrier's stream wire as a pure codec (no sockets, no timers): one wire message in, one
 * typed event out; one command out, one wire message. `parse` never throws.
 */
export interface CarrierCodec {
  readonly name: CarrierName;
  parse(raw: Buffer | string, isBinary: boolean): ParseResult;
  /** Serialise for the stream whose id is `streamSid`. */
  serialize(cmd: CarrierCommand, streamSid: string): string;
}

/** The `start` event, as the media socket hands it to a carrier's stream rules. */
export type CarrierStartEvent = Extract<CarrierEvent, { type: 'start' }>;

/** A refusal of a media-stream upgrade: HTTP status, body text, and the `reason` label of the refusal metric. */
export interface UpgradeRefusal {
  status: number;
  text: string;
  reason: string;
}

/**
 * How the media socket treats one carrier's stream: authentication at the upgrade and at `start`,
 * the codec, and a hook to reach the live socket (for call control). Outbound framing is data
 * (`OutboundChunking` on `start`), applied by the session.
 */
export interface CarrierStream<Call = unknown> {
  readonly name: CarrierName;
  /** Before the handshake: undefined to accept, else the HTTP refusal. `url` is the request URL. */
  checkUpgrade(req: IncomingMessage, url: URL): UpgradeRefusal | undefined;
  /** The codec for a socket opened at `url`. */
  codec(url: URL): CarrierCodec;
  /** The answered call this `start` may take (token checked), or undefined: the socket is closed 1008. */
  claim(start: CarrierStartEvent, url: URL): Promise<Call | undefined>;
  /** A session started on this socket; returns the function called once the socket has closed. */
  attached?(callSid: string, close: (code: number, reason: string) => void): () => void;
}

/**
 * Why a call was refused when its webhook asked us to take it: `pending_limit` = MAX_PENDING_CALLS
 * answered calls are still waiting for their media socket; `busy` = MAX_CONCURRENT_CALLS live + waiting.
 * `duplicate` = a webhook for a call SID that is already live or recently ended (a replay: carriers never reuse one).
 */
export type RefusalReason = 'busy' | 'pending_limit' | 'draining' | 'budget' | 'duplicate';

/** What a carrier webhook asks the server to admit. */
export interface AdmitRequest extends CallIdentity {
  /** The carrier's audio format when known at the webhook (Exotel: PCM16 at the stream's sample rate). */
  carrierFormat?: AudioFormat;
  /** The operator's provider for this call (a placed call's options): wins over everything; a name not in the provider registry is ignored. */
  requestedProvider?: string;
  /**
   * A provider pinned by the webhook URL (`?provider=`). Set it only for an authenticated request
   * (signed Twilio, Exotel with EXOTEL_WEBHOOK_TOKEN); it never beats the kill switch (src/flags/precedence.ts).
   */
  urlProvider?: string;
  /** System prompt / first message overrides of a placed call. */
  prompt?: string;
  firstMessage?: string;
  /** The call SID was minted by callbridge (no carrier id came with the webhook): the token admits the stream of any call SID. */
  minted?: boolean;
}

/** The answer to an admission: a per-call token for the media stream and the provider chosen, or a refusal. */
export type Admission = { ok: true; token: string; provider: ProviderName } | { ok: false; reason: RefusalReason };

/** The carrier's view of a call, as its status callbacks told it. */
export interface CarrierCallStatus {
  carrier: CarrierName;
  /** Latest status by progress rank (Twilio `CallStatus` values; Exotel's are mapped onto them). */
  status: string;
  /** Order of the callback that set `status` (Twilio `SequenceNumber`). */
  sequence: number;
  /** Seconds, from the final callback (Twilio `CallDuration`, Exotel `ConversationDuration`). */
  durationS?: number;
  direction?: string;
  from?: string;
  to?: string;
  /** ISO 8601: when we applied the latest change. */
  updatedAt: string;
}

/** Where a carrier's status-callback route records what it parsed. */
export interface CarrierStatusSink {
  /** Apply one callback idempotently. @returns false when it was a replay or older than what is known. */
  apply(callSid: string, update: Omit<CarrierCallStatus, 'updatedAt'>): boolean;
}

/** What an operator asked for a call placed through `POST /api/calls`, applied when the carrier requests its answer URL. */
export interface PlacedCallOptions {
  provider?: ProviderName;
  prompt?: string;
  firstMessage?: string;
}

/**
 * What the server hands a carrier when it builds it. `Call` is the server's admitted-call record,
 * opaque to the carrier: it only passes it from `claim` to its stream rules.
 */
export interface CarrierDeps<Call = unknown> {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  /** Admit a call (limits, drain, provider routing, per-call token, provider set-up). Never throws. */
  admit(req: AdmitRequest): Promise<Admission>;
  /**
   * Admit the media stream of `callSid` by its self-verifying token, on whichever process or instance the
   * socket landed; a token admits one stream. `format` is the stream's audio format (for a provider set-up
   * started here). Resolves undefined for a missing, forged, expired or reused token.
   */
  claim(callSid: string, token: string | undefined, format?: AudioFormat): Promise<Call | undefined>;
  /** Small values every process and instance of the deployment sees (e.g. a transfer destination read by a later webhook). */
  shared?: {
    set(key: string, value: string, ttlMs: number): Promise<void>;
    get(key: string): Promise<string | undefined>;
  };
  /** The carrier status book its status-callback route writes to. */
  statuses: CarrierStatusSink;
  /** The options of a call placed through `POST /api/calls`, by the request id its answer URL carries (taken once). */
  placedCall(rid: string): Promise<PlacedCallOptions | undefined>;
}

/** One carrier as a server uses it: the media-stream rules, call control, webhooks and URLs of placed calls. */
export interface Carrier<Call = unknown> {
  readonly name: CarrierName;
  /** The rules of `WS /media-stream?carrier=<name>`. */
  readonly stream: CarrierStream<Call>;
  /** Call control (REST, or what the carrier allows instead). */
  readonly control: CallControl;
  /** The carrier's HTTP webhooks (voice answer, status callbacks…), mounted before the JSON body parser. */
  readonly routes: Router;
  /** The URL the carrier requests when a call placed with request id `rid` is answered. */
  answerUrl(rid: string): string;
  /** The status-callback URL given to the carrier for calls placed through it. */
  statusCallbackUrl(): string;
}

/** A registry entry (src/carriers/index.ts): one per carrier folder. */
export interface CarrierModule {
  readonly name: CarrierName;
  create<Call>(deps: CarrierDeps<Call>): Carrier<Call>;
}

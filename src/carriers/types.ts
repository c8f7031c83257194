/**
 * The carrier seam: a carrier's wire ⇄ these events and commands. The session never sees a wire
 * field name; a carrier codec never sees a session. See ../shared/ARCHITECTURE.md.
 */
import type { IncomingMessage } from 'node:http';
import type { AudioFormat } from '../audio/format';
import type { PendingCall } from '../call/pending';

export type CarrierName = 'twilio' | 'exotel';
export type CallDirection = 'inbound' | 'outbound';

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
    }
  /** Caller audio in the carrier's native format; `timestampMs` = ms since stream start when known. */
  | { type: 'audio'; payload: Buffer; timestampMs?: number }
  /** A mark we sent came back: the audio queued before it has played (or was cleared). */
  | { type: 'mark'; name: string }
  | { type: 'dtmf'; digit: string }
  | { type: 'stop'; reason?: string };

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

/** Call control per carrier; a carrier without credentials may be absent. */
export type CallControls = Partial<Record<CarrierName, CallControl>>;

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

/** Outbound framing between the session and the wire (e.g. Exotel's 320-byte chunks and pacing). */
export interface CarrierSink {
  send(cmd: CarrierCommand): void;
  /** A mark came back from the carrier (its audio has played). */
  echoed?(name: string): void;
  close(): void;
}

/**
 * How the media socket treats one carrier's stream: authentication at the upgrade and at `start`,
 * the codec, optional outbound framing, and a hook to reach the live socket (for call control).
 */
export interface CarrierStream {
  readonly name: CarrierName;
  /** Before the handshake: undefined to accept, else the HTTP refusal. `url` is the request URL. */
  checkUpgrade(req: IncomingMessage, url: URL): UpgradeRefusal | undefined;
  /** The codec for a socket opened at `url`. */
  codec(url: URL): CarrierCodec;
  /** The answered call this `start` may take (token checked), or undefined: the socket is closed 1008. */
  claim(start: CarrierStartEvent, url: URL): PendingCall | undefined;
  /** Wrap the wire writer with carrier framing; without it each command is one wire message. */
  outbound?(start: CarrierStartEvent, write: (cmd: CarrierCommand) => void): CarrierSink;
  /** A session started on this socket; returns the function called once the socket has closed. */
  attached?(callSid: string, close: (code: number, reason: string) => void): () => void;
}

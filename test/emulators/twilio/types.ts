/**
 * Records and events of an emulated Twilio call (see ./call.ts). Times are wall ms since `start` was
 * sent unless a name says otherwise; audio sizes are μ-law bytes (8 per ms at 8 kHz).
 */
import type { OutboundMessage, Violation } from './outbound-check';
import type { ParsedTwiml } from './twiml';

/** How the media stream ended. `code`/`reason` are the WebSocket close code and reason (0 when no socket opened). */
export interface ClosedInfo {
  by: 'server' | 'carrier';
  code: number;
  reason: string;
}

/** A valid message received from the server; `atMs` = wall ms since `start` was sent. */
export interface Received {
  atMs: number;
  msg: OutboundMessage;
}

/** A mark the server sent and (once played or cleared) the echo Twilio sent back. */
export interface MarkRecord {
  name: string;
  /** Wall ms since `start` when the server's mark arrived. */
  sentAtMs: number;
  /** Wall ms since `start` when the emulator echoed it. */
  echoedAtMs?: number;
  /** True when the echo was caused by `clear` rather than playout. */
  cleared?: boolean;
}

/** A `clear` the server sent: when, how much queued audio it discarded (bytes, 8 per ms) and the marks it flushed. */
export interface ClearRecord {
  atMs: number;
  discardedBytes: number;
  marks: string[];
}

/** A Twilio debugger error the emulator raised for the call (11200, 12100, 31920, …). */
export interface CarrierError {
  code: number;
  message: string;
}

export interface CallEvents {
  message: [r: Received];
  mark: [m: MarkRecord];
  clear: [c: ClearRecord];
  violation: [v: Violation];
  /** Agent audio started playing after idle; `idleMs` = wall ms since the last playout ended (Infinity at first). */
  'playout-start': [atMs: number, idleMs: number];
  'playout-end': [atMs: number, endedBy: 'drained' | 'clear' | 'closed'];
  /** Every queued caller clip has been sent; only silence frames follow. */
  'caller-idle': [atMs: number];
  closed: [info: ClosedInfo];
}

/** Identity and set-up of a call, filled in by the carrier emulator before the stream starts. */
export interface CallSetup {
  callSid: string;
  accountSid: string;
  streamSid: string;
  direction: 'inbound' | 'outbound-api';
  from: string;
  to: string;
  speed: number;
  twiml: ParsedTwiml & { raw: string; dialUrl?: string; droppedQuery?: string };
  webhook: { url: string; status: number; latencyMs: number; params: Record<string, string> };
}

/**
 * Call control as the admin API sees it: every live call of the deployment, wherever it runs.
 * One instance: the local registry. With REDIS_URL: the registries of all instances, joined through
 * Redis keys (listing) and pub/sub (hang-up and transfer carried out by the instance holding the call).
 */
import type { CallRecord } from '../call/call-record';
import type { ProviderName } from '../identity';

/** A live call's record plus the instance that holds its media socket. */
export type LiveCallInfo = CallRecord & { instanceId: string };

/** What happened to a control request: done, no such live call, or the carrier refused (message). */
export type ControlResult = { ok: true } | { ok: false; reason: 'not_found' } | { ok: false; reason: 'failed'; message: string };

export interface CallDirectory {
  readonly instanceId: string;
  /** Live calls of every instance. */
  active(): Promise<LiveCallInfo[]>;
  /** A live call of any instance, else undefined. */
  findLive(callSid: string): Promise<LiveCallInfo | undefined>;
  /** End a live call (REST hang-up, then the session ends). */
  hangup(callSid: string, reason: string): Promise<ControlResult>;
  /** Transfer a live call to `to` (E.164). */
  transfer(callSid: string, to: string, reason: string): Promise<ControlResult>;
  close(): Promise<void>;
}

/** What an operator asked for an outbound call, applied when the carrier requests `/outbound`. */
export interface OutboundOptions {
  provider?: ProviderName;
  prompt?: string;
  firstMessage?: string;
}

/** Options of placed calls, keyed by a request id carried in the answer URL (`?rid=`). */
export interface OutboundOptionsStore {
  put(rid: string, opts: OutboundOptions): Promise<void>;
  /** Take (and forget) the options of `rid`; undefined when unknown or expired. */
  take(rid: string): Promise<OutboundOptions | undefined>;
}

/**
 * Single use of media tokens across the deployment: a call's token admits one media socket, on
 * whichever process or instance it lands, and the process that answered the webhook learns that its
 * pending call was taken elsewhere.
 */
export interface TokenLedger {
  /** Record the token of `callSid` as used for `ttlMs` (its remaining validity); false when it was used already. */
  claimOnce(callSid: string, ttlMs: number): Promise<boolean>;
  /** Called with the call SID of every claim made on another process or instance. */
  onClaimed(listener: (callSid: string) => void): void;
}

/** Small values shared by every process and instance of the deployment (e.g. an Exotel transfer destination for the Connect applet's request). */
export interface SharedValues {
  /** Keep `value` under `key` for `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value under `key`, not consumed (a retried request gets the same answer); undefined when unknown or expired. */
  get(key: string): Promise<string | undefined>;
}

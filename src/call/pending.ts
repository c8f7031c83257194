/**
 * Calls answered by this process whose media socket has not started yet. The webhook issues a
 * self-verifying per-call token (./call-token.ts; sent in a TwiML `<Parameter>`, docs/protocols/twilio.md#twiml-connect-stream)
 * and starts the provider's HTTP set-up at once, so the caller does not wait for it when the socket
 * arrives here. A socket that lands on another process or instance is admitted by its token alone and
 * sets its provider up itself; this process then forgets the call (`drop`, on the deployment's claim notice).
 *
 * A pending call is valid until its socket deadline (`ttlMs`, PENDING_CALL_TTL_S) after it was
 * answered: past it, it is no longer counted (`size`), cannot be claimed, and is swept away. Admission
 * limits (MAX_PENDING_CALLS), the drain and the media-socket upgrade during a drain all read `size`,
 * so they share that one notion of a still-valid pending call.
 */
import type { PreparedProvider } from '../providers/types';
import type { CallIdentity, ProviderName } from '../identity';

export interface PendingCall extends CallIdentity {
  token: string;
  provider: ProviderName;
  flagSource: string;
  prompt?: string;
  firstMessage?: string;
  /** The provider's set-up (signed URL), started when the webhook was answered. Never rejects. */
  prepared: Promise<PreparedProvider | Error>;
  createdAtMs: number;
}

export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  /** Called after a call is added, taken or dropped (a cluster worker reports its load to the primary). */
  onChange?: () => void;
  private readonly timer: NodeJS.Timeout;

  /**
   * @param ttlMs how long an answered call may wait for its media socket (ms).
   * @param now the clock (ms since the epoch) that `createdAtMs` is read against.
   */
  constructor(
    readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.min(ttlMs, 10_000));
    this.timer.unref();
  }

  add(call: PendingCall): void {
    this.calls.set(call.callSid, call);
    this.onChange?.();
  }

  /** The pending call `callSid` while inside its socket deadline, without taking it (a repeated webhook). */
  get(callSid: string): PendingCall | undefined {
    const call = this.calls.get(callSid);
    return call && !this.expired(call) ? call : undefined;
  }

  /** Pending calls still inside their socket deadline (expired ones are dropped first). */
  get size(): number {
    this.sweep();
    return this.calls.size;
  }

  /**
   * Take the pending call `callSid` (its token has been verified by the caller); a taken call cannot be
   * taken twice. Returns undefined for an unknown or expired call.
   */
  take(callSid: string): PendingCall | undefined {
    const call = this.get(callSid);
    if (this.calls.delete(callSid)) this.onChange?.();
    return call;
  }

  /** Forget `callSid`: its socket was claimed by another process or instance. */
  drop(callSid: string): void {
    if (this.calls.delete(callSid)) this.onChange?.();
  }

  private expired(c: PendingCall): boolean {
    return this.now() - c.createdAtMs > this.ttlMs;
  }

  private sweep(): void {
    for (const [sid, c] of this.calls) if (this.expired(c)) this.calls.delete(sid);
  }

  close(): void {
    clearInterval(this.timer);
    this.calls.clear();
  }
}

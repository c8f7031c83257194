/**
 * Live calls of this process plus a bounded memory of recently ended ones (until the store lands).
 * Emits `idle` when the last live call ends (graceful drain waits for it).
 */
import { EventEmitter } from 'node:events';
import type { CallRecord } from './call-record';

/** What the registry needs of a live session. */
export interface LiveCall {
  readonly callSid: string;
  snapshot(): CallRecord;
  /** End the call from our side (admin hang-up, drain). */
  hangup(reason: string): Promise<void>;
  /** Send the caller to `to` (E.164); throws when the carrier refuses. */
  transfer(to: string, reason: string): Promise<void>;
  /** Say `message`, then end the call (drain). */
  endWithMessage(message: string, reason: string): Promise<void>;
}

export class CallRegistry extends EventEmitter<{ idle: []; added: [LiveCall]; ended: [CallRecord] }> {
  private readonly live = new Map<string, LiveCall>();
  private readonly recent = new Map<string, CallRecord>();

  /** @param keepEnded how many ended calls to remember (oldest dropped first). */
  constructor(private readonly keepEnded = 500) {
    super();
  }

  get size(): number {
    return this.live.size;
  }

  add(call: LiveCall): void {
    this.live.set(call.callSid, call);
    this.emit('added', call);
  }

  /** Remove a live call and remember its final record. */
  end(record: CallRecord): void {
    if (!this.live.delete(record.callSid)) return;
    this.recent.delete(record.callSid);
    this.recent.set(record.callSid, record);
    while (this.recent.size > this.keepEnded) this.recent.delete(this.recent.keys().next().value!);
    this.emit('ended', record);
    if (this.live.size === 0) this.emit('idle');
  }

  getLive(callSid: string): LiveCall | undefined {
    return this.live.get(callSid);
  }

  /** A live call's current record, else a recently ended one. */
  find(callSid: string): CallRecord | undefined {
    return this.live.get(callSid)?.snapshot() ?? this.recent.get(callSid);
  }

  /** The live calls themselves (drain, cluster heartbeat). */
  liveCalls(): LiveCall[] {
    return [...this.live.values()];
  }

  active(): CallRecord[] {
    return [...this.live.values()].map((c) => c.snapshot());
  }
}

/**
 * The carriers' status callbacks, applied idempotently: a replayed or late callback never moves a call
 * backwards (queued → initiated → ringing → in-progress → a final status; the first final status wins).
 * Every carrier's status route writes here (CarrierStatusSink); the admin API and the unbridged-call
 * recorder read it.
 * Status values: https://www.twilio.com/docs/voice/api/call-resource#call-status-values.
 */
import type { CarrierCallStatus, CarrierStatusSink } from '../carriers/types';

export type { CarrierCallStatus };

/** Progress rank of a carrier call status; every final status shares the top rank. */
const RANK: Record<string, number> = { queued: 0, initiated: 1, ringing: 2, 'in-progress': 3, completed: 4, busy: 4, 'no-answer': 4, failed: 4, canceled: 4 };

/** In-memory book of carrier call statuses (bounded); `apply` reports whether anything changed. */
export class CarrierStatusBook implements CarrierStatusSink {
  private readonly byCall = new Map<string, CarrierCallStatus>();
  private readonly listeners: Array<(callSid: string, s: CarrierCallStatus) => void> = [];

  constructor(private readonly keep = 5000) {}

  get(callSid: string): CarrierCallStatus | undefined {
    return this.byCall.get(callSid);
  }

  /** Called after each change (e.g. to write the `calls` row). */
  onChange(fn: (callSid: string, s: CarrierCallStatus) => void): void {
    this.listeners.push(fn);
  }

  /** Apply one callback. @returns false when it was a replay or older than what we know. */
  apply(callSid: string, update: Omit<CarrierCallStatus, 'updatedAt'>): boolean {
    const cur = this.byCall.get(callSid);
    const rank = RANK[update.status] ?? -1;
    if (rank < 0) return false;
    if (cur) {
      const curRank = RANK[cur.status] ?? -1;
      if (rank < curRank || (rank === curRank && (curRank === 4 || update.sequence <= cur.sequence))) return false;
    }
    const next = { ...cur, ...stripUndefined(update), updatedAt: new Date().toISOString() } as CarrierCallStatus;
    this.byCall.delete(callSid);
    this.byCall.set(callSid, next);
    while (this.byCall.size > this.keep) this.byCall.delete(this.byCall.keys().next().value!);
    for (const fn of this.listeners) fn(callSid, next);
    return true;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

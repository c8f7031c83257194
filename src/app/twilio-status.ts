/**
 * `POST /webhooks/twilio/status`: Twilio call-progress callbacks (signed with X-Twilio-Signature over
 * the StatusCallback URL, 403 when wrong). Applied idempotently: a replayed or late callback never
 * moves a call backwards (queued → initiated → ringing → in-progress → a final status; the first final
 * status wins). Answers 204.
 * Sources: https://www.twilio.com/docs/voice/api/call-resource#statuscallback,
 * https://www.twilio.com/docs/voice/twiml#callstatus-values (spec/twilio.md §6.4).
 */
import express, { Router } from 'express';
import { webhookSignatureOk, webhookUrl } from '../carriers/twilio/signature';
import type { CarrierName } from '../carriers/types';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** Progress rank of a carrier call status; every final status shares the top rank. */
const RANK: Record<string, number> = { queued: 0, initiated: 1, ringing: 2, 'in-progress': 3, completed: 4, busy: 4, 'no-answer': 4, failed: 4, canceled: 4 };

/** The carrier's view of a call, as the status callbacks told it. */
export interface CarrierCallStatus {
  carrier: CarrierName;
  /** Latest status by progress rank (`CallStatus`). */
  status: string;
  /** `SequenceNumber` of the callback that set `status`. */
  sequence: number;
  /** Seconds, from the final callback (`CallDuration`). */
  durationS?: number;
  direction?: string;
  from?: string;
  to?: string;
  /** ISO 8601: when we applied the latest change. */
  updatedAt: string;
}

/** In-memory book of carrier call statuses (bounded); `apply` reports whether anything changed. */
export class CarrierStatusBook {
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

export interface StatusRouteDeps {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  book: CarrierStatusBook;
}

export function twilioStatusRouter({ cfg, log, metrics, book }: StatusRouteDeps): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  r.post('/webhooks/twilio/status', form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, string>;
    if (!cfg.TWILIO_SKIP_SIGNATURE) {
      const url = webhookUrl(cfg.PUBLIC_URL, req.originalUrl);
      if (!webhookSignatureOk(cfg.TWILIO_AUTH_TOKEN!, req.header('x-twilio-signature'), url, body)) {
        log.warn({ url }, 'status callback with a bad X-Twilio-Signature: 403');
        res.status(403).type('text/plain').send('Twilio Request Validation Failed.');
        return;
      }
    }
    if (!body.CallSid || !body.CallStatus) {
      res.status(400).type('text/plain').send('CallSid and CallStatus are required');
      return;
    }
    const seq = Number(body.SequenceNumber);
    const duration = Number(body.CallDuration);
    const changed = book.apply(body.CallSid, {
      carrier: 'twilio',
      status: body.CallStatus,
      sequence: Number.isFinite(seq) ? seq : 0,
      durationS: body.CallDuration !== undefined && Number.isFinite(duration) ? duration : undefined,
      direction: body.Direction,
      from: body.From,
      to: body.To,
    });
    if (changed) metrics.statusCallbacksTotal.inc({ carrier: 'twilio', status: body.CallStatus });
    log.info({ callSid: body.CallSid, status: body.CallStatus, sequence: body.SequenceNumber, applied: changed }, 'status callback');
    res.status(204).end();
  });
  return r;
}

/**
 * What a database implementation does, without durability: the journaled store (store.ts) adds
 * the local journal, the drainer and the retries on top. Every method throws StoreError; a
 * `retryable` one (connectivity/server) is worth trying again.
 */
import type { AppointmentInput, AppointmentRow, CallRow, CallSummary, EmailRow, LeadInput, PostCallEventRow, TurnRow } from './types';

export type EmailPatch = Partial<Pick<EmailRow, 'status' | 'provider_message_id'>>;

export interface Backend {
  readonly kind: 'supabase' | 'embedded';
  /** Upsert on call_sid (every column of the row is written). */
  upsertCalls(rows: CallRow[]): Promise<void>;
  /** Upsert on (call_sid, seq); rows have distinct keys. */
  upsertTurns(rows: TurnRow[]): Promise<void>;
  updateEmail(idempotencyKey: string, patch: EmailPatch): Promise<void>;
  /** Upsert on (conversation_id, type). */
  upsertPostCallEvent(row: PostCallEventRow): Promise<void>;
  insertLead(lead: LeadInput): Promise<{ id: string }>;
  insertAppointment(a: AppointmentInput): Promise<{ ok: true; id: string } | { ok: false; reason: 'overlap' }>;
  appointmentsBetween(fromIso: string, toIso: string): Promise<AppointmentRow[]>;
  claimEmail(row: EmailRow): Promise<boolean>;
  getCall(callSid: string): Promise<{ call: CallRow; turns: TurnRow[] } | undefined>;
  callsBetween(fromIso: string, toIso: string): Promise<CallSummary[]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Times as ISO 8601 UTC (`…Z`), whatever the driver returned (Date, `+00:00` text). */
export function isoTime(v: unknown): string {
  return new Date(v as string | Date).toISOString();
}

export function isoTimeOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : isoTime(v);
}

/** Normalise a `calls` row read from either database. */
export function toCallRow(r: Record<string, unknown>): CallRow {
  return {
    call_sid: r.call_sid as string,
    carrier: r.carrier as CallRow['carrier'],
    direction: r.direction as CallRow['direction'],
    from_number: (r.from_number as string | null) ?? null,
    to_number: (r.to_number as string | null) ?? null,
    provider: r.provider as CallRow['provider'],
    flag_source: r.flag_source as string,
    status: r.status as string,
    started_at: isoTime(r.started_at),
    answered_at: isoTimeOrNull(r.answered_at),
    ended_at: isoTimeOrNull(r.ended_at),
    end_reason: (r.end_reason as string | null) ?? null,
    conversation_id: (r.conversation_id as string | null) ?? null,
    metrics: (r.metrics as Record<string, unknown>) ?? {},
  };
}

/** Normalise a `transcript_turns` row (numbers may come back as strings). */
export function toTurnRow(r: Record<string, unknown>): TurnRow {
  return {
    call_sid: r.call_sid as string,
    seq: Number(r.seq),
    role: r.role as TurnRow['role'],
    text: r.text as string,
    interrupted: Boolean(r.interrupted),
    at_ms: Number(r.at_ms),
  };
}

/** Normalise an `appointments` row (times to ISO 8601 UTC). */
export function toAppointmentRow(r: Record<string, unknown>): AppointmentRow {
  return {
    id: r.id as string,
    call_sid: (r.call_sid as string | null) ?? null,
    lead_id: (r.lead_id as string | null) ?? null,
    calendar_event_id: (r.calendar_event_id as string | null) ?? null,
    start_at: isoTime(r.start_at),
    end_at: isoTime(r.end_at),
    timezone: r.timezone as string,
    name: r.name as string,
    phone: (r.phone as string | null) ?? null,
    email: (r.email as string | null) ?? null,
    notes: (r.notes as string | null) ?? null,
    status: r.status as AppointmentRow['status'],
    created_at: isoTime(r.created_at),
  };
}

/** Normalise a `calls_between()` row: the call plus lead and booking counts. */
export function toCallSummary(r: Record<string, unknown>): CallSummary {
  return { ...toCallRow(r), leads: Number(r.leads), bookings: Number(r.bookings) };
}

/** Column lists shared by both implementations (the `columns` of every insert). */
export const CALL_COLUMNS = [
  'call_sid',
  'carrier',
  'direction',
  'from_number',
  'to_number',
  'provider',
  'flag_source',
  'status',
  'started_at',
  'answered_at',
  'ended_at',
  'end_reason',
  'conversation_id',
  'metrics',
] as const;
export const TURN_COLUMNS = ['call_sid', 'seq', 'role', 'text', 'interrupted', 'at_ms'] as const;

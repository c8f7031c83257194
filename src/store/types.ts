/**
 * The store: one interface, two implementations (Supabase through supabase-js, and the embedded
 * PGlite default under DATA_DIR), same schema (the tables of migrations/0001_init.sql).
 *
 * Durability: every write method journals locally first and resolves once the write is in the local
 * journal; the journal is drained to the database with idempotent upserts, retried with backoff until
 * acknowledged, and replayed after a restart. Reads go to the database.
 *
 * Row fields use the column names (snake_case) so a row is what PostgREST returns.
 */
import type { CallDirection, CarrierName, ProviderName } from '../identity';

/** `calls` row. Times are ISO 8601 strings. */
export interface CallRow {
  call_sid: string;
  carrier: CarrierName;
  direction: CallDirection;
  from_number: string | null;
  to_number: string | null;
  provider: ProviderName;
  /** Where the provider decision came from: `env`, `unleash`, `request`, … */
  flag_source: string;
  status: string;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  conversation_id: string | null;
  /** Timings (ms) and counters: firstAgentAudioMs, providerReadyMs, bargeIns, failovers, … */
  metrics: Record<string, unknown>;
}

/**
 * `transcript_turns` row. `seq` is the turn's arrival number within the call (1-based, never
 * renumbered), so a retried write is idempotent on (call_sid, seq); spoken order is `at_ms`.
 */
export interface TurnRow {
  call_sid: string;
  seq: number;
  role: 'user' | 'agent';
  text: string;
  interrupted: boolean;
  /** Ms since the call started when the turn started. */
  at_ms: number;
}

export interface LeadInput {
  call_sid: string | null;
  name: string;
  phone: string | null;
  email: string | null;
  company: string | null;
  need: string | null;
}

export interface AppointmentInput {
  call_sid: string | null;
  lead_id: string | null;
  calendar_event_id: string | null;
  /** ISO 8601 with offset. */
  start_at: string;
  end_at: string;
  /** IANA zone, e.g. Asia/Kolkata. */
  timezone: string;
  name: string;
  phone: string | null;
  email: string | null;
  notes: string | null;
}

export interface AppointmentRow extends AppointmentInput {
  id: string;
  status: 'confirmed' | 'cancelled';
  created_at: string;
}

export interface EmailRow {
  kind: 'confirmation' | 'digest';
  recipient: string;
  subject: string;
  /** Unique: one email per key (e.g. `digest:2026-11-23`, `confirmation:<appointment id>`). */
  idempotency_key: string;
  status: 'pending' | 'sent' | 'outbox' | 'failed';
  provider_message_id: string | null;
}

export interface PostCallEventRow {
  conversation_id: string;
  call_sid: string | null;
  type: string;
  /** Unix seconds, from the webhook. */
  event_timestamp: number;
  payload: Record<string, unknown>;
}

/** One call with what the cohort report and the digest need. */
export interface CallSummary extends CallRow {
  leads: number;
  bookings: number;
}

export interface Store {
  readonly kind: 'supabase' | 'embedded';
  /** Insert or update the call row by call_sid (journaled). */
  saveCall(row: CallRow): Promise<void>;
  /** Append turns (journaled; idempotent on (call_sid, seq)). */
  saveTurns(turns: TurnRow[]): Promise<void>;
  /** Insert a lead; resolves with its id once stored in the database. */
  saveLead(lead: LeadInput): Promise<{ id: string }>;
  /**
   * Insert a confirmed appointment unless it overlaps a confirmed one (the database constraint
   * decides, so two concurrent callers cannot both win).
   */
  bookAppointment(a: AppointmentInput): Promise<{ ok: true; id: string } | { ok: false; reason: 'overlap' }>;
  /** Confirmed appointments overlapping [from, to). */
  appointmentsBetween(fromIso: string, toIso: string): Promise<AppointmentRow[]>;
  /** Insert the email row if its idempotency_key is new; false when it already exists. */
  claimEmail(row: EmailRow): Promise<boolean>;
  /** Update status / provider_message_id of the email with this key. */
  updateEmail(idempotencyKey: string, patch: Partial<Pick<EmailRow, 'status' | 'provider_message_id'>>): Promise<void>;
  savePostCallEvent(row: PostCallEventRow): Promise<void>;
  /** One call with its turns in spoken order (at_ms, then seq). */
  getCall(callSid: string): Promise<{ call: CallRow; turns: TurnRow[] } | undefined>;
  /** Calls started in [from, to) with lead and booking counts. */
  callsBetween(fromIso: string, toIso: string): Promise<CallSummary[]>;
  /** True when the database answers (for /ready). */
  healthy(): Promise<boolean>;
  /** Wait until the journal is drained or `timeoutMs` passes; resolves with entries still pending. */
  flush(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

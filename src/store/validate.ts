/**
 * Input checks before anything is journaled or sent: a bad row fails at once with a clear
 * StoreError (category bad_request) naming the field, instead of poisoning the journal.
 */
import { z } from 'zod';
import { StoreError } from './errors';
import type { AppointmentInput, CallRow, EmailRow, LeadInput, PostCallEventRow, TurnRow } from './types';

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 time');
const isoOrNull = iso.nullable();
const text = z.string().nullable();

const Call = z.object({
  call_sid: z.string().min(1),
  carrier: z.string().min(1),
  direction: z.enum(['inbound', 'outbound']),
  from_number: text,
  to_number: text,
  provider: z.string().min(1),
  flag_source: z.string().min(1),
  status: z.string().min(1),
  started_at: iso,
  answered_at: isoOrNull,
  ended_at: isoOrNull,
  end_reason: text,
  conversation_id: text,
  metrics: z.record(z.string(), z.unknown()),
});
/** PostgreSQL text cannot hold U+0000 (SQLSTATE 22P05): refused here, with the field named. */
const pgText = z.string().refine((s) => !s.includes('\u0000'), 'contains a NUL character (U+0000), which PostgreSQL text cannot store');
const Turn = z.object({
  call_sid: z.string().min(1),
  seq: z.number().int().min(1),
  role: z.enum(['user', 'agent']),
  text: pgText,
  interrupted: z.boolean(),
  at_ms: z.number().int().min(0),
});
const Lead = z.object({ call_sid: text, name: z.string().trim().min(1), phone: text, email: text, company: text, need: text });
const Appointment = z
  .object({
    call_sid: text,
    lead_id: text,
    calendar_event_id: text,
    start_at: iso,
    end_at: iso,
    timezone: z.string().min(1),
    name: z.string().trim().min(1),
    phone: text,
    email: text,
    notes: text,
  })
  .refine((a) => Date.parse(a.end_at) > Date.parse(a.start_at), { message: 'end_at must be after start_at', path: ['end_at'] });
const Email = z.object({
  kind: z.enum(['confirmation', 'digest']),
  recipient: z.string().min(1),
  subject: z.string(),
  idempotency_key: z.string().min(1),
  status: z.enum(['pending', 'sent', 'outbox', 'failed']),
  provider_message_id: text,
});
const EmailPatch = z.object({ status: Email.shape.status.optional(), provider_message_id: text.optional() });
const PostCall = z.object({
  conversation_id: z.string().min(1),
  call_sid: text,
  type: z.string().min(1),
  event_timestamp: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
});

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const where = r.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ');
  throw new StoreError('CB_STORE_BAD_INPUT', `${what}: ${where}`, 'bad_request');
}

/** Each throws StoreError `CB_STORE_BAD_INPUT` (bad_request) naming the bad fields. */
export const validate = {
  call: (v: CallRow) => check(Call, v, 'calls row') as CallRow,
  turns: (v: TurnRow[]) => check(z.array(Turn), v, 'transcript_turns rows') as TurnRow[],
  lead: (v: LeadInput) => check(Lead, v, 'lead') as LeadInput,
  appointment: (v: AppointmentInput) => check(Appointment, v, 'appointment') as AppointmentInput,
  email: (v: EmailRow) => check(Email, v, 'emails row') as EmailRow,
  emailPatch: (v: Partial<Pick<EmailRow, 'status' | 'provider_message_id'>>) => check(EmailPatch, v, 'email update'),
  postCall: (v: PostCallEventRow) => check(PostCall, v, 'post_call_events row') as PostCallEventRow,
  range: (from: string, to: string) => check(z.object({ from: iso, to: iso }), { from, to }, 'time range'),
};

/**
 * Supabase implementation through @supabase/supabase-js 2.109.0 with the service-role key (row
 * level security is on for every table; the service role bypasses it). On Node 20 `createClient`
 * throws "Node.js 20 detected without native WebSocket support" unless realtime gets a WebSocket
 * constructor, even when realtime is never used, so `ws` is passed (@supabase/realtime-js@2.109.0
 * dist/main/lib/websocket-factory.js line 103).
 *
 * supabase-js never throws: every result is `{ data, error, status }`; failures become StoreErrors
 * here: network failure (status 0), 5xx, 408 and 429 are retryable, SQLSTATE 23P01 (exclusion
 * violation, which PostgREST answers with 400 as an unlisted code) is an overlapping booking, other 4xx
 * are bad requests (https://docs.postgrest.org/en/latest/references/errors.html; docs/protocols/postgrest.md#errors).
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { toAppointmentRow, toCallRow, toCallSummary, toTurnRow, type Backend, type EmailPatch } from './backend';
import { StoreError, transientSqlState } from './errors';
import type { AppointmentInput, CallRow, EmailRow, LeadInput, PostCallEventRow, TurnRow } from './types';

/** Per-request timeout (ms): a hung connection counts as a failed try. */
const REQUEST_TIMEOUT_MS = 10_000;

interface PgrstResult<T> {
  data: T | null;
  error: { code?: string; message: string; details?: string | null; hint?: string | null } | null;
  status: number;
}

/** Turn a supabase-js result into data, or throw the matching StoreError. */
function unwrap<T>(r: PgrstResult<T>, what: string): T {
  if (!r.error) return r.data as T;
  const code = r.error.code || undefined;
  const transient = r.status === 0 || r.status >= 500 || r.status === 408 || r.status === 429 || transientSqlState(code);
  const detail = [r.error.message, r.error.details].filter(Boolean).join(': ');
  return (() => {
    throw new StoreError(
      transient ? 'CB_STORE_UNREACHABLE' : 'CB_STORE_REJECTED',
      `${what}: HTTP ${r.status} ${code ?? ''} ${detail}`.replace(/\s+/g, ' '),
      transient ? (r.status === 0 ? 'connectivity' : 'server') : 'bad_request',
      code,
    );
  })();
}

/** Backend on supabase-js (PostgREST at `<url>/rest/v1`); throws StoreError (see `unwrap`). */
export class SupabaseStore implements Backend {
  readonly kind = 'supabase' as const;
  private readonly db: SupabaseClient;

  /**
   * @param url the project URL, e.g. https://abcd.supabase.co (REST under /rest/v1)
   * @param serviceRoleKey the service-role secret
   */
  constructor(url: string, serviceRoleKey: string) {
    this.db = createClient(url, serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      db: { schema: 'public' },
      realtime: { transport: WebSocket as unknown as never },
      global: { fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) }) },
    });
  }

  async upsertCalls(rows: CallRow[]): Promise<void> {
    unwrap(await this.db.from('calls').upsert(rows, { onConflict: 'call_sid' }), 'save calls');
  }

  async upsertTurns(rows: TurnRow[]): Promise<void> {
    unwrap(await this.db.from('transcript_turns').upsert(rows, { onConflict: 'call_sid,seq' }), 'save turns');
  }

  async updateEmail(key: string, patch: EmailPatch): Promise<void> {
    unwrap(
      await this.db
        .from('emails')
        .update({ ...patch, updated_at: new Date().toISOString() })
        .eq('idempotency_key', key),
      'update email',
    );
  }

  async upsertPostCallEvent(row: PostCallEventRow): Promise<void> {
    unwrap(await this.db.from('post_call_events').upsert(row, { onConflict: 'conversation_id,type' }), 'save post-call event');
  }

  async insertLead(lead: LeadInput): Promise<{ id: string }> {
    return unwrap(await this.db.from('leads').insert(lead).select('id').single(), 'save lead') as { id: string };
  }

  async insertAppointment(a: AppointmentInput): Promise<{ ok: true; id: string } | { ok: false; reason: 'overlap' }> {
    const r = await this.db
      .from('appointments')
      .insert({ ...a, status: 'confirmed' })
      .select('id')
      .single();
    if (r.error?.code === '23P01') return { ok: false, reason: 'overlap' };
    return { ok: true, id: (unwrap(r, 'book appointment') as { id: string }).id };
  }

  async appointmentsBetween(fromIso: string, toIso: string) {
    const r = await this.db.from('appointments').select('*').eq('status', 'confirmed').lt('start_at', toIso).gt('end_at', fromIso).order('start_at');
    return (unwrap(r, 'read appointments') as Record<string, unknown>[]).map(toAppointmentRow);
  }

  async claimEmail(e: EmailRow): Promise<boolean> {
    const r = await this.db.from('emails').upsert(e, { onConflict: 'idempotency_key', ignoreDuplicates: true }).select('id');
    return (unwrap(r, 'claim email') as unknown[]).length === 1;
  }

  async getCall(callSid: string) {
    const calls = unwrap(await this.db.from('calls').select('*').eq('call_sid', callSid).limit(1), 'read call') as Record<string, unknown>[];
    if (!calls.length) return undefined;
    const turns = unwrap(
      await this.db.from('transcript_turns').select('call_sid,seq,role,text,interrupted,at_ms').eq('call_sid', callSid).order('at_ms').order('seq'),
      'read turns',
    ) as Record<string, unknown>[];
    return { call: toCallRow(calls[0]!), turns: turns.map(toTurnRow) };
  }

  async callsBetween(fromIso: string, toIso: string) {
    const r = await this.db.rpc('calls_between', { from_ts: fromIso, to_ts: toIso });
    return (unwrap(r, 'read calls') as Record<string, unknown>[]).map(toCallSummary);
  }

  /** One HEAD request, not retried (supabase-js would retry a read for ~7 s). */
  async ping(): Promise<void> {
    unwrap(await this.db.from('calls').select('call_sid', { head: true }).limit(1).retry(false), 'ping');
  }

  async close(): Promise<void> {
    await this.db.removeAllChannels();
  }
}

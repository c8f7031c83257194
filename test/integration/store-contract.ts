/**
 * Behaviour every Store implementation must show, run by store-embedded.test.ts (PGlite) and
 * store-supabase.test.ts (supabase-js → PostgREST test server → PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import type { AppointmentInput, CallRow, Store, TurnRow } from '../../src/store/types';

export function callRow(callSid: string, over: Partial<CallRow> = {}): CallRow {
  return {
    call_sid: callSid,
    carrier: 'twilio',
    direction: 'inbound',
    from_number: '+14155550123',
    to_number: '+15550000000',
    provider: 'elevenlabs',
    flag_source: 'env',
    status: 'in-progress',
    started_at: '2026-11-23T10:00:00.000Z',
    answered_at: null,
    ended_at: null,
    end_reason: null,
    conversation_id: null,
    metrics: {},
    ...over,
  };
}

export function slot(startIso: string, minutes: number, over: Partial<AppointmentInput> = {}): AppointmentInput {
  return {
    call_sid: null,
    lead_id: null,
    calendar_event_id: null,
    start_at: startIso,
    end_at: new Date(Date.parse(startIso) + minutes * 60_000).toISOString(),
    timezone: 'America/New_York',
    name: 'Ada Lovelace',
    phone: '+14155550123',
    email: null,
    notes: null,
    ...over,
  };
}

const turn = (callSid: string, seq: number, atMs: number, text: string, role: TurnRow['role'] = 'user'): TurnRow => ({
  call_sid: callSid,
  seq,
  role,
  text,
  interrupted: false,
  at_ms: atMs,
});

/** Register the shared store tests; `store()` is the implementation under test, opened in beforeAll. */
export function storeContract(store: () => Store): void {
  const sid = () => 'CA' + randomUUID().replace(/-/g, '');

  it('stores a call and its turns and returns them in spoken order, one row per seq', async () => {
    const s = store();
    const cs = sid();
    await s.saveCall(callRow(cs));
    await s.saveTurns([turn(cs, 1, 0, 'Hello, how can I help?', 'agent'), turn(cs, 2, 3000, 'I need a plumber')]);
    // A late transcript that was spoken earlier, and a retried write of seq 1 with a correction.
    await s.saveTurns([turn(cs, 3, 2500, 'um'), { ...turn(cs, 1, 0, 'Hello, how can', 'agent'), interrupted: true }]);
    await s.saveTurns([turn(cs, 2, 3000, 'I need a plumber')]);
    await s.saveCall(callRow(cs, { status: 'completed', ended_at: '2026-11-23T10:05:00.000Z', end_reason: 'carrier_stop', metrics: { bargeIns: 1 } }));
    expect(await s.flush(20_000)).toBe(0);
    const got = await s.getCall(cs);
    expect(got?.call).toEqual(callRow(cs, { status: 'completed', ended_at: '2026-11-23T10:05:00.000Z', end_reason: 'carrier_stop', metrics: { bargeIns: 1 } }));
    expect(got?.turns).toEqual([
      { ...turn(cs, 1, 0, 'Hello, how can', 'agent'), interrupted: true },
      turn(cs, 3, 2500, 'um'),
      turn(cs, 2, 3000, 'I need a plumber'),
    ]);
  });

  it('returns undefined for a call it never stored', async () => {
    expect(await store().getCall(sid())).toBeUndefined();
  });

  it('refuses a malformed row with a clear error before journaling it', async () => {
    const s = store();
    await expect(s.saveTurns([{ ...turn(sid(), 0, -5, 'x'), role: 'bot' as never }])).rejects.toMatchObject({
      code: 'CB_STORE_BAD_INPUT',
      category: 'bad_request',
      message: expect.stringMatching(/seq.*role|role.*seq/s),
    });
    await expect(s.saveCall({ ...callRow(sid()), started_at: 'yesterday' })).rejects.toMatchObject({
      code: 'CB_STORE_BAD_INPUT',
      message: expect.stringContaining('started_at'),
    });
    await expect(s.saveLead({ call_sid: null, name: ' ', phone: null, email: null, company: null, need: null })).rejects.toMatchObject({
      code: 'CB_STORE_BAD_INPUT',
    });
    expect(await s.flush(5000)).toBe(0);
  });

  it('saves a lead, books it, refuses an overlapping slot and allows the adjacent one', async () => {
    const s = store();
    const cs = sid();
    await s.saveCall(callRow(cs, { started_at: '2026-12-01T09:00:00.000Z' }));
    await s.flush(20_000);
    const lead = await s.saveLead({ call_sid: cs, name: 'Ada', phone: '+14155550123', email: 'ada@example.com', company: null, need: 'leak' });
    expect(lead.id).toMatch(/^[0-9a-f-]{36}$/);
    const a = await s.bookAppointment(slot('2030-01-07T15:00:00.000Z', 30, { call_sid: cs, lead_id: lead.id }));
    expect(a.ok).toBe(true);
    expect(await s.bookAppointment(slot('2030-01-07T15:15:00.000Z', 30))).toEqual({ ok: false, reason: 'overlap' });
    expect((await s.bookAppointment(slot('2030-01-07T15:30:00.000Z', 30))).ok).toBe(true);
    const booked = await s.appointmentsBetween('2030-01-07T00:00:00.000Z', '2030-01-08T00:00:00.000Z');
    expect(booked.map((b) => [b.start_at, b.end_at, b.status])).toEqual([
      ['2030-01-07T15:00:00.000Z', '2030-01-07T15:30:00.000Z', 'confirmed'],
      ['2030-01-07T15:30:00.000Z', '2030-01-07T16:00:00.000Z', 'confirmed'],
    ]);
    expect(booked[0]).toMatchObject({ call_sid: cs, lead_id: lead.id, timezone: 'America/New_York', name: 'Ada Lovelace' });
    const calls = await s.callsBetween('2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
    expect(calls.find((c) => c.call_sid === cs)).toMatchObject({ leads: 1, bookings: 1 });
  });

  it('books exactly one of 20 simultaneous requests for the same slot', async () => {
    const s = store();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.bookAppointment(slot('2031-03-03T14:00:00.000Z', 45, { name: `Caller ${i}` }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array(19).fill({ ok: false, reason: 'overlap' }));
    expect(await s.appointmentsBetween('2031-03-03T00:00:00.000Z', '2031-03-04T00:00:00.000Z')).toHaveLength(1);
  });

  it('claims an email key once, then records its status', async () => {
    const s = store();
    const key = `digest:${randomUUID()}`;
    const row = {
      kind: 'digest' as const,
      recipient: 'owner@example.com',
      subject: 'Daily digest',
      idempotency_key: key,
      status: 'pending' as const,
      provider_message_id: null,
    };
    const claims = await Promise.all([s.claimEmail(row), s.claimEmail(row), s.claimEmail(row)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await s.updateEmail(key, { status: 'sent', provider_message_id: 're_123' });
    expect(await s.flush(20_000)).toBe(0);
    expect(await s.claimEmail(row)).toBe(false);
  });

  it('stores a post-call event idempotently', async () => {
    const s = store();
    const ev = {
      conversation_id: `conv_${randomUUID()}`,
      call_sid: null,
      type: 'post_call_transcription',
      event_timestamp: 1_763_900_000,
      payload: { summary: 'asked for a plumber' },
    };
    await s.savePostCallEvent(ev);
    await s.savePostCallEvent({ ...ev, payload: { summary: 'asked for a plumber, booked' } });
    expect(await s.flush(20_000)).toBe(0);
  });

  it('reports itself healthy while the database answers', async () => {
    expect(await store().healthy()).toBe(true);
  });
}

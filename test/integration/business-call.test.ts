/**
 * A caller books an appointment on a real call, over both providers: the agent's tool calls (driven
 * by the provider emulators) check availability, save the lead and book; the event lands in the
 * Google Calendar emulator in the business time zone, the confirmation goes through the Resend SDK
 * to the Resend emulator, and the lead, booking and transcript are in the store.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleCalendarEmulator, type GoogleCalendarEmulator } from '../emulators/google-calendar';
import { startResendEmulator, type ResendEmulator } from '../emulators/resend';
import { fixture, startBridge, type Bridge } from '../helpers/bridge';

const TZ = 'America/New_York';
const SECRET = 'wsec_business_test_0123456789';

/** A weekday `n` weeks ahead (YYYY-MM-DD), so each test has its own day. */
function weekdayAhead(weeks: number): string {
  const d = new Date(Date.now() + weeks * 7 * 86_400_000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

async function until(ok: () => boolean | undefined, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
  }
}

interface ToolAnswer {
  output: unknown;
  isError: boolean;
}

describe.each(['elevenlabs', 'openai'] as const)('booking on a %s call', (provider) => {
  let b: Bridge;
  let gc: GoogleCalendarEmulator;
  let rs: ResendEmulator;

  beforeAll(async () => {
    gc = await startGoogleCalendarEmulator();
    rs = await startResendEmulator();
    b = await startBridge({
      provider,
      speed: 4,
      elevenlabs: { toolTimeoutMs: 30_000 },
      env: {
        BUSINESS_NAME: 'Acme Plumbing',
        BUSINESS_TIMEZONE: TZ,
        BUSINESS_HOURS: 'Mon-Fri 09:00-17:00',
        GOOGLE_SERVICE_ACCOUNT_JSON: gc.serviceAccountJson,
        GOOGLE_CALENDAR_ID: gc.calendarId,
        GOOGLE_API_ROOT: gc.rootUrl,
        RESEND_API_KEY: rs.apiKey,
        RESEND_BASE_URL: rs.url,
        EMAIL_FROM: 'Acme Plumbing <bookings@acme.test>',
        ELEVENLABS_WEBHOOK_SECRET: SECRET,
        OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'callbridge-outbox-')),
      },
    });
    // A fresh embedded store takes a few seconds to open on a busy machine: wait for it here.
    for (let i = 0; i < 300 && !(await b.srv.store.healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => {
    await b?.close();
    await gc?.close();
    await rs?.close();
  });

  /** Run a tool as the provider's model would and read the answer as the model gets it. */
  async function tool(name: string, args: Record<string, unknown>): Promise<ToolAnswer & { ms: number }> {
    const t0 = Date.now();
    if (provider === 'elevenlabs') {
      const r = await b.el!.callTool(name, args);
      return { output: JSON.parse(r.result), isError: r.is_error, ms: Date.now() - t0 };
    }
    const r = await b.oa!.callTool(name, args);
    const output = JSON.parse(r.output) as Record<string, unknown>;
    return { output, isError: 'error' in output, ms: Date.now() - t0 };
  }

  it('checks, saves the lead, books in the business time zone and emails a confirmation', async () => {
    const call = await b.call();
    await call.waitFor('media', 10_000);
    call.sendAudio(fixture('caller-booking-8k.wav'));
    // The caller's request is heard and transcribed before the agent reaches for its tools.
    await until(() => b.srv.registry.find(call.callSid)?.turns.some((t) => t.role === 'user'), 20_000);

    const date = weekdayAhead(provider === 'elevenlabs' ? 3 : 5);
    const avail = await tool('check_availability', { date, duration_minutes: 60 });
    expect(avail.isError).toBe(false);
    const slots = (avail.output as { slots: string[] }).slots;
    expect(slots.length).toBeGreaterThan(0);
    expect(slots[0]).toMatch(new RegExp(`^${date}T\\d{2}:\\d{2}:00-0[45]:00$`));

    const lead = await tool('save_lead', { name: 'John Smith', company: 'A Plumbing company', need: 'appointment' });
    expect(lead).toMatchObject({ isError: false, output: { saved: true } });

    const booked = await tool('book_appointment', {
      name: 'John Smith',
      phone: '+14155550123',
      email: 'john@example.com',
      start: slots[0],
      duration_minutes: 60,
      notes: 'leaking tap',
    });
    expect(booked.isError).toBe(false);
    expect(booked.output).toMatchObject({ booked: true, start: slots[0], timezone: TZ, confirmation_email: 'sending' });
    // Measured figure (never asserted): provider emulator → bridge → tool → answer back, Google and store on loopback.
    process.stdout.write(`tool round trips (${provider}): check_availability ${avail.ms} ms, save_lead ${lead.ms} ms, book_appointment ${booked.ms} ms\n`);

    // The event, in the calendar, with the business zone and the caller's local wall time.
    const ev = gc.events().find((e) => e.id === (booked.output as { calendar_event_id: string }).calendar_event_id)!;
    expect(ev.start).toEqual({ dateTime: slots[0], timeZone: TZ });
    expect(Date.parse(ev.end.dateTime!) - Date.parse(ev.start.dateTime!)).toBe(3_600_000);
    expect(ev.description).toContain('+14155550123');
    expect(gc.seen.filter((r) => r.path.startsWith('/calendar/')).every((r) => r.auth === 'jwt')).toBe(true);

    // A second caller for the same slot hears it is taken, with alternatives.
    const again = await tool('book_appointment', { name: 'Jane Roe', phone: '+14155550999', start: slots[0], duration_minutes: 30 });
    expect(again.isError).toBe(true);
    expect(again.output).toMatchObject({ error: 'slot_taken' });
    expect((again.output as { alternatives: string[] }).alternatives.length).toBeGreaterThan(0);

    // The confirmation went through the Resend SDK, with its idempotency key.
    await b.srv.business.settle();
    const mail = rs.emails.find((e) => e.to.includes('john@example.com'))!;
    expect(mail).toMatchObject({ from: 'Acme Plumbing <bookings@acme.test>', userAgent: expect.stringMatching(/^resend-node:/) });
    expect(mail.idempotencyKey).toBe(`confirmation:${(booked.output as { appointment_id: string }).appointment_id}`);
    expect(mail.text).toContain(`${date} at ${slots[0]!.slice(11, 16)}`);

    await call.hangup();
    await b.ended(call.callSid, 10_000);
    await b.srv.store.flush(10_000);
    const stored = await b.srv.store.getCall(call.callSid);
    expect(stored?.turns.length).toBeGreaterThanOrEqual(2);
    expect(stored?.turns.some((t) => t.role === 'user')).toBe(true);
    const day = await b.srv.store.callsBetween(new Date(Date.now() - 3_600_000).toISOString(), new Date(Date.now() + 60_000).toISOString());
    expect(day.find((c) => c.call_sid === call.callSid)).toMatchObject({ leads: 1, bookings: 1 });
  }, 90_000);

  it('answers missing or invalid tool arguments with a structured error the agent can read', async () => {
    const call = await b.call();
    await call.waitFor('media', 10_000);
    if (provider === 'openai') await b.oa!.waitFor((s) => s.responses.find((r) => r.status === 'completed'), 15_000);
    const bad = await tool('book_appointment', { name: 'John', email: 'not-an-email', start: 'tomorrow at ten', duration_minutes: 5 });
    expect(bad.isError).toBe(true);
    const out = bad.output as { error: string; message: string; fields: { field: string; problem: string }[] };
    expect(out.error).toBe('invalid_arguments');
    expect(out.fields.map((f) => f.field).sort()).toEqual(['duration_minutes', 'email', 'phone']);
    expect(out.message).toMatch(/phone/);
    const badDate = await tool('check_availability', { date: '2026-02-30', duration_minutes: 30 });
    expect(badDate.output).toMatchObject({ error: 'invalid_arguments', fields: [{ field: 'date' }] });
    const badStart = await tool('book_appointment', { name: 'John', phone: '+14155550123', start: 'tomorrow at ten', duration_minutes: 30 });
    expect(badStart.output).toMatchObject({ error: 'invalid_arguments', fields: [{ field: 'start' }] });
    await call.hangup();
    await b.ended(call.callSid, 10_000);
  }, 60_000);

  it('refuses a forged or stale post-call webhook with 401 and stores a signed one', async () => {
    const body = JSON.stringify({
      type: 'post_call_transcription',
      event_timestamp: Math.floor(Date.now() / 1000),
      data: {
        agent_id: 'agent_test',
        conversation_id: `conv_${provider}`,
        status: 'done',
        transcript: [],
        analysis: { call_successful: 'success', transcript_summary: 'Booked.' },
      },
    });
    const post = (sig?: string) =>
      fetch(`${b.base}/webhooks/elevenlabs/post-call`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(sig ? { 'ElevenLabs-Signature': sig } : {}) },
        body,
      });
    const t = Math.floor(Date.now() / 1000);
    const sign = (ts: number, secret = SECRET) => `t=${ts},v0=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    expect((await post()).status).toBe(401);
    expect((await post(sign(t, 'forged-secret'))).status).toBe(401);
    expect((await post(sign(t - 31 * 60))).status).toBe(401);
    const ok = await post(sign(t));
    expect(ok.status).toBe(200);
    expect((await post(sign(t))).status).toBe(200); // a redelivery is stored once (unique per conversation and type)
  }, 30_000);
});

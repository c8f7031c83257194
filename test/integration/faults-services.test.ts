/**
 * Outside services failing mid-call, on a live ElevenLabs call: Google Calendar refusing (503) and
 * Resend refusing (500) for a while. The call keeps talking, a tool call during the outage answers
 * with a sentence the agent can say, the confirmation email is retried and lands after recovery, and
 * every turn is stored. The outages are counted in requests (Google: until cleared; Resend: three
 * refusals, which the mailer's 0.5 s + 1 s + 2 s backoff outlasts), not the 30 s.
 * Covered elsewhere: the store (test/integration/store-outage.test.ts: 30 s PostgREST outage and a
 * SIGKILL mid-call, every turn stored once), Unleash (flags-unleash.test.ts "Unleash stopped"),
 * calendar retries without a double booking (business-calendar.test.ts), Resend 500 retried once
 * (business-email.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleCalendarEmulator, type GoogleCalendarEmulator } from '../emulators/google-calendar';
import { startResendEmulator, type ResendEmulator } from '../emulators/resend';
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { carrierTimeline, report, resources, settledLeaks } from './faults-helpers';

jest.setTimeout(90_000);
const TZ = 'America/New_York';

/** A weekday `weeks` ahead (YYYY-MM-DD). */
function weekdayAhead(weeks: number): string {
  const d = new Date(Date.now() + weeks * 7 * 86_400_000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

let b: Bridge | undefined;
let gc: GoogleCalendarEmulator | undefined;
let rs: ResendEmulator | undefined;

afterEach(async () => {
  await b?.close();
  await gc?.close();
  await rs?.close();
});

it('calendar and Resend refusing mid-call → the call keeps talking, the tool answers a sentence, the email lands after recovery, 0 turns lost', async () => {
  gc = await startGoogleCalendarEmulator();
  rs = await startResendEmulator();
  const br = (b = await startBridge({
    provider: 'elevenlabs',
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
      OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'callbridge-outbox-')),
    },
  }));
  await until('the store', () => br.srv.store.healthy(), 30_000);
  const baseline = resources();
  const call = await br.call();
  const conv = await br.el!.waitForConversation(5000);
  await call.waitFor('media', 5000);
  await conv.playout();

  // Google Calendar refuses every request: the tool answers with something the agent can say.
  gc.failNext(503, 1_000_000);
  const date = weekdayAhead(7);
  const down = await br.el!.callTool('check_availability', { date, duration_minutes: 60 });
  expect(down.is_error).toBe(true);
  const said = (JSON.parse(down.result) as { message?: string }).message;
  expect(said).toMatch(/^I could not .+\.$|^[A-Z].+[.?]$/);
  // …and the call keeps talking: the scripted reply after the tool result plays, the caller speaks, the agent answers.
  const timeline = carrierTimeline(call);
  const replies = br.el!.seen.agentResponses.length;
  call.sendAudio(fixture('caller-booking-8k.wav'));
  await until('an agent reply during the outage', () => br.el!.seen.agentResponses.length >= replies + 1, 15_000);
  await until('its audio at the carrier', () => timeline.playouts[0], 15_000);
  expect(call.isClosed).toBe(false);
  await conv.playout();

  // Recovery; Resend now refuses three times: the confirmation is retried and lands.
  gc.failNext(503, 0);
  const up = await br.el!.callTool('check_availability', { date, duration_minutes: 60 });
  expect(up.is_error).toBe(false);
  const slot = (JSON.parse(up.result) as { slots: string[] }).slots[0]!;
  rs.failNext(500, 3);
  const booked = await br.el!.callTool('book_appointment', {
    name: 'John Smith',
    phone: '+14155550123',
    email: 'john@example.com',
    start: slot,
    duration_minutes: 60,
  });
  expect(booked.is_error).toBe(false);
  await br.srv.business.settle();
  expect(rs.answers.filter((a) => a.status === 500)).toHaveLength(3);
  expect(rs.emails.filter((e) => e.to.includes('john@example.com'))).toHaveLength(1);

  await conv.playout();
  await call.hangup();
  const rec = await br.ended(call.callSid, 10_000);
  expect(rec.status).toBe('completed');
  await br.waitIdle(10_000);
  expect(await br.srv.store.flush(15_000)).toBe(0);
  expect((await br.srv.store.getCall(call.callSid))?.turns).toHaveLength(rec.turns.length);
  const gap = Math.max(0, ...timeline.playouts.map((p) => p.idleMs));
  report('Google Calendar 503 + Resend 500 ×3 mid-call', `tool said "${said}"; email landed after 3 retries; ${rec.turns.length} turns stored`, gap);
  expect(await settledLeaks(br, baseline)).toEqual([]);
});

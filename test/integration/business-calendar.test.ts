/**
 * Google Calendar through the official client against the calendar emulator, and booking races:
 * 20 callers for one slot end with exactly one appointment and one calendar event.
 */
import { createSign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auth, calendar } from '@googleapis/calendar';
import { Booking, type BookingOutcome } from '../../src/business/booking';
import { CalendarError, embeddedCalendar, type CalendarBackend } from '../../src/business/calendar';
import { GoogleCalendar, loadServiceAccount } from '../../src/business/google-calendar';
import { parseBusinessHours } from '../../src/business/hours';
import { zonedToUtc } from '../../src/business/time';
import { silentLogger } from '../../src/observability/logger';
import { createStore, type Store } from '../../src/store';
import { startGoogleCalendarEmulator, type GoogleCalendarEmulator } from '../emulators/google-calendar';

const TZ = 'Asia/Kolkata';
const hours = parseBusinessHours('Mon-Sat 09:00-18:00');

/** A Monday `weeks` ahead, so each test books on its own day. */
function mondayAhead(weeks: number): string {
  const d = new Date(Date.now() + weeks * 7 * 86_400_000);
  while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

describe('Google Calendar and booking', () => {
  let gc: GoogleCalendarEmulator;
  let google: GoogleCalendar;
  let store: Store;

  beforeAll(async () => {
    gc = await startGoogleCalendarEmulator();
    google = new GoogleCalendar({ key: loadServiceAccount(gc.serviceAccountJson), calendarId: gc.calendarId, rootUrl: gc.rootUrl });
    store = createStore({ DATA_DIR: mkdtempSync(join(tmpdir(), 'callbridge-booking-')) }, silentLogger);
    for (let i = 0; i < 300 && !(await store.healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await gc?.close();
  });

  const booking = (calendarBackend: CalendarBackend) =>
    new Booking({ store, calendar: calendarBackend, hours, tz: TZ, businessName: 'Acme', log: silentLogger });

  it('signs its own JWT, inserts an event in the business zone, and treats a repeated id as created', async () => {
    const ev = { id: 'cbtest0001', summary: 'John', description: 'x', start: '2031-03-03T10:00:00+05:30', end: '2031-03-03T11:00:00+05:30', timeZone: TZ };
    await expect(google.insertEvent(ev)).resolves.toMatchObject({
      id: 'cbtest0001',
      htmlLink: expect.stringMatching(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/),
    });
    await expect(google.insertEvent(ev)).resolves.toEqual({ id: 'cbtest0001' });
    expect(gc.events().filter((e) => e.id === 'cbtest0001')).toHaveLength(1);
    expect(gc.seen.every((r) => r.auth === 'jwt')).toBe(true);
    const busy = await google.busy(Date.parse('2031-03-03T00:00:00Z'), Date.parse('2031-03-04T00:00:00Z'));
    expect(busy).toEqual([{ startMs: Date.parse('2031-03-03T04:30:00Z'), endMs: Date.parse('2031-03-03T05:30:00Z') }]);
  });

  it('reports a refused key, an unknown calendar and a bad event as CalendarErrors with a category', async () => {
    const other = await startGoogleCalendarEmulator();
    const wrongKey = new GoogleCalendar({ key: loadServiceAccount(other.serviceAccountJson), calendarId: gc.calendarId, rootUrl: gc.rootUrl });
    await other.close();
    await expect(wrongKey.busy(0, 1000)).rejects.toMatchObject({ category: 'auth', retryable: false });
    const unknown = new GoogleCalendar({ key: loadServiceAccount(gc.serviceAccountJson), calendarId: 'nobody@example.com', rootUrl: gc.rootUrl });
    await expect(unknown.busy(0, 1000)).rejects.toMatchObject({ code: 'CB_CALENDAR_NOT_FOUND' });
    const empty = google.insertEvent({
      id: 'cbtest0002',
      summary: 'x',
      description: '',
      start: '2031-03-03T10:00:00+05:30',
      end: '2031-03-03T10:00:00+05:30',
      timeZone: TZ,
    });
    await expect(empty).rejects.toBeInstanceOf(CalendarError);
    await expect(empty).rejects.toMatchObject({ category: 'bad_request' });
    gc.failNext(403, 1, 'rateLimitExceeded');
    await expect(google.busy(0, 1000)).rejects.toMatchObject({ category: 'rate_limit', retryable: true });
  });

  it('takes an access token from the token endpoint too (JWT-bearer grant), as the calendar client uses it', async () => {
    const key = JSON.parse(gc.serviceAccountJson) as { client_email: string; private_key: string; private_key_id: string; token_uri: string };
    const now = Math.floor(Date.now() / 1000);
    const seg = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${seg({ alg: 'RS256', typ: 'JWT', kid: key.private_key_id })}.${seg({ iss: key.client_email, scope: 'https://www.googleapis.com/auth/calendar', aud: key.token_uri, iat: now, exp: now + 3600 })}`;
    const assertion = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key.private_key).toString('base64url')}`;
    const res = await fetch(key.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
    const tok = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(tok).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const oauth = new auth.OAuth2();
    oauth.setCredentials({ access_token: tok.access_token, expiry_date: Date.now() + 3_000_000 });
    const api = calendar({ version: 'v3', auth: oauth, rootUrl: gc.rootUrl, fetchImplementation: fetch });
    const list = await api.events.list({ calendarId: gc.calendarId, timeMin: '2031-03-03T00:00:00Z', singleEvents: true, orderBy: 'startTime' });
    expect(list.data.items?.map((e) => e.id)).toContain('cbtest0001');
    expect(gc.seen[gc.seen.length - 1]!.auth).toBe('token');
  });

  it.each([
    ['Google Calendar', 'google', 2],
    ['the embedded calendar', 'embedded', 3],
  ] as const)(
    'books exactly one of 20 simultaneous requests for one slot (%s)',
    async (_name, kind, weeks) => {
      const date = mondayAhead(weeks);
      const startMs = zonedToUtc(date, 11 * 60, TZ);
      const b = booking(kind === 'google' ? google : embeddedCalendar);
      const eventsBefore = gc.events().length;
      const t0 = performance.now();
      const results: BookingOutcome[] = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          b.book({
            callSid: null,
            leadId: null,
            name: `Caller ${i}`,
            phone: `+9198450000${String(i).padStart(2, '0')}`,
            email: null,
            startMs,
            durationMin: 30 + (i % 3) * 15,
            notes: null,
          }),
        ),
      );
      const ms = performance.now() - t0;
      const won = results.filter((r) => r.ok);
      expect(won).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'slot_taken')).toHaveLength(19);
      const rows = await store.appointmentsBetween(new Date(startMs - 3_600_000).toISOString(), new Date(startMs + 3 * 3_600_000).toISOString());
      expect(rows).toHaveLength(1);
      expect(gc.events().length - eventsBefore).toBe(kind === 'google' ? 1 : 0);
      if (kind === 'google') {
        const ev = gc.events().at(-1)!;
        expect(ev.start).toEqual({ dateTime: `${date}T11:00:00+05:30`, timeZone: TZ });
        expect(rows[0]!.calendar_event_id).toBe(ev.id);
      }
      // Measured figure for the report (never asserted on time).
      process.stdout.write(`booking race (${kind}): 20 requests settled in ${ms.toFixed(0)} ms\n`);
    },
    60_000,
  );

  it('retries a calendar insert through transient failures and never books twice', async () => {
    const date = mondayAhead(4);
    const startMs = zonedToUtc(date, 15 * 60, TZ);
    // The real client; the emulator answers 503 to the first two inserts (the freeBusy re-check passes).
    const fail = { calls: 0 };
    const flaky: CalendarBackend = {
      kind: 'google',
      busy: (f, t) => google.busy(f, t),
      insertEvent: async (ev) => {
        if (fail.calls++ < 2) gc.failNext(503, 1);
        return google.insertEvent(ev);
      },
    };
    const r = await booking(flaky).book({
      callSid: null,
      leadId: null,
      name: 'Asha',
      phone: '+919845000099',
      email: null,
      startMs,
      durationMin: 60,
      notes: null,
    });
    expect(r).toMatchObject({ ok: true, calendarSynced: true, start: `${date}T15:00:00+05:30` });
    expect(gc.events().filter((e) => e.start.dateTime === `${date}T15:00:00+05:30`)).toHaveLength(1);
    expect(fail.calls).toBe(3);
  }, 30_000);

  it('refuses a slot outside business hours or in the past, offering free times instead', async () => {
    const b = booking(embeddedCalendar);
    const date = mondayAhead(5);
    const late = await b.book({
      callSid: null,
      leadId: null,
      name: 'Late',
      phone: '+919845000001',
      email: null,
      startMs: zonedToUtc(date, 17 * 60 + 30, TZ),
      durationMin: 60,
      notes: null,
    });
    expect(late).toMatchObject({ ok: false, reason: 'outside_hours' });
    expect((late as { alternatives: string[] }).alternatives[0]).toMatch(/\+05:30$/);
    const past = await b.book({
      callSid: null,
      leadId: null,
      name: 'Past',
      phone: '+919845000001',
      email: null,
      startMs: Date.now() - 3_600_000,
      durationMin: 30,
      notes: null,
    });
    expect(past).toMatchObject({ ok: false, reason: 'in_past' });
  }, 30_000);
});

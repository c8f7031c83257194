/**
 * Every way a Google Calendar call fails becomes a CalendarError (a CallbridgeError) with a stable
 * code and the category retries read; statuses are injected by the calendar emulator.
 */
import { CalendarError } from '../../../src/business/calendar';
import { GoogleCalendar, loadServiceAccount } from '../../../src/business/google-calendar';
import { CallbridgeError } from '../../../src/errors';
import { startGoogleCalendarEmulator, type GoogleCalendarEmulator } from '../../emulators/google-calendar';
import { refusedUrl, startStubServer } from '../../helpers/stub-http';

const EVENT = {
  summary: 'x',
  description: '',
  start: '2031-03-03T10:00:00+05:30',
  end: '2031-03-03T11:00:00+05:30',
  timeZone: 'Asia/Kolkata',
};

describe('CalendarError categories', () => {
  let gc: GoogleCalendarEmulator;
  let google: GoogleCalendar;
  let n = 0;

  beforeAll(async () => {
    gc = await startGoogleCalendarEmulator();
    google = new GoogleCalendar({ key: loadServiceAccount(gc.serviceAccountJson), calendarId: gc.calendarId, rootUrl: gc.rootUrl });
  });
  afterAll(() => gc?.close());

  const at = (rootUrl: string, timeoutMs?: number) =>
    new GoogleCalendar({ key: loadServiceAccount(gc.serviceAccountJson), calendarId: gc.calendarId, rootUrl, timeoutMs });

  it.each([
    [401, undefined, 'CB_CALENDAR_AUTH', 'auth', 'authError'],
    [403, undefined, 'CB_CALENDAR_AUTH', 'auth', 'forbidden'],
    [403, 'rateLimitExceeded', 'CB_CALENDAR_RATE_LIMIT', 'rate_limit', 'rateLimitExceeded'],
    [403, 'userRateLimitExceeded', 'CB_CALENDAR_RATE_LIMIT', 'rate_limit', 'userRateLimitExceeded'],
    [429, undefined, 'CB_CALENDAR_RATE_LIMIT', 'rate_limit', 'rateLimitExceeded'],
    [400, undefined, 'CB_CALENDAR_BAD_REQUEST', 'bad_request', 'badRequest'],
    [404, undefined, 'CB_CALENDAR_NOT_FOUND', 'bad_request', 'notFound'],
    [500, undefined, 'CB_CALENDAR_SERVER', 'server', 'backendError'],
    [503, undefined, 'CB_CALENDAR_SERVER', 'server', 'backendError'],
  ] as const)('freeBusy answered %i (reason %s) → %s, %s', async (status, injected, code, category, reason) => {
    gc.failNext(status, 1, injected);
    const err = await google.busy(0, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalendarError);
    expect(err).toBeInstanceOf(CallbridgeError);
    expect(err).toMatchObject({ name: 'CalendarError', code, category, status, reason, retryable: ['rate_limit', 'server'].includes(category) });
  });

  it('events.insert: a 503 is retryable, a 409 (the id exists) counts as created', async () => {
    const id = `cberr${++n}aaaa`;
    gc.failNext(503, 1);
    await expect(google.insertEvent({ ...EVENT, id })).rejects.toMatchObject({ code: 'CB_CALENDAR_SERVER', category: 'server', status: 503, retryable: true });
    await expect(google.insertEvent({ ...EVENT, id })).resolves.toMatchObject({ id });
    gc.failNext(409, 1);
    await expect(google.insertEvent({ ...EVENT, id: `cberr${++n}bbbb` })).resolves.toEqual({ id: `cberr${n}bbbb` });
  });

  it('a freeBusy answer that says notFound for the calendar → CB_CALENDAR_NOT_FOUND, not retryable', async () => {
    const unknown = new GoogleCalendar({ key: loadServiceAccount(gc.serviceAccountJson), calendarId: 'nobody@example.com', rootUrl: gc.rootUrl });
    await expect(unknown.busy(0, 1000)).rejects.toMatchObject({ code: 'CB_CALENDAR_NOT_FOUND', category: 'bad_request', reason: 'notFound', retryable: false });
  });

  it('a freeBusy calendar entry with internalError → server; groupTooBig → bad_request', async () => {
    let entryReason = 'internalError';
    const stub = await startStubServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'calendar#freeBusy', calendars: { [gc.calendarId]: { errors: [{ domain: 'global', reason: entryReason }], busy: [] } } }));
    });
    try {
      await expect(at(stub.url).busy(0, 1000)).rejects.toMatchObject({ code: 'CB_CALENDAR_SERVER', category: 'server', retryable: true });
      entryReason = 'groupTooBig';
      await expect(at(stub.url).busy(0, 1000)).rejects.toMatchObject({ code: 'CB_CALENDAR_BAD_REQUEST', category: 'bad_request', retryable: false });
    } finally {
      await stub.close();
    }
  });

  it('no answer (refused, or nothing within timeoutMs) → CB_CALENDAR_UNREACHABLE, connectivity, retryable', async () => {
    await expect(at(await refusedUrl()).busy(0, 1000)).rejects.toMatchObject({
      code: 'CB_CALENDAR_UNREACHABLE',
      category: 'connectivity',
      status: undefined,
      retryable: true,
    });
    const silent = await startStubServer();
    try {
      const t0 = Date.now();
      await expect(at(silent.url, 300).busy(0, 1000)).rejects.toMatchObject({ code: 'CB_CALENDAR_UNREACHABLE', category: 'connectivity' });
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await silent.close();
    }
  });
});

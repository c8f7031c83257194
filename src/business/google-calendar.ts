/**
 * Google Calendar through the official client (`@googleapis/calendar` v3) with a service account.
 *
 * Auth: the service account signs its own RS256 JWT with the `calendar` scope and sends it as the
 * Bearer token (`useJWTAccessWithScope`), so no token exchange happens. Google documents this
 * self-signed JWT flow for service accounts (https://google.aip.dev/auth/4111,
 * https://developers.google.com/identity/protocols/oauth2/service-account#jwt-auth). It is also why
 * GOOGLE_API_ROOT is enough to run offline: google-auth-library hard-codes the token endpoint
 * (https://oauth2.googleapis.com/token) and ignores `token_uri`. Domain-wide delegation (`subject`)
 * is not used: share the calendar with the service account's email instead.
 */
import type { calendar_v3 } from '@googleapis/calendar';
import { httpErrorCode, httpStatusCategory } from '../errors';
import { CalendarError, type CalendarBackend, type CalendarEvent, type Interval } from './calendar';
import type { ServiceAccountKey } from './service-account';

export { loadServiceAccount, type ServiceAccountKey } from './service-account';

export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar';

/** Google's reasons for quota exhaustion, which it may send with 403 instead of 429. */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/**
 * Gaxios error → CalendarError (https://developers.google.com/calendar/api/guides/errors): the status
 * decides (see httpStatusCategory), except 403 with a rate-limit reason → 'rate_limit' and 404 →
 * CB_CALENDAR_NOT_FOUND; no status at all (refused, reset, timeout) → 'connectivity'.
 */
function toCalendarError(what: string, err: unknown): CalendarError {
  const e = err as {
    status?: number;
    response?: { status?: number; data?: { error?: { errors?: { reason?: string }[] } } };
    code?: string | number;
    message?: string;
  };
  const status = e.status ?? e.response?.status ?? (typeof e.code === 'number' ? e.code : undefined);
  const reason = e.response?.data?.error?.errors?.[0]?.reason;
  const msg = `${what}: ${e.message ?? String(err)}`;
  if (status === undefined) return new CalendarError(httpErrorCode('CB_CALENDAR', 'connectivity'), msg, 'connectivity', { cause: err });
  const category = reason && RATE_LIMIT_REASONS.has(reason) ? 'rate_limit' : httpStatusCategory(status);
  const code = status === 404 ? 'CB_CALENDAR_NOT_FOUND' : httpErrorCode('CB_CALENDAR', category);
  return new CalendarError(code, msg, category, { cause: err, status, reason });
}

/**
 * A freeBusy answer (HTTP 200) whose calendar entry carries `errors`, or has no entry for the calendar.
 * Google documents the reasons notFound, internalError, groupTooBig and tooManyCalendarsRequested
 * (https://developers.google.com/calendar/api/v3/reference/freebusy/query): internalError → 'server',
 * notFound or no entry → CB_CALENDAR_NOT_FOUND, anything else → CB_CALENDAR_BAD_REQUEST.
 */
function calendarEntryError(calendarId: string, reasons: string[]): CalendarError {
  const msg = `freeBusy: ${calendarId}: ${reasons.join(', ') || 'calendar missing from the answer'}`;
  const reason = reasons[0];
  if (reasons.includes('internalError')) return new CalendarError(httpErrorCode('CB_CALENDAR', 'server'), msg, 'server', { reason });
  if (reasons.every((r) => r === 'notFound')) return new CalendarError('CB_CALENDAR_NOT_FOUND', msg, 'bad_request', { reason });
  return new CalendarError(httpErrorCode('CB_CALENDAR', 'bad_request'), msg, 'bad_request', { reason });
}

export interface GoogleCalendarOptions {
  key: ServiceAccountKey;
  calendarId: string;
  /** GOOGLE_API_ROOT, e.g. `http://127.0.0.1:PORT/`; default https://www.googleapis.com/. */
  rootUrl?: string;
  /** Per-request timeout (ms). Default 8000: the agent is waiting on the phone. */
  timeoutMs?: number;
}

/** Google Calendar v3 as a CalendarBackend. */
export class GoogleCalendar implements CalendarBackend {
  readonly kind = 'google' as const;
  /** The client, built on first use: `@googleapis/calendar` (~140 modules, ~17 MiB) loads only in a deployment that books in Google. */
  private client?: Promise<calendar_v3.Calendar>;
  private readonly o: GoogleCalendarOptions;
  private readonly calendarId: string;
  private readonly timeoutMs: number;

  constructor(o: GoogleCalendarOptions) {
    this.o = o;
    this.calendarId = o.calendarId;
    this.timeoutMs = o.timeoutMs ?? 8000;
  }

  private api(): Promise<calendar_v3.Calendar> {
    const o = this.o;
    return (this.client ??= import('@googleapis/calendar').then(({ auth, calendar }) => {
      const jwt = new auth.JWT({ email: o.key.client_email, key: o.key.private_key, keyId: o.key.private_key_id, scopes: [CALENDAR_SCOPE] });
      jwt.useJWTAccessWithScope = true;
      // Node's own fetch: gaxios would otherwise `import('node-fetch')` lazily, which jest's CommonJS VM refuses.
      return calendar({
        version: 'v3',
        auth: jwt,
        fetchImplementation: fetch,
        ...(o.rootUrl ? { rootUrl: o.rootUrl.endsWith('/') ? o.rootUrl : `${o.rootUrl}/` } : {}),
      });
    }));
  }

  /**
   * `POST /calendar/v3/freeBusy` for this calendar
   * (https://developers.google.com/calendar/api/v3/reference/freebusy/query).
   * @throws CalendarError, also when the calendar entry carries `errors` (e.g. notFound).
   */
  async busy(fromMs: number, toMs: number): Promise<Interval[]> {
    let res;
    try {
      res = await (
        await this.api()
      ).freebusy.query(
        { requestBody: { timeMin: new Date(fromMs).toISOString(), timeMax: new Date(toMs).toISOString(), items: [{ id: this.calendarId }] } },
        { timeout: this.timeoutMs },
      );
    } catch (err) {
      throw toCalendarError('freeBusy', err);
    }
    const cal = res.data.calendars?.[this.calendarId];
    if (!cal || cal.errors?.length)
      throw calendarEntryError(
        this.calendarId,
        (cal?.errors ?? []).map((e) => e.reason ?? 'unknown'),
      );
    return (cal.busy ?? []).map((b) => ({ startMs: Date.parse(b.start!), endMs: Date.parse(b.end!) }));
  }

  /**
   * `POST /calendar/v3/calendars/{calendarId}/events` with a client-chosen `id`
   * (https://developers.google.com/calendar/api/v3/reference/events/insert); a 409 (the id exists,
   * i.e. an earlier attempt got through) counts as created. No attendees: a service account without
   * domain-wide delegation may not invite them (403 forbiddenForServiceAccounts), so the caller's
   * contact details go in the description.
   */
  async insertEvent(ev: CalendarEvent): Promise<{ id: string; htmlLink?: string }> {
    try {
      const res = await (
        await this.api()
      ).events.insert(
        {
          calendarId: this.calendarId,
          requestBody: {
            id: ev.id,
            summary: ev.summary,
            description: ev.description,
            start: { dateTime: ev.start, timeZone: ev.timeZone },
            end: { dateTime: ev.end, timeZone: ev.timeZone },
          },
        },
        { timeout: this.timeoutMs, retry: false },
      );
      return { id: res.data.id ?? ev.id, htmlLink: res.data.htmlLink ?? undefined };
    } catch (err) {
      const e = toCalendarError('events.insert', err);
      if (e.status === 409) return { id: ev.id };
      throw e;
    }
  }
}

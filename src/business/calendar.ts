/**
 * Where bookings go. Two backends behind one interface: Google Calendar (google-calendar.ts, when
 * GOOGLE_SERVICE_ACCOUNT_JSON and GOOGLE_CALENDAR_ID are set) and the embedded calendar (the
 * store's `appointments` table, which every booking is written to in any case).
 */
import { CallbridgeError, type HttpErrorCategory } from '../errors';

/** A busy period, epoch ms, [startMs, endMs). */
export interface Interval {
  startMs: number;
  endMs: number;
}

/** What goes into the calendar for one appointment. */
export interface CalendarEvent {
  /**
   * Client-chosen event id (base32hex: a–v and 0–9, 5–1024 characters), so a retried insert is
   * idempotent: Google answers 409 for an id that exists
   * (https://developers.google.com/calendar/api/v3/reference/events/insert, field `id`).
   */
  id: string;
  summary: string;
  description: string;
  /** RFC 3339 with the business zone's offset, e.g. `2026-03-14T15:30:00-05:00`. */
  start: string;
  end: string;
  /** IANA zone of the business (BUSINESS_TIMEZONE). */
  timeZone: string;
}

export interface CalendarBackend {
  readonly kind: 'google' | 'embedded';
  /** Busy periods overlapping [fromMs, toMs). */
  busy(fromMs: number, toMs: number): Promise<Interval[]>;
  /**
   * Create the event; idempotent on `ev.id` (an existing id counts as created).
   * @returns the calendar's event id and, for Google, its `htmlLink`.
   * @throws CalendarError (category says whether a retry may help).
   */
  insertEvent(ev: CalendarEvent): Promise<{ id: string; htmlLink?: string }>;
}

export type CalendarErrorCategory = HttpErrorCategory;

/** What Google said, when it answered: the HTTP status and the first `errors[].reason` (e.g. `rateLimitExceeded`, `notFound`). */
export interface CalendarErrorDetails extends ErrorOptions {
  status?: number;
  reason?: string;
}

/**
 * A calendar call failed. `retryable` (from the category) for rate limits, 5xx and network errors.
 * Codes (https://developers.google.com/calendar/api/guides/errors):
 * - `CB_CALENDAR_AUTH` ('auth'): 401, or 403 other than a rate limit (key refused, calendar not shared)
 * - `CB_CALENDAR_RATE_LIMIT` ('rate_limit'): 429, or 403 with reason rateLimitExceeded / userRateLimitExceeded
 * - `CB_CALENDAR_NOT_FOUND` ('bad_request'): 404, or a freeBusy answer whose calendar entry says notFound
 * - `CB_CALENDAR_BAD_REQUEST` ('bad_request'): any other 4xx (400 invalid event, 409 …) or freeBusy calendar entry error
 * - `CB_CALENDAR_SERVER` ('server'): 5xx, or a freeBusy calendar entry with reason internalError
 * - `CB_CALENDAR_UNREACHABLE` ('connectivity'): no answer (refused, reset, DNS, the per-request timeout)
 */
export class CalendarError extends CallbridgeError {
  declare readonly code: `CB_CALENDAR_${string}`;
  declare readonly category: CalendarErrorCategory;
  /** HTTP status of Google's answer; undefined when there was none. */
  readonly status?: number;
  /** Google's error reason, when the answer carried one. */
  readonly reason?: string;

  constructor(code: `CB_CALENDAR_${string}`, message: string, category: CalendarErrorCategory, details: CalendarErrorDetails = {}) {
    const { status, reason, ...opts } = details;
    super(code, message, category, opts);
    this.status = status;
    this.reason = reason;
  }
}

/** The embedded calendar: no external busy times, and the event id is the appointment's own. */
export const embeddedCalendar: CalendarBackend = {
  kind: 'embedded',
  async busy() {
    return [];
  },
  async insertEvent(ev) {
    return { id: ev.id };
  },
};

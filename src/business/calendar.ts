/**
 * Where bookings go. Two backends behind one interface: Google Calendar (google-calendar.ts, when
 * GOOGLE_SERVICE_ACCOUNT_JSON and GOOGLE_CALENDAR_ID are set) and the embedded calendar (the
 * store's `appointments` table, which every booking is written to in any case).
 */

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

export type CalendarErrorCategory = 'auth' | 'bad_request' | 'rate_limit' | 'connectivity' | 'server';

/** A calendar call failed; `retryable` for 429, 5xx and network errors. */
export class CalendarError extends Error {
  constructor(
    readonly code: `CB_CALENDAR_${string}`,
    message: string,
    readonly category: CalendarErrorCategory,
    opts?: ErrorOptions,
  ) {
    super(message, opts);
    this.name = 'CalendarError';
  }

  get retryable(): boolean {
    return this.category === 'rate_limit' || this.category === 'connectivity' || this.category === 'server';
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

/**
 * Availability and booking against the calendar backend and the store.
 *
 * Booking order, so that 20 callers racing for one slot end with exactly one appointment:
 * 1. the slot must lie in BUSINESS_HOURS, in the future;
 * 2. re-check just before writing: calendar busy times (Google freeBusy) and confirmed appointments;
 * 3. `Store.bookAppointment`: the database's exclusion constraint is the arbiter, one insert wins;
 * 4. the winner inserts the calendar event with a client-chosen id, retried while the failure is
 *    transient (the id makes a retry idempotent); the appointment row is the record, so a calendar
 *    that stays down never loses a booking (it is logged, and the digest lists it).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { AppointmentRow, Store } from '../store/types';
import { freeSlots, isBusy, openRanges, withinHours } from './availability';
import { CalendarError, type CalendarBackend, type Interval } from './calendar';
import type { WeekHours } from './hours';
import { addDays, formatInZone, localDate } from './time';

export type BookingStore = Pick<Store, 'bookAppointment' | 'appointmentsBetween'>;

export interface BookingDeps {
  store: BookingStore;
  calendar: CalendarBackend;
  hours: WeekHours;
  /** BUSINESS_TIMEZONE (IANA). */
  tz: string;
  businessName: string;
  log: Logger;
  now?: () => number;
  /** Calendar insert attempts before giving up (each transient failure waits 2^n × 250 ms). Default 4. */
  insertAttempts?: number;
}

export interface BookingRequest {
  callSid: string | null;
  leadId: string | null;
  name: string;
  phone: string;
  email: string | null;
  startMs: number;
  durationMin: number;
  notes: string | null;
}

export type BookingOutcome =
  | { ok: true; appointmentId: string; start: string; end: string; calendarEventId: string; calendarSynced: boolean }
  | { ok: false; reason: 'outside_hours' | 'in_past' | 'slot_taken'; alternatives: string[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Availability (`availability`) and booking (`book`) in the business zone; see the file comment for
 * the booking order. Time values are epoch ms in, RFC 3339 with the zone's offset out.
 */
export class Booking {
  private readonly now: () => number;

  constructor(private readonly d: BookingDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Busy periods in [fromMs, toMs): calendar busy times plus confirmed appointments in the store. */
  async busy(fromMs: number, toMs: number): Promise<Interval[]> {
    const [cal, rows] = await Promise.all([
      this.d.calendar.busy(fromMs, toMs),
      this.d.store.appointmentsBetween(new Date(fromMs).toISOString(), new Date(toMs).toISOString()),
    ]);
    return [...cal, ...rows.map((r: AppointmentRow) => ({ startMs: Date.parse(r.start_at), endMs: Date.parse(r.end_at) }))];
  }

  /**
   * Free slot starts on `date` (YYYY-MM-DD, business zone) for `durationMin`, as RFC 3339 strings
   * with the zone's offset. Empty when closed that day or fully booked.
   * @throws CalendarError / StoreError when the calendar or the store cannot be read.
   */
  async availability(date: string, durationMin: number): Promise<{ open: Interval[]; slots: string[] }> {
    const open = openRanges(date, this.d.tz, this.d.hours);
    if (!open.length) return { open, slots: [] };
    const busy = await this.busy(open[0]!.startMs, open[open.length - 1]!.endMs);
    const slots = freeSlots({ date, durationMin, tz: this.d.tz, hours: this.d.hours, busy, nowMs: this.now() });
    return { open, slots: slots.map((s) => formatInZone(s, this.d.tz)) };
  }

  /** Up to `n` free starts nearest after `fromMs` (same day, then the next 7 days). */
  private async alternatives(fromMs: number, durationMin: number, n = 3): Promise<string[]> {
    const out: string[] = [];
    const first = localDate(fromMs, this.d.tz);
    for (let i = 0; i < 8 && out.length < n; i++) {
      const { slots } = await this.availability(addDays(first, i), durationMin).catch(() => ({ slots: [] as string[] }));
      out.push(...slots.filter((s) => Date.parse(s) >= fromMs - durationMin * 60_000).slice(0, n - out.length));
    }
    return out;
  }

  /**
   * Book `r`. Never double-books: the store's constraint decides between concurrent callers.
   * @throws CalendarError / StoreError when availability cannot be checked or the store is down.
   */
  async book(r: BookingRequest): Promise<BookingOutcome> {
    const slot = { startMs: r.startMs, endMs: r.startMs + r.durationMin * 60_000 };
    if (slot.startMs < this.now()) return { ok: false, reason: 'in_past', alternatives: await this.alternatives(this.now(), r.durationMin) };
    if (!withinHours(slot, this.d.tz, this.d.hours))
      return { ok: false, reason: 'outside_hours', alternatives: await this.alternatives(slot.startMs, r.durationMin) };
    if (isBusy(slot, await this.busy(slot.startMs, slot.endMs)))
      return { ok: false, reason: 'slot_taken', alternatives: await this.alternatives(slot.startMs, r.durationMin) };

    const eventId = randomUUID().replace(/-/g, ''); // hex is a subset of base32hex (a–v, 0–9)
    const start = formatInZone(slot.startMs, this.d.tz);
    const end = formatInZone(slot.endMs, this.d.tz);
    const res = await this.d.store.bookAppointment({
      call_sid: r.callSid,
      lead_id: r.leadId,
      calendar_event_id: this.d.calendar.kind === 'google' ? eventId : null,
      start_at: start,
      end_at: end,
      timezone: this.d.tz,
      name: r.name,
      phone: r.phone,
      email: r.email,
      notes: r.notes,
    });
    if (!res.ok) return { ok: false, reason: 'slot_taken', alternatives: await this.alternatives(slot.startMs, r.durationMin) };

    const ev = {
      id: this.d.calendar.kind === 'google' ? eventId : res.id,
      summary: `${r.name} (${r.phone})`,
      description: [
        `Booked by phone with ${this.d.businessName}'s assistant.`,
        `Name: ${r.name}`,
        `Phone: ${r.phone}`,
        r.email ? `Email: ${r.email}` : '',
        r.notes ? `Notes: ${r.notes}` : '',
        r.callSid ? `Call: ${r.callSid}` : '',
        `Appointment: ${res.id}`,
      ]
        .filter(Boolean)
        .join('\n'),
      start,
      end,
      timeZone: this.d.tz,
    };
    const synced = await this.insertWithRetry(ev);
    return { ok: true, appointmentId: res.id, start, end, calendarEventId: ev.id, calendarSynced: synced };
  }

  /** events.insert, retried on transient failures; false (logged) when the calendar refused for good. */
  private async insertWithRetry(ev: Parameters<CalendarBackend['insertEvent']>[0]): Promise<boolean> {
    const attempts = this.d.insertAttempts ?? 4;
    for (let i = 1; ; i++) {
      try {
        await this.d.calendar.insertEvent(ev);
        return true;
      } catch (err) {
        const known = err instanceof CalendarError ? err : undefined;
        const retry = !!known?.retryable && i < attempts;
        this.d.log.warn(
          { err: (err as Error).message, code: known?.code, category: known?.category, attempt: i, eventId: ev.id, retry },
          'calendar insert failed',
        );
        if (!retry) {
          this.d.log.error({ eventId: ev.id, start: ev.start }, 'appointment kept in the store but not in the calendar; add it by hand');
          return false;
        }
        await sleep(250 * 2 ** (i - 1));
      }
    }
  }
}

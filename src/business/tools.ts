/**
 * The business tools (README.md "Appointments, emails and the post-call webhook"): `check_availability {date,
 * duration_minutes}`, `book_appointment {name, phone, email?, start, duration_minutes, notes?}`,
 * `save_lead {name, phone?, email?, company?, need?}`. Results are JSON strings the agent reads;
 * every failure is `isError` with a `message` it can say, never a throw.
 */
import { z } from 'zod';
import type { Tool, ToolResult } from '../call/tools';
import { CallbridgeError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';
import type { Booking } from './booking';
import { defineTool, invalidArguments } from './define-tool';
import { describeDay, type WeekHours } from './hours';
import { localTime, parseStart, weekdayOf } from './time';

export interface BusinessToolDeps {
  booking: Booking;
  store: Pick<Store, 'saveLead'>;
  hours: WeekHours;
  tz: string;
  log: Logger;
  /** Called after a booking with an email address; sends the confirmation in the background. */
  confirm(appointment: { id: string; name: string; email: string; start: string; end: string; notes: string | null }): void;
}

const MAX_SLOTS = 24;
/** Leads remembered per call so a booking links to the lead saved earlier in the same call. */
const MAX_REMEMBERED_CALLS = 1000;

const name = z.string().trim().min(1, 'required').max(200);
const phone = z
  .string()
  .trim()
  .regex(/^\+?[\d\s().-]{3,32}$/, 'expected a phone number, e.g. +14155550123');
const email = z.string().trim().pipe(z.email('expected an email address, e.g. jane@example.com'));
const duration = z.coerce.number().int('expected whole minutes').min(15, 'at least 15 minutes').max(480, 'at most 480 minutes');
const text = (max: number) => z.string().trim().max(max);

const ok = (o: unknown): ToolResult => ({ isError: false, output: JSON.stringify(o) });
const fail = (error: string, message: string, extra: Record<string, unknown> = {}): ToolResult => ({
  isError: true,
  output: JSON.stringify({ error, message, ...extra }),
});

function storeDown(what: string, log: Logger, err: unknown): ToolResult {
  const known = err instanceof CallbridgeError ? err : undefined;
  log.error({ err: (err as Error).message, code: known?.code, category: known?.category }, `${what} failed`);
  return fail('unavailable', `I could not ${what} right now. Apologise, take the caller's details and say someone will call back.`);
}

/** The three business tools over `deps`. */
export function businessTools(deps: BusinessToolDeps): Tool[] {
  const leads = new Map<string, string>();
  const remember = (callSid: string, id: string) => {
    leads.delete(callSid);
    leads.set(callSid, id);
    if (leads.size > MAX_REMEMBERED_CALLS) leads.delete(leads.keys().next().value!);
  };

  const checkAvailability = defineTool({
    name: 'check_availability',
    description: `Free appointment start times on one day, in the business time zone (${deps.tz}). Call before offering times.`,
    parameters: z.object({
      date: z.iso.date('expected a date as YYYY-MM-DD').describe('Day to check, YYYY-MM-DD'),
      duration_minutes: duration.describe('Length of the appointment in minutes'),
    }),
    async execute({ date, duration_minutes }) {
      try {
        const { slots } = await deps.booking.availability(date, duration_minutes);
        const hours = deps.hours[weekdayOf(date)] ?? [];
        const shown = slots.slice(0, MAX_SLOTS);
        const times = shown.map((s) => localTime(Date.parse(s), deps.tz));
        const message = !hours.length
          ? `Closed on ${date}.`
          : shown.length
            ? `Free on ${date}: ${times.join(', ')}.`
            : `Nothing free on ${date} for ${duration_minutes} minutes.`;
        return ok({
          date,
          timezone: deps.tz,
          duration_minutes,
          open: hours.length ? describeDay(hours) : null,
          slots: shown,
          more: slots.length > shown.length,
          message,
        });
      } catch (err) {
        return storeDown('check the calendar', deps.log, err);
      }
    },
  });

  const bookAppointment = defineTool({
    name: 'book_appointment',
    description: `Book an appointment. start is RFC 3339 (e.g. 2026-03-14T15:30:00-05:00) or local time in ${deps.tz} without an offset.`,
    parameters: z.object({
      name: name.describe("Caller's full name"),
      phone: phone.describe("Caller's phone number"),
      email: email.optional().describe('Email for the confirmation, if the caller gave one'),
      start: z.string().trim().min(1, 'required').describe('Start time, RFC 3339 or local YYYY-MM-DDTHH:MM'),
      duration_minutes: duration.describe('Length in minutes'),
      notes: text(1000).optional().describe('What the appointment is for'),
    }),
    async execute(a, ctx) {
      const startMs = parseStart(a.start, deps.tz);
      if (startMs === undefined)
        return invalidArguments([{ field: 'start', problem: 'expected a date and time such as 2026-03-14T15:30:00-05:00 or 2026-03-14T15:30' }]);
      try {
        const r = await deps.booking.book({
          callSid: ctx.callSid,
          leadId: leads.get(ctx.callSid) ?? null,
          name: a.name,
          phone: a.phone,
          email: a.email ?? null,
          startMs,
          durationMin: a.duration_minutes,
          notes: a.notes ?? null,
        });
        if (!r.ok) {
          const said = {
            in_past: 'That time has already passed.',
            outside_hours: 'That time is outside business hours.',
            slot_taken: 'That time has just been taken.',
          }[r.reason];
          const alt = r.alternatives;
          return fail(
            r.reason,
            `${said}${alt.length ? ` Offer one of: ${alt.map((s) => localTime(Date.parse(s), deps.tz) + ' on ' + s.slice(0, 10)).join(', ')}.` : ''}`,
            { alternatives: alt },
          );
        }
        if (a.email) deps.confirm({ id: r.appointmentId, name: a.name, email: a.email, start: r.start, end: r.end, notes: a.notes ?? null });
        return ok({
          booked: true,
          appointment_id: r.appointmentId,
          start: r.start,
          end: r.end,
          timezone: deps.tz,
          calendar_event_id: r.calendarEventId,
          confirmation_email: a.email ? 'sending' : 'none',
        });
      } catch (err) {
        return storeDown('book the appointment', deps.log, err);
      }
    },
  });

  const saveLead = defineTool({
    name: 'save_lead',
    description: "Save the caller's contact details and what they need, so the business can follow up.",
    parameters: z.object({
      name: name.describe("Caller's name"),
      phone: phone.optional().describe('Phone number; defaults to the number they call from'),
      email: email.optional(),
      company: text(200).optional(),
      need: text(2000).optional().describe('What the caller wants, in a sentence'),
    }),
    async execute(l, ctx) {
      try {
        const { id } = await deps.store.saveLead({
          call_sid: ctx.callSid,
          name: l.name,
          phone: l.phone ?? ctx.from ?? null,
          email: l.email ?? null,
          company: l.company ?? null,
          need: l.need ?? null,
        });
        remember(ctx.callSid, id);
        return ok({ saved: true, lead_id: id });
      } catch (err) {
        return storeDown('save the details', deps.log, err);
      }
    },
  });

  return [checkAvailability, bookAppointment, saveLead];
}

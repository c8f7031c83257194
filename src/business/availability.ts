/**
 * Free appointment slots: business hours (hours.ts) minus busy intervals, on the wall clock of the
 * business zone (time.ts). Pure: the caller supplies the busy list and "now".
 */
import type { Interval } from './calendar';
import type { WeekHours } from './hours';
import { localDate, weekdayOf, zonedToUtc } from './time';

/** Slot starts are this many minutes apart (on the hour and half hour). */
export const SLOT_STEP_MIN = 30;

/** The opening ranges of `date` as instants, [open, close) epoch ms. */
export function openRanges(date: string, tz: string, hours: WeekHours): Interval[] {
  return (hours[weekdayOf(date)] ?? []).map(([a, b]) => ({ startMs: zonedToUtc(date, a, tz), endMs: zonedToUtc(date, b, tz) }));
}

const overlaps = (a: Interval, b: Interval) => a.startMs < b.endMs && b.startMs < a.endMs;

/**
 * Start instants (epoch ms, ascending) of every free `durationMin` slot on `date`, stepping by
 * SLOT_STEP_MIN from each opening time, not before `nowMs`.
 */
export function freeSlots(o: { date: string; durationMin: number; tz: string; hours: WeekHours; busy: Interval[]; nowMs: number }): number[] {
  const out: number[] = [];
  const len = o.durationMin * 60_000;
  for (const open of openRanges(o.date, o.tz, o.hours)) {
    for (let s = open.startMs; s + len <= open.endMs; s += SLOT_STEP_MIN * 60_000) {
      if (s < o.nowMs) continue;
      const slot = { startMs: s, endMs: s + len };
      if (!o.busy.some((b) => overlaps(b, slot))) out.push(s);
    }
  }
  return out;
}

/** True when [startMs, endMs) lies inside one opening range of its local day. */
export function withinHours(slot: Interval, tz: string, hours: WeekHours): boolean {
  return openRanges(localDate(slot.startMs, tz), tz, hours).some((r) => slot.startMs >= r.startMs && slot.endMs <= r.endMs);
}

/** True when `slot` overlaps any of `busy`. */
export function isBusy(slot: Interval, busy: Interval[]): boolean {
  return busy.some((b) => overlaps(b, slot));
}

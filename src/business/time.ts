/**
 * Wall-clock time in an IANA zone without a date library: offsets come from the runtime's tz
 * database through `Intl.DateTimeFormat` (https://tc39.es/ecma402/#datetimeformat-objects), so DST
 * rules are the same as the ones Google Calendar applies to `timeZone` fields.
 * Instants are epoch milliseconds; local dates are `YYYY-MM-DD`; times of day are minutes after 00:00.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function fmt(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formats.set(tz, f);
  }
  return f;
}

/** True when the runtime knows `tz` as an IANA time zone (e.g. `Asia/Kolkata`, `UTC`). */
export function isValidTimeZone(tz: string): boolean {
  try {
    fmt(tz);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(ms: number, tz: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of fmt(tz).formatToParts(new Date(ms))) if (p.type !== 'literal' && p.type !== 'weekday') out[p.type] = Number(p.value);
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour!, minute: out.minute!, second: out.second! };
}

/** Offset of `tz` from UTC at instant `ms`, in minutes east of Greenwich (New York in winter: -300). */
export function zoneOffsetMin(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** Parse `YYYY-MM-DD` into [year, month, day]; throws RangeError when it is not a calendar date. */
export function parseDate(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  const d = Number(m?.[3]);
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (!m || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${date}`);
  return [y, mo, d];
}

/**
 * The instant at which the wall clock in `tz` shows `date` + `minutes`. In a spring-forward gap the
 * time is moved forward by the gap (02:30 → 03:30 in New York); in a fall-back overlap the earlier
 * instant is taken.
 */
export function zonedToUtc(date: string, minutes: number, tz: string): number {
  const [y, mo, d] = parseDate(date);
  const wall = Date.UTC(y, mo - 1, d) + minutes * 60_000;
  const first = wall - zoneOffsetMin(wall, tz) * 60_000;
  const second = wall - zoneOffsetMin(first, tz) * 60_000;
  if (first === second) return first;
  // Overlap or gap: prefer the candidate that reads back as the wall time, earliest first.
  const reads = (ms: number) => ms + zoneOffsetMin(ms, tz) * 60_000 === wall;
  const ok = [first, second].filter(reads).sort((a, b) => a - b);
  return ok[0] ?? Math.max(first, second);
}

/** `YYYY-MM-DD` of instant `ms` on the wall clock of `tz`. */
export function localDate(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** RFC 3339 with the zone's offset at that instant, seconds precision: `2026-03-14T15:30:00-05:00`. */
export function formatInZone(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const off = zoneOffsetMin(ms, tz);
  const sign = off < 0 ? '-' : '+';
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

/** `HH:MM` on the wall clock of `tz`. */
export function localTime(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** Day of the week of a `YYYY-MM-DD` date: 0 = Sunday … 6 = Saturday. */
export function weekdayOf(date: string): number {
  const [y, mo, d] = parseDate(date);
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
}

/** The date `n` days after `date` (n may be negative). */
export function addDays(date: string, n: number): string {
  const [y, mo, d] = parseDate(date);
  return new Date(Date.UTC(y, mo - 1, d + n)).toISOString().slice(0, 10);
}

const RFC3339_OFFSET = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * An agent-supplied start time as an instant: RFC 3339 with `Z` or an offset is taken as is; a local
 * `YYYY-MM-DDTHH:MM[:SS]` without one is read on the wall clock of `tz`.
 * @returns epoch ms, or undefined when `text` is neither form.
 */
export function parseStart(text: string, tz: string): number | undefined {
  const m = RFC3339_OFFSET.exec(text.trim());
  if (!m) return undefined;
  const [, date, hh, mm, ss, zone] = m;
  try {
    parseDate(date!);
  } catch {
    return undefined;
  }
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss ?? 0) > 59) return undefined;
  if (zone) {
    const ms = Date.parse(text.trim());
    return Number.isNaN(ms) ? undefined : ms;
  }
  return zonedToUtc(date!, Number(hh) * 60 + Number(mm), tz) + Number(ss ?? 0) * 1000;
}

/**
 * BUSINESS_HOURS: when appointments may be booked, on the wall clock of BUSINESS_TIMEZONE.
 *
 * Format: groups separated by `;`, each `<days> <ranges>`:
 * - days: `Mon`, a span `Mon-Fri` (may wrap: `Sat-Sun`, `Fri-Mon`) or a list `Mon,Wed,Fri`
 *   (English three-letter names, any case);
 * - ranges: `HH:MM-HH:MM` (24 h, close after open, `24:00` allowed), several separated by `,`.
 * Example: `Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00`. A day named twice gets both groups'
 * ranges. Default `Mon-Fri 09:00-17:00`.
 */

/** Opening ranges per weekday (index 0 = Sunday … 6 = Saturday), minutes after 00:00, [open, close). */
export type WeekHours = ReadonlyArray<ReadonlyArray<readonly [number, number]>>;

export const DEFAULT_BUSINESS_HOURS = 'Mon-Fri 09:00-17:00';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function day(name: string): number {
  const i = DAYS.indexOf(name.toLowerCase());
  if (i < 0) throw new Error(`unknown day "${name}" (use Mon Tue Wed Thu Fri Sat Sun)`);
  return i;
}

function daysOf(token: string): number[] {
  const out: number[] = [];
  for (const part of token.split(',')) {
    const [a, b] = part.split('-');
    if (b === undefined) {
      out.push(day(a!));
      continue;
    }
    for (let d = day(a!), end = day(b); ; d = (d + 1) % 7) {
      out.push(d);
      if (d === end) break;
    }
  }
  return out;
}

function minutes(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  const v = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || v > 24 * 60) throw new Error(`bad time "${hhmm}" (use HH:MM, 00:00 to 24:00)`);
  return v;
}

/**
 * Parse a BUSINESS_HOURS value.
 * @throws Error naming the bad part, e.g. `unknown day "Mo" (use Mon Tue …)`.
 */
export function parseBusinessHours(spec: string): WeekHours {
  const week: [number, number][][] = [[], [], [], [], [], [], []];
  const groups = spec
    .split(';')
    .map((g) => g.trim())
    .filter(Boolean);
  if (!groups.length) throw new Error(`expected e.g. "${DEFAULT_BUSINESS_HOURS}"`);
  for (const g of groups) {
    const m = /^(\S+)\s+(\S+(?:\s*,\s*\S+)*)$/.exec(g);
    if (!m) throw new Error(`"${g}": expected "<days> <HH:MM-HH:MM>[,<HH:MM-HH:MM>…]", e.g. "${DEFAULT_BUSINESS_HOURS}"`);
    const ranges = m[2]!.split(',').map((r) => {
      const [open, close, extra] = r.trim().split('-');
      if (close === undefined || extra !== undefined) throw new Error(`"${r.trim()}": expected HH:MM-HH:MM`);
      const range: [number, number] = [minutes(open!), minutes(close)];
      if (range[1] <= range[0]) throw new Error(`"${r.trim()}": closing time must be after opening time`);
      return range;
    });
    for (const d of daysOf(m[1]!)) week[d]!.push(...ranges);
  }
  for (const day of week) day.sort((a, b) => a[0] - b[0]);
  return week;
}

/** `Mon-Fri 09:00-17:00`-style text of one weekday's ranges, for the agent (`09:00-12:30, 13:30-17:00`). */
export function describeDay(ranges: ReadonlyArray<readonly [number, number]>): string {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return ranges.map(([a, b]) => `${hhmm(a)}-${hhmm(b)}`).join(', ');
}

import { freeSlots, withinHours } from '../../../src/business/availability';
import { parseBusinessHours } from '../../../src/business/hours';
import { formatInZone, localDate, parseStart, zonedToUtc } from '../../../src/business/time';

describe('business time zones', () => {
  it('turns a wall-clock time into the right instant on both sides of a DST change', () => {
    expect(new Date(zonedToUtc('2026-03-06', 10 * 60, 'America/New_York')).toISOString()).toBe('2026-03-06T15:00:00.000Z');
    expect(new Date(zonedToUtc('2026-03-09', 10 * 60, 'America/New_York')).toISOString()).toBe('2026-03-09T14:00:00.000Z');
    expect(new Date(zonedToUtc('2026-11-24', 9 * 60 + 30, 'Asia/Kolkata')).toISOString()).toBe('2026-11-24T04:00:00.000Z');
  });

  it('moves a time in the spring-forward gap forward and takes the earlier of a repeated hour', () => {
    expect(formatInZone(zonedToUtc('2026-03-08', 2 * 60 + 30, 'America/New_York'), 'America/New_York')).toBe('2026-03-08T03:30:00-04:00');
    expect(formatInZone(zonedToUtc('2026-11-01', 60 + 30, 'America/New_York'), 'America/New_York')).toBe('2026-11-01T01:30:00-04:00');
  });

  it('formats instants with the offset of the zone at that instant', () => {
    expect(formatInZone(Date.parse('2026-03-14T20:30:00Z'), 'America/New_York')).toBe('2026-03-14T16:30:00-04:00');
    expect(formatInZone(Date.parse('2026-11-24T04:00:00Z'), 'Asia/Kolkata')).toBe('2026-11-24T09:30:00+05:30');
    expect(localDate(Date.parse('2026-11-23T20:00:00Z'), 'Asia/Kolkata')).toBe('2026-11-24');
  });

  it('reads agent start times with an offset as given and without one in the business zone', () => {
    expect(parseStart('2026-03-14T15:30:00-05:00', 'Asia/Kolkata')).toBe(Date.parse('2026-03-14T20:30:00Z'));
    expect(parseStart('2026-11-24T10:00', 'Asia/Kolkata')).toBe(Date.parse('2026-11-24T04:30:00Z'));
    expect(parseStart('tomorrow at ten', 'UTC')).toBeUndefined();
    expect(parseStart('2026-02-30T10:00', 'UTC')).toBeUndefined();
  });
});

describe('BUSINESS_HOURS', () => {
  it('parses spans, lists, several ranges and wrapping spans', () => {
    const h = parseBusinessHours('Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00');
    expect(h[1]).toEqual([
      [540, 750],
      [810, 1020],
    ]);
    expect(h[6]).toEqual([[600, 840]]);
    expect(h[0]).toEqual([]);
    expect(parseBusinessHours('Fri-Mon 08:00-24:00')[0]).toEqual([[480, 1440]]);
    expect(parseBusinessHours('mon,WED 09:00-10:00')[3]).toEqual([[540, 600]]);
  });

  it.each([
    ['Mo-Fr 09:00-17:00', /unknown day "Mo"/],
    ['Mon-Fri 9-17', /bad time "9"/],
    ['Mon-Fri 09:00', /expected HH:MM-HH:MM/],
    ['Mon-Fri 17:00-09:00', /closing time must be after opening time/],
    ['Mon-Fri 09:00-25:00', /bad time "25:00"/],
    ['', /expected e.g./],
  ])('refuses %j with a message naming the problem', (spec, msg) => {
    expect(() => parseBusinessHours(spec)).toThrow(msg);
  });
});

describe('free slots', () => {
  const hours = parseBusinessHours('Mon-Fri 09:00-12:00');
  const tz = 'America/New_York';

  it('lists half-hourly starts inside hours, minus busy time and the past', () => {
    const busy = [{ startMs: Date.parse('2026-03-16T14:00:00Z'), endMs: Date.parse('2026-03-16T15:00:00Z') }]; // 10:00-11:00 EDT
    const slots = freeSlots({ date: '2026-03-16', durationMin: 60, tz, hours, busy, nowMs: Date.parse('2026-03-16T13:10:00Z') }).map((s) =>
      formatInZone(s, tz),
    );
    expect(slots).toEqual(['2026-03-16T11:00:00-04:00']);
  });

  it('has nothing on a closed day', () => {
    expect(freeSlots({ date: '2026-03-15', durationMin: 30, tz, hours, busy: [], nowMs: 0 })).toEqual([]);
  });

  it('checks a slot against its own local day', () => {
    expect(withinHours({ startMs: Date.parse('2026-03-16T15:00:00Z'), endMs: Date.parse('2026-03-16T16:00:00Z') }, tz, hours)).toBe(true);
    expect(withinHours({ startMs: Date.parse('2026-03-16T15:30:00Z'), endMs: Date.parse('2026-03-16T16:30:00Z') }, tz, hours)).toBe(false);
  });
});

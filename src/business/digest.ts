/**
 * The owner's daily digest: yesterday's calls (with lead and booking counts and a transcript link
 * each) and the appointments of the next 7 days, sent to DIGEST_TO on DIGEST_CRON in
 * BUSINESS_TIMEZONE (croner: https://croner.56k.guru/usage/configuration/). One digest per local
 * day: the key `digest:<YYYY-MM-DD>` (date of the run) is claimed in the store and sent as Resend's
 * Idempotency-Key, so several instances or a restart within the day send it once.
 */
import { Cron } from 'croner';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';
import type { Mailer } from './mailer';
import { sendOnce, type SendOnceResult } from './send-once';
import { addDays, formatInZone, localDate, localTime, zonedToUtc } from './time';

export interface DigestDeps {
  store: Pick<Store, 'callsBetween' | 'appointmentsBetween' | 'claimEmail' | 'updateEmail'>;
  mailer: Mailer;
  log: Logger;
  tz: string;
  from: string;
  /** DIGEST_TO: one address or several separated by commas. */
  to: string;
  businessName: string;
  /** PUBLIC_URL: transcript links are `<PUBLIC_URL>/api/calls/<callSid>`. */
  publicUrl: string;
}

/** The digest's text for the run at `nowMs`: calls of the previous local day, appointments of the next 7. */
export async function composeDigest(d: DigestDeps, nowMs: number): Promise<{ key: string; subject: string; text: string }> {
  const today = localDate(nowMs, d.tz);
  const yesterday = addDays(today, -1);
  const dayStart = zonedToUtc(yesterday, 0, d.tz);
  const todayStart = zonedToUtc(today, 0, d.tz);
  const weekEnd = zonedToUtc(addDays(today, 7), 0, d.tz);
  const [calls, upcoming] = await Promise.all([
    d.store.callsBetween(new Date(dayStart).toISOString(), new Date(todayStart).toISOString()),
    d.store.appointmentsBetween(new Date(todayStart).toISOString(), new Date(weekEnd).toISOString()),
  ]);
  const leads = calls.reduce((n, c) => n + Number(c.leads), 0);
  const bookings = calls.reduce((n, c) => n + Number(c.bookings), 0);
  const base = d.publicUrl.replace(/\/+$/, '');
  const lines = [
    `${d.businessName}: daily digest for ${yesterday} (${d.tz})`,
    '',
    `Calls: ${calls.length}   Leads: ${leads}   Bookings: ${bookings}`,
    '',
    'Calls',
    ...(calls.length
      ? calls.map((c) => {
          const outcome = `${c.provider}, ${c.status}${c.end_reason ? `: ${c.end_reason}` : ''}`;
          const line = `- ${localTime(Date.parse(c.started_at), d.tz)} ${c.direction} ${c.from_number ?? 'unknown'} (${outcome})`;
          return `${line} leads ${c.leads}, bookings ${c.bookings}\n  transcript: ${base}/api/calls/${encodeURIComponent(c.call_sid)}`;
        })
      : ['- none']),
    '',
    'Appointments, next 7 days',
    ...(upcoming.length
      ? upcoming.map((a) => {
          const when = formatInZone(Date.parse(a.start_at), d.tz).slice(0, 16).replace('T', ' ');
          const contact = `${a.phone ? ` ${a.phone}` : ''}${a.email ? ` <${a.email}>` : ''}`;
          return `- ${when} ${a.name}${contact}${a.notes ? `: ${a.notes}` : ''}`;
        })
      : ['- none']),
    '',
    'Transcript links need the admin key (Authorization: Bearer ADMIN_API_KEY).',
  ];
  return {
    key: `digest:${today}`,
    subject: `${d.businessName} daily digest ${yesterday}: ${calls.length} calls, ${leads} leads, ${bookings} bookings`,
    text: lines.join('\n'),
  };
}

/** Compose and send the digest for the run at `nowMs` unless this day's digest is already claimed. */
export async function runDigest(d: DigestDeps, nowMs = Date.now()): Promise<SendOnceResult> {
  const { key, subject, text } = await composeDigest(d, nowMs);
  return sendOnce(d, 'digest', key, { from: d.from, to: d.to, subject, text });
}

/**
 * Schedule the digest. `protect` skips a run while the previous one is still going; errors are
 * logged, never thrown out of the timer.
 * @param pattern DIGEST_CRON (5 or 6 fields), evaluated in `d.tz`.
 */
export function scheduleDigest(d: DigestDeps, pattern: string): Cron {
  const job = new Cron(pattern, { timezone: d.tz, protect: true, name: 'digest' }, async () => {
    try {
      await runDigest(d);
    } catch (err) {
      d.log.error({ err: (err as Error).message }, 'digest failed');
    }
  });
  d.log.info({ cron: pattern, tz: d.tz, next: job.nextRun()?.toISOString() }, 'daily digest scheduled');
  return job;
}

/**
 * The business layer in one object: calendar (Google or embedded), mailer (Resend or outbox),
 * booking, the three agent tools, the confirmation emails and the daily digest schedule.
 * `createBusiness` says once in the log which backends are in use.
 */
import { join } from 'node:path';
import type { Cron } from 'croner';
import type { Tool } from '../call/tools';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';
import { Booking } from './booking';
import { embeddedCalendar, type CalendarBackend } from './calendar';
import { runDigest, scheduleDigest, type DigestDeps } from './digest';
import { GoogleCalendar, loadServiceAccount } from './google-calendar';
import { parseBusinessHours } from './hours';
import { OutboxMailer, ResendMailer, type Mailer } from './mailer';
import { sendOnce } from './send-once';
import { localTime } from './time';
import { businessTools } from './tools';

export type BusinessConfig = Pick<
  Config,
  | 'BUSINESS_NAME'
  | 'BUSINESS_TIMEZONE'
  | 'BUSINESS_HOURS'
  | 'GOOGLE_SERVICE_ACCOUNT_JSON'
  | 'GOOGLE_CALENDAR_ID'
  | 'GOOGLE_API_ROOT'
  | 'RESEND_API_KEY'
  | 'RESEND_BASE_URL'
  | 'EMAIL_FROM'
  | 'DIGEST_TO'
  | 'DIGEST_CRON'
  | 'OUTBOX_DIR'
  | 'DATA_DIR'
  | 'PUBLIC_URL'
>;

export interface Business {
  readonly calendar: CalendarBackend;
  readonly mailer: Mailer;
  readonly booking: Booking;
  readonly tools: Tool[];
  /** Send the daily digest now (idempotent per local day); undefined without DIGEST_TO. */
  readonly runDigest?: (nowMs?: number) => ReturnType<typeof runDigest>;
  /** Wait for confirmation emails still being sent. */
  settle(): Promise<void>;
  /** Stop the digest schedule and wait for emails in flight. */
  close(): Promise<void>;
}

/** Google Calendar when both Google variables are set, else the embedded calendar. */
function calendarFor(cfg: BusinessConfig, log: Logger): CalendarBackend {
  if (cfg.GOOGLE_SERVICE_ACCOUNT_JSON && cfg.GOOGLE_CALENDAR_ID) {
    log.info({ calendarId: cfg.GOOGLE_CALENDAR_ID, apiRoot: cfg.GOOGLE_API_ROOT ?? 'https://www.googleapis.com/' }, 'calendar: Google Calendar');
    return new GoogleCalendar({ key: loadServiceAccount(cfg.GOOGLE_SERVICE_ACCOUNT_JSON), calendarId: cfg.GOOGLE_CALENDAR_ID, rootUrl: cfg.GOOGLE_API_ROOT });
  }
  log.info('calendar: embedded (appointments table); set GOOGLE_SERVICE_ACCOUNT_JSON and GOOGLE_CALENDAR_ID to book in Google Calendar');
  return embeddedCalendar;
}

function mailerFor(cfg: BusinessConfig, log: Logger): Mailer {
  if (cfg.RESEND_API_KEY) {
    log.info({ baseUrl: cfg.RESEND_BASE_URL ?? 'https://api.resend.com' }, 'email: Resend');
    return new ResendMailer(cfg.RESEND_API_KEY, cfg.RESEND_BASE_URL);
  }
  const dir = cfg.OUTBOX_DIR ?? join(cfg.DATA_DIR, 'outbox');
  log.info({ dir }, 'email: .eml files in the outbox folder; set RESEND_API_KEY to send through Resend');
  return new OutboxMailer(dir);
}

/**
 * @throws Error when GOOGLE_SERVICE_ACCOUNT_JSON cannot be read (loadConfig reports it first).
 */
export function createBusiness(
  cfg: BusinessConfig,
  store: Store,
  log: Logger,
  o: { calendar?: CalendarBackend; mailer?: Mailer; scheduleDigest?: boolean } = {},
): Business {
  const tz = cfg.BUSINESS_TIMEZONE;
  const hours = parseBusinessHours(cfg.BUSINESS_HOURS);
  const calendar = o.calendar ?? calendarFor(cfg, log);
  const mailer = o.mailer ?? mailerFor(cfg, log);
  const booking = new Booking({ store, calendar, hours, tz, businessName: cfg.BUSINESS_NAME, log });
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch((err: Error) => log.error({ err: err.message }, 'email failed')).finally(() => inFlight.delete(q));
    inFlight.add(q);
  };

  const tools = businessTools({
    booking,
    store,
    hours,
    tz,
    log,
    confirm: (a) => {
      const day = a.start.slice(0, 10);
      const [from, until] = [localTime(Date.parse(a.start), tz), localTime(Date.parse(a.end), tz)];
      const text = [
        `Hello ${a.name},`,
        '',
        `your appointment with ${cfg.BUSINESS_NAME} is confirmed for ${day} at ${from} (until ${until}, ${tz}).`,
        ...(a.notes ? ['', `Notes: ${a.notes}`] : []),
        '',
        'To change it, call us back.',
        '',
        cfg.BUSINESS_NAME,
      ].join('\n');
      track(
        sendOnce({ store, mailer, log }, 'confirmation', `confirmation:${a.id}`, {
          from: cfg.EMAIL_FROM,
          to: a.email,
          subject: `Your appointment with ${cfg.BUSINESS_NAME} on ${day}`,
          text,
        }),
      );
    },
  });

  const digestDeps: DigestDeps | undefined = cfg.DIGEST_TO
    ? { store, mailer, log, tz, from: cfg.EMAIL_FROM, to: cfg.DIGEST_TO, businessName: cfg.BUSINESS_NAME, publicUrl: cfg.PUBLIC_URL }
    : undefined;
  const job: Cron | undefined = digestDeps && o.scheduleDigest !== false ? scheduleDigest(digestDeps, cfg.DIGEST_CRON) : undefined;
  if (!digestDeps) log.info('daily digest off (set DIGEST_TO to send it)');

  const settle = async () => {
    while (inFlight.size) await Promise.all([...inFlight]);
  };
  return {
    calendar,
    mailer,
    booking,
    tools,
    runDigest: digestDeps ? (nowMs) => runDigest(digestDeps, nowMs) : undefined,
    settle,
    async close() {
      job?.stop();
      await settle();
    },
  };
}

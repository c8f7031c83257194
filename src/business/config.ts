/**
 * The business layer's environment variables (calendar, email, digest), as zod fields that
 * src/config.ts spreads into its one schema, plus the checks that span several variables.
 * Every message names what is expected; src/config.ts prefixes the variable name.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { loadServiceAccount } from './service-account';
import { DEFAULT_BUSINESS_HOURS, parseBusinessHours } from './hours';
import { isValidTimeZone } from './time';

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const str = () => z.preprocess(blank, z.string().optional());
const httpUrl = () => z.preprocess(blank, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional());

/** `Name <a@b.c>` or `a@b.c`. */
const MAILBOX = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;

function check<T>(fn: (v: string) => T): (v: string, ctx: z.RefinementCtx) => void {
  return (v, ctx) => {
    try {
      fn(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  };
}

export const businessVars = {
  /** IANA zone of the business: availability, bookings and the digest schedule use its wall clock. */
  BUSINESS_TIMEZONE: z.preprocess(
    blank,
    z.string().default('UTC').refine(isValidTimeZone, 'expected an IANA time zone, e.g. America/New_York or Asia/Kolkata'),
  ),
  /** Bookable hours (format in src/business/hours.ts). */
  BUSINESS_HOURS: z.preprocess(blank, z.string().default(DEFAULT_BUSINESS_HOURS).superRefine(check(parseBusinessHours))),
  rest: {
    GOOGLE_SERVICE_ACCOUNT_JSON: str(),
    GOOGLE_CALENDAR_ID: str(),
    GOOGLE_API_ROOT: httpUrl(),
    RESEND_API_KEY: str(),
    RESEND_BASE_URL: httpUrl(),
    EMAIL_FROM: z.preprocess(
      blank,
      z
        .string()
        .default('Bookings <onboarding@resend.dev>')
        .refine((v) => MAILBOX.test(v), 'expected "Name <address@domain>" or address@domain'),
    ),
    DIGEST_TO: z.preprocess(
      blank,
      z
        .string()
        .refine((v) => v.split(',').every((a) => MAILBOX.test(a.trim())), 'expected one or more email addresses separated by commas')
        .optional(),
    ),
    DIGEST_CRON: z.preprocess(
      blank,
      z
        .string()
        .default('0 8 * * *')
        .superRefine(check((v) => new Cron(v, { paused: true }).stop())),
    ),
    OUTBOX_DIR: str(),
  },
};

/** The business variables the cross-variable checks read (a narrowed view of src/config.ts's Config, so this module does not import it back). */
export interface BusinessCheckInput {
  GOOGLE_SERVICE_ACCOUNT_JSON?: string;
  GOOGLE_CALENDAR_ID?: string;
}

/** Problems that involve more than one business variable, one line each, naming the variable. */
export function businessProblems(cfg: BusinessCheckInput): string[] {
  const out: string[] = [];
  if (cfg.GOOGLE_SERVICE_ACCOUNT_JSON) {
    try {
      loadServiceAccount(cfg.GOOGLE_SERVICE_ACCOUNT_JSON);
    } catch (err) {
      out.push(`GOOGLE_SERVICE_ACCOUNT_JSON: ${(err as Error).message}`);
    }
    if (!cfg.GOOGLE_CALENDAR_ID)
      out.push(
        'GOOGLE_CALENDAR_ID: required when GOOGLE_SERVICE_ACCOUNT_JSON is set (the calendar shared with the service account, e.g. its email address) (not set)',
      );
  }
  if (cfg.GOOGLE_CALENDAR_ID && !cfg.GOOGLE_SERVICE_ACCOUNT_JSON)
    out.push('GOOGLE_SERVICE_ACCOUNT_JSON: required when GOOGLE_CALENDAR_ID is set (inline key JSON or the path of the key file) (not set)');
  return out;
}

import { ConfigError } from '../../../src/config';
import { testConfig } from '../../helpers/config';

function problems(over: Record<string, string>): string[] {
  try {
    testConfig(over);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('business configuration', () => {
  it('has working defaults', () => {
    const cfg = testConfig();
    expect(cfg).toMatchObject({
      BUSINESS_TIMEZONE: 'UTC',
      BUSINESS_HOURS: 'Mon-Fri 09:00-17:00',
      DIGEST_CRON: '0 8 * * *',
      EMAIL_FROM: 'Bookings <onboarding@resend.dev>',
    });
    expect(cfg.RESEND_API_KEY).toBeUndefined();
    expect(cfg.OUTBOX_DIR).toBeUndefined();
  });

  it.each([
    [{ BUSINESS_TIMEZONE: 'Mars/Olympus' }, /^BUSINESS_TIMEZONE: expected an IANA time zone/],
    [{ BUSINESS_HOURS: 'Mon-Fri 9-5' }, /^BUSINESS_HOURS: bad time "9"/],
    [{ DIGEST_CRON: '0 25 * * *' }, /^DIGEST_CRON: .*hour/],
    [{ DIGEST_TO: 'owner' }, /^DIGEST_TO: expected one or more email addresses/],
    [{ EMAIL_FROM: 'Acme' }, /^EMAIL_FROM: expected "Name <address@domain>"/],
    [{ RESEND_BASE_URL: 'ftp://x' }, /^RESEND_BASE_URL: expected an http\(s\) URL/],
    [{ GOOGLE_API_ROOT: 'nope' }, /^GOOGLE_API_ROOT: expected an http\(s\) URL/],
    [
      { GOOGLE_SERVICE_ACCOUNT_JSON: '{"client_email":"a@b"}', GOOGLE_CALENDAR_ID: 'c' },
      /^GOOGLE_SERVICE_ACCOUNT_JSON: expected a service-account key with client_email and private_key/,
    ],
    [{ GOOGLE_SERVICE_ACCOUNT_JSON: '/nonexistent/key.json', GOOGLE_CALENDAR_ID: 'c' }, /^GOOGLE_SERVICE_ACCOUNT_JSON: ENOENT/],
    [{ GOOGLE_CALENDAR_ID: 'c' }, /^GOOGLE_SERVICE_ACCOUNT_JSON: required when GOOGLE_CALENDAR_ID is set/],
  ])('refuses %j with one line naming the variable', (over, line) => {
    const p = problems(over);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(line);
  });
});

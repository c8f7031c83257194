/**
 * Email through the Resend SDK against the Resend emulator, the `.eml` outbox, and the daily digest:
 * one per local day across two instances sharing a database, restarts and repeated runs.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusiness, type Business } from '../../src/business';
import { scheduleDigest } from '../../src/business/digest';
import { EmailError, OutboxMailer, ResendMailer } from '../../src/business/mailer';
import { sendOnce } from '../../src/business/send-once';
import { zonedToUtc } from '../../src/business/time';
import { silentLogger } from '../../src/observability/logger';
import { createStore, type Store } from '../../src/store';
import { startResendEmulator, type ResendEmulator } from '../emulators/resend';
import { testConfig } from '../helpers/config';

const TZ = 'Asia/Kolkata';

describe('email and the daily digest', () => {
  let rs: ResendEmulator;
  let store: Store;
  let dataDir: string;

  beforeAll(async () => {
    rs = await startResendEmulator({ processingMs: 50 });
    dataDir = mkdtempSync(join(tmpdir(), 'callbridge-email-'));
    store = createStore({ DATA_DIR: dataDir }, silentLogger);
    for (let i = 0; i < 300 && !(await store.healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await rs?.close();
  });

  const msg = { from: 'Acme <bookings@acme.test>', to: 'jane@example.com', subject: 'Hi', text: 'Hello' };

  it('sends through the SDK with the idempotency key, and a repeat of the key is the same email', async () => {
    const m = new ResendMailer(rs.apiKey, rs.url);
    const a = await m.send(msg, 'test:one');
    const b = await m.send(msg, 'test:one');
    expect(b.id).toBe(a.id);
    expect(rs.emails.filter((e) => e.idempotencyKey === 'test:one')).toHaveLength(1);
    await expect(m.send({ ...msg, text: 'changed' }, 'test:one')).rejects.toMatchObject({
      errorName: 'invalid_idempotent_request',
      statusCode: 409,
      retryable: false,
    });
  });

  it('turns Resend refusals into EmailErrors that say whether a retry may help', async () => {
    const m = new ResendMailer(rs.apiKey, rs.url);
    await expect(m.send({ ...msg, from: 'not an address' }, 'test:bad-from')).rejects.toMatchObject({
      errorName: 'validation_error',
      statusCode: 422,
      retryable: false,
    });
    await expect(new ResendMailer('re_wrong', rs.url).send(msg, 'test:key')).rejects.toMatchObject({ errorName: 'invalid_api_key', statusCode: 403 });
    const closed = new ResendMailer(rs.apiKey, 'http://127.0.0.1:9');
    const err = await closed.send(msg, 'test:down').catch((e: EmailError) => e);
    expect(err).toBeInstanceOf(EmailError);
    expect((err as EmailError).retryable).toBe(true);
  });

  it('claims the key, retries a 500, sends once and records the email', async () => {
    rs.failNext(500, 1);
    const deps = { store, mailer: new ResendMailer(rs.apiKey, rs.url), log: silentLogger };
    const first = await sendOnce(deps, 'confirmation', 'confirmation:retry-test', msg);
    expect(first).toMatchObject({ sent: true });
    await expect(sendOnce(deps, 'confirmation', 'confirmation:retry-test', msg)).resolves.toEqual({ sent: false, reason: 'duplicate' });
    expect(rs.answers.filter((a) => a.idempotencyKey === 'confirmation:retry-test').map((a) => a.status)).toEqual([500, 200]);
  }, 20_000);

  it('writes an .eml file per key to the outbox without a Resend key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbridge-outbox-'));
    const deps = { store, mailer: new OutboxMailer(dir), log: silentLogger };
    const r = await sendOnce(deps, 'confirmation', 'confirmation:outbox-test', msg);
    expect(r).toEqual({ sent: true, id: join(dir, 'confirmation_outbox-test.eml') });
    expect(readdirSync(dir)).toEqual(['confirmation_outbox-test.eml']);
    const eml = readFileSync(join(dir, 'confirmation_outbox-test.eml'), 'utf8');
    expect(eml).toMatch(/^From: Acme <bookings@acme.test>\r\nTo: jane@example.com\r\nSubject: Hi\r\n/);
    expect(eml).toContain('X-Idempotency-Key: confirmation:outbox-test\r\n\r\nHello\r\n');
  });

  it('sends one digest per local day across two instances and repeated runs, with calls and transcript links', async () => {
    const cfg = testConfig({
      BUSINESS_NAME: 'Acme',
      BUSINESS_TIMEZONE: TZ,
      DIGEST_TO: 'owner@acme.test',
      RESEND_API_KEY: rs.apiKey,
      RESEND_BASE_URL: rs.url,
      DATA_DIR: dataDir,
    });
    // A call yesterday (local), so the digest has something to list.
    const run = zonedToUtc('2031-05-06', 8 * 60, TZ);
    const callAt = new Date(zonedToUtc('2031-05-05', 14 * 60, TZ)).toISOString();
    await store.saveCall({
      call_sid: 'CAdigest0001',
      carrier: 'twilio',
      direction: 'inbound',
      from_number: '+919845000001',
      to_number: '+918047112345',
      provider: 'elevenlabs',
      flag_source: 'env',
      status: 'completed',
      started_at: callAt,
      answered_at: callAt,
      ended_at: callAt,
      end_reason: 'carrier_stop',
      conversation_id: null,
      metrics: {},
    });
    await store.flush(10_000);

    const instances: Business[] = [
      createBusiness(cfg, store, silentLogger, { scheduleDigest: false }),
      createBusiness(cfg, store, silentLogger, { scheduleDigest: false }),
    ];
    const results = await Promise.all(instances.map((b) => b.runDigest!(run)));
    expect(results.filter((r) => r.sent)).toHaveLength(1);
    expect(await instances[0]!.runDigest!(run + 3_600_000)).toEqual({ sent: false, reason: 'duplicate' }); // later the same day, or after a restart
    const digests = rs.emails.filter((e) => e.idempotencyKey === 'digest:2031-05-06');
    expect(digests).toHaveLength(1);
    expect(digests[0]!.to).toEqual(['owner@acme.test']);
    expect(digests[0]!.subject).toBe('Acme daily digest 2031-05-05: 1 calls, 0 leads, 0 bookings');
    expect(digests[0]!.text).toContain('14:00 inbound +919845000001');
    expect(digests[0]!.text).toContain('transcript: https://calls.example.test/api/calls/CAdigest0001');

    const next = await instances[1]!.runDigest!(run + 86_400_000);
    expect(next.sent).toBe(true);
    expect(rs.emails.filter((e) => e.idempotencyKey === 'digest:2031-05-07')).toHaveLength(1);
    await Promise.all(instances.map((b) => b.close()));
  }, 30_000);

  it('schedules the digest on DIGEST_CRON in the business time zone', () => {
    const job = scheduleDigest(
      {
        store,
        mailer: new OutboxMailer(dataDir),
        log: silentLogger,
        tz: TZ,
        from: msg.from,
        to: 'owner@acme.test',
        businessName: 'Acme',
        publicUrl: 'https://x.test',
      },
      '0 8 * * *',
    );
    try {
      expect(job.nextRuns(2, new Date('2031-05-05T12:00:00Z')).map((d) => d.toISOString())).toEqual(['2031-05-06T02:30:00.000Z', '2031-05-07T02:30:00.000Z']);
    } finally {
      job.stop();
    }
  });
});

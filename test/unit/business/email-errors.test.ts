/**
 * Every way a Resend send fails becomes an EmailError (a CallbridgeError) with a stable code and the
 * category retries read, through ResendMailer and the official SDK against the Resend emulator.
 */
import { EmailError, ResendMailer } from '../../../src/business/mailer';
import { CallbridgeError } from '../../../src/errors';
import { startResendEmulator, type ResendEmulator } from '../../emulators/resend';
import { refusedUrl, startStubServer } from '../../helpers/stub-http';

const msg = { from: 'Acme <bookings@acme.test>', to: 'jane@example.com', subject: 'Hi', text: 'Hello' };

describe('EmailError categories', () => {
  let rs: ResendEmulator;
  let mailer: ResendMailer;
  let n = 0;
  const key = () => `errors:${++n}`;

  beforeAll(async () => {
    rs = await startResendEmulator({ processingMs: 200 });
    mailer = new ResendMailer(rs.apiKey, rs.url);
  });
  afterAll(() => rs?.close());

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => new Error('sent'),
      (e: unknown) => e,
    );

  it.each([
    [429, 'rate_limit_exceeded', 'CB_EMAIL_RATE_LIMIT', 'rate_limit', true],
    [500, 'internal_server_error', 'CB_EMAIL_SERVER', 'server', true],
    [503, 'internal_server_error', 'CB_EMAIL_SERVER', 'server', true],
  ] as const)('Resend answered %i (%s) → %s, %s', async (status, errorName, code, category, retryable) => {
    rs.failNext(status, 1);
    const err = await failure(mailer.send(msg, key()));
    expect(err).toBeInstanceOf(EmailError);
    expect(err).toBeInstanceOf(CallbridgeError);
    expect(err).toMatchObject({ name: 'EmailError', code, category, retryable, errorName, statusCode: status });
  });

  it('a refused API key (403 invalid_api_key) → CB_EMAIL_AUTH, auth, not retryable', async () => {
    await expect(new ResendMailer('re_wrong', rs.url).send(msg, key())).rejects.toMatchObject({
      code: 'CB_EMAIL_AUTH',
      category: 'auth',
      retryable: false,
      errorName: 'invalid_api_key',
      statusCode: 403,
    });
  });

  it('validation (422) and a reused key with another payload (409) → CB_EMAIL_BAD_REQUEST, bad_request', async () => {
    await expect(mailer.send({ ...msg, from: 'not an address' }, key())).rejects.toMatchObject({
      code: 'CB_EMAIL_BAD_REQUEST',
      category: 'bad_request',
      retryable: false,
      statusCode: 422,
    });
    const k = key();
    await mailer.send(msg, k);
    await expect(mailer.send({ ...msg, text: 'changed' }, k)).rejects.toMatchObject({
      code: 'CB_EMAIL_BAD_REQUEST',
      category: 'bad_request',
      retryable: false,
      errorName: 'invalid_idempotent_request',
      statusCode: 409,
    });
  });

  it('the same key while the first send is still processing (409 concurrent) → CB_EMAIL_IN_PROGRESS, retryable', async () => {
    const k = key();
    const first = mailer.send(msg, k);
    await new Promise((r) => setTimeout(r, 50));
    await expect(mailer.send(msg, k)).rejects.toMatchObject({
      code: 'CB_EMAIL_IN_PROGRESS',
      category: 'rate_limit',
      retryable: true,
      errorName: 'concurrent_idempotent_requests',
      statusCode: 409,
    });
    await expect(first).resolves.toMatchObject({ id: expect.any(String) });
  });

  it('no answer → CB_EMAIL_UNREACHABLE, connectivity, statusCode null', async () => {
    await expect(new ResendMailer(rs.apiKey, await refusedUrl()).send(msg, key())).rejects.toMatchObject({
      code: 'CB_EMAIL_UNREACHABLE',
      category: 'connectivity',
      retryable: true,
      statusCode: null,
    });
  });

  it('a 200 without an email id → CB_EMAIL_SERVER, retryable', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    try {
      await expect(new ResendMailer('re_any', stub.url).send(msg, key())).rejects.toMatchObject({
        code: 'CB_EMAIL_SERVER',
        category: 'server',
        retryable: true,
      });
    } finally {
      await stub.close();
    }
  });
});

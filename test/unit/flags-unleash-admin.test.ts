/**
 * Unleash Admin API failures become UnleashAdminErrors (CallbridgeErrors) with a stable code and a
 * category, and `npm run flag` (runFlagCommand) says what to check from that category. A loopback
 * stub plays the Admin API with whatever status a test sets.
 */
import { CallbridgeError } from '../../src/errors';
import { runFlagCommand } from '../../src/flags/flag-cli';
import { UnleashAdmin, UnleashAdminError } from '../../src/flags/unleash-admin';
import { refusedUrl, startStubServer, type StubServer } from '../helpers/stub-http';

describe('UnleashAdminError categories', () => {
  let answer = { status: 200, body: '{}' };
  let stub: StubServer;
  let admin: UnleashAdmin;

  beforeAll(async () => {
    stub = await startStubServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    admin = new UnleashAdmin({ url: stub.url, token: '*:*.secret', environment: 'development' });
  });
  afterAll(() => stub?.close());

  it.each([
    [401, 'CB_UNLEASH_AUTH', 'auth'],
    [403, 'CB_UNLEASH_AUTH', 'auth'],
    [400, 'CB_UNLEASH_BAD_REQUEST', 'bad_request'],
    [404, 'CB_UNLEASH_NOT_FOUND', 'bad_request'],
    [409, 'CB_UNLEASH_BAD_REQUEST', 'bad_request'],
    [429, 'CB_UNLEASH_RATE_LIMIT', 'rate_limit'],
    [500, 'CB_UNLEASH_SERVER', 'server'],
    [503, 'CB_UNLEASH_SERVER', 'server'],
  ] as const)('an answer %i → %s, %s', async (status, code, category) => {
    answer = { status, body: '{"message":"no"}' };
    const err = await admin.setEnabled(true).then(
      () => new Error('resolved'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnleashAdminError);
    expect(err).toBeInstanceOf(CallbridgeError);
    expect(err).toMatchObject({ name: 'UnleashAdminError', code, category, status, retryable: category === 'rate_limit' || category === 'server' });
    expect((err as Error).message).toContain(`POST admin/projects/default/features/USE_ELEVENLABS_CONVERSATIONAL_AI/environments/development/on → ${status}`);
  });

  it('a 404 for the toggle is an answer, not an error, where the toggle may be missing', async () => {
    answer = { status: 404, body: '{"message":"not found"}' };
    await expect(admin.status()).resolves.toMatchObject({ exists: false, environment: 'development' });
    answer = { status: 404, body: 'Not Found' };
    await expect(admin.status()).resolves.toMatchObject({ exists: false, environment: 'development' });
  });

  it('a 2xx answer that is not JSON → CB_UNLEASH_SERVER', async () => {
    answer = { status: 200, body: '<html>proxy login</html>' };
    await expect(admin.status()).rejects.toMatchObject({ code: 'CB_UNLEASH_SERVER', category: 'server', status: 200 });
  });

  it('no answer (refused, or nothing within timeoutMs) → CB_UNLEASH_UNREACHABLE, connectivity, status 0', async () => {
    const refused = new UnleashAdmin({ url: await refusedUrl(), token: 't', environment: 'development' });
    await expect(refused.setEnabled(false)).rejects.toMatchObject({ code: 'CB_UNLEASH_UNREACHABLE', category: 'connectivity', status: 0, retryable: true });
    const silent = await startStubServer();
    try {
      const slow = new UnleashAdmin({ url: silent.url, token: 't', environment: 'development', timeoutMs: 200 });
      const err = await slow.setEnabled(false).catch((e: UnleashAdminError) => e);
      expect(err).toMatchObject({ code: 'CB_UNLEASH_UNREACHABLE', category: 'connectivity', status: 0 });
      expect((err as Error).message).toContain('no answer within 200 ms');
    } finally {
      await silent.close();
    }
  });

  it('npm run flag exits 1 and names what to check, from the category', async () => {
    const run = async (env: Record<string, string>) => {
      const lines: string[] = [];
      const code = await runFlagCommand(['off'], { UNLEASH_ADMIN_TOKEN: '*:*.secret', UNLEASH_ENVIRONMENT: 'development', ...env }, (l) => lines.push(l));
      return { code, out: lines.join('\n') };
    };
    answer = { status: 401, body: '{"message":"unauthorized"}' };
    const refusedToken = await run({ UNLEASH_URL: stub.url });
    expect(refusedToken.code).toBe(1);
    expect(refusedToken.out).toMatch(/^flag: POST .*\/off → 401/);
    expect(refusedToken.out).toContain('UNLEASH_ADMIN_TOKEN was refused');
    const down = await run({ UNLEASH_URL: await refusedUrl() });
    expect(down.code).toBe(1);
    expect(down.out).toContain('No answer from Unleash: check UNLEASH_URL');
    answer = { status: 400, body: '{"message":"bad"}' };
    const bad = await run({ UNLEASH_URL: stub.url });
    expect(bad).toEqual({ code: 1, out: expect.stringMatching(/^flag: POST .*\/off → 400: \{"message":"bad"\}$/) });
  });
});

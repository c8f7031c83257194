/**
 * The shared error vocabulary: HTTP statuses → categories, `retryable` from the category, and
 * ConfigError as a CallbridgeError.
 */
import { ConfigError, loadConfig } from '../../src/config';
import { CallbridgeError, httpStatusCategory } from '../../src/errors';

describe('httpStatusCategory', () => {
  it.each([
    [401, 'auth'],
    [403, 'auth'],
    [400, 'bad_request'],
    [404, 'bad_request'],
    [409, 'bad_request'],
    [422, 'bad_request'],
    [429, 'rate_limit'],
    [500, 'server'],
    [502, 'server'],
    [503, 'server'],
  ] as const)('%i → %s', (status, category) => {
    expect(httpStatusCategory(status)).toBe(category);
  });
});

describe('CallbridgeError', () => {
  it.each([
    ['auth', false],
    ['bad_request', false],
    ['application', false],
    ['rate_limit', true],
    ['connectivity', true],
    ['server', true],
  ] as const)('%s → retryable %s', (category, retryable) => {
    expect(new CallbridgeError('CB_TEST', 'x', category).retryable).toBe(retryable);
  });

  it('ConfigError is one, with code CB_CONFIG and category application', () => {
    const err = (() => {
      try {
        loadConfig({});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(CallbridgeError);
    expect(err).toMatchObject({ name: 'ConfigError', code: 'CB_CONFIG', category: 'application', retryable: false });
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^PUBLIC_URL: /),
      expect.stringMatching(/^ADMIN_API_KEY: /),
      expect.stringMatching(/^CALL_TOKEN_SECRET: required/),
    ]);
    expect((err as Error).message).toBe((err as ConfigError).problems.join('\n'));
  });
});

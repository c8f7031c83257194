/** Unleash configuration: defaults, the token requirement, bounds, and the failover key check. */
import { ConfigError } from '../../src/config';
import { testConfig } from '../helpers/config';

const problems = (over: Record<string, string | undefined>): string[] => {
  try {
    testConfig(over);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('flag configuration', () => {
  it('defaults to no Unleash, a 1 s refresh, app callbridge, project default, environment production', () => {
    const cfg = testConfig();
    expect(cfg.UNLEASH_URL).toBeUndefined();
    expect(cfg).toMatchObject({
      UNLEASH_REFRESH_INTERVAL_MS: 1000,
      UNLEASH_APP_NAME: 'callbridge',
      UNLEASH_PROJECT: 'default',
      UNLEASH_ENVIRONMENT: 'production',
      PROVIDER_FAILOVER: false,
    });
  });

  it('needs a client token when UNLEASH_URL is set, and an http(s) URL', () => {
    expect(problems({ UNLEASH_URL: 'https://unleash.example.com/api/' })).toEqual([
      expect.stringMatching(/^UNLEASH_API_TOKEN: required when UNLEASH_URL is set/),
    ]);
    expect(problems({ UNLEASH_URL: 'ftp://x', UNLEASH_API_TOKEN: 't' })).toEqual([expect.stringMatching(/^UNLEASH_URL: expected an http\(s\) URL/)]);
    expect(problems({ UNLEASH_URL: 'https://unleash.example.com/api/', UNLEASH_API_TOKEN: 'default:production.abc' })).toEqual([]);
  });

  it('refuses a refresh interval under 250 ms', () => {
    expect(problems({ UNLEASH_REFRESH_INTERVAL_MS: '100' })).toEqual([expect.stringMatching(/^UNLEASH_REFRESH_INTERVAL_MS:/)]);
  });

  it("with PROVIDER_FAILOVER=true, needs both providers' keys", () => {
    expect(problems({ PROVIDER_FAILOVER: 'true', OPENAI_API_KEY: '' })).toEqual([expect.stringMatching(/^OPENAI_API_KEY: required/)]);
    expect(problems({ PROVIDER_FAILOVER: 'true', USE_ELEVENLABS_CONVERSATIONAL_AI: 'false', ELEVENLABS_API_KEY: '' })).toEqual([
      expect.stringMatching(/^ELEVENLABS_API_KEY: required/),
    ]);
  });
});

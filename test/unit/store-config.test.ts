/** Store configuration: defaults, and SUPABASE_SERVICE_ROLE_KEY required with SUPABASE_URL. */
import { ConfigError } from '../../src/config';
import { testConfig } from '../helpers/config';

describe('store configuration', () => {
  it('defaults DATA_DIR to ./data and LOGS_DIR to ./logs when unset', () => {
    const cfg = testConfig({ DATA_DIR: '', LOGS_DIR: undefined });
    expect([cfg.DATA_DIR, cfg.LOGS_DIR, cfg.SUPABASE_URL]).toEqual(['./data', './logs', undefined]);
  });

  it('refuses SUPABASE_URL without SUPABASE_SERVICE_ROLE_KEY, naming the variable', () => {
    let err: unknown;
    try {
      testConfig({ SUPABASE_URL: 'https://abcd.supabase.co' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^SUPABASE_SERVICE_ROLE_KEY: required when SUPABASE_URL is set/)]);
  });

  it('checks the shape of SUPABASE_URL and DATABASE_URL', () => {
    expect(() => testConfig({ SUPABASE_URL: 'abcd.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' })).toThrow(/SUPABASE_URL: expected an http\(s\) URL/);
    expect(() => testConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL: expected a postgres:\/\/ connection URL/);
    expect(testConfig({ DATABASE_URL: 'postgresql://postgres:pw@db.abcd.supabase.co:5432/postgres' }).DATABASE_URL).toMatch(/^postgresql:/);
  });
});

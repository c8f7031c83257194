import { ConfigError, loadConfig } from '../../src/config';

const base = {
  PUBLIC_URL: 'https://calls.example.com',
  ADMIN_API_KEY: 'x'.repeat(20),
  CALL_TOKEN_SECRET: 'c'.repeat(20),
  TWILIO_AUTH_TOKEN: 't',
  ELEVENLABS_API_KEY: 'k',
  ELEVENLABS_AGENT_ID: 'a',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('names each missing variable on its own line', () => {
    const p = problems({});
    expect(p.some((l) => l.startsWith('PUBLIC_URL:'))).toBe(true);
    expect(p.some((l) => l.startsWith('ADMIN_API_KEY:'))).toBe(true);
  });

  it('rejects a malformed value and says what it expects', () => {
    const p = problems({ ...base, PORT: 'abc', ELEVENLABS_REGION: 'mars', OPENAI_REALTIME_URL: 'http://x' });
    // One line per malformed variable (the rest of `base` is valid), each naming what it expects.
    expect(p).toHaveLength(3);
    expect(p.find((l) => l.startsWith('PORT:'))).toMatch(/^PORT: .*expected number, received NaN$/);
    expect(p.find((l) => l.startsWith('ELEVENLABS_REGION:'))).toMatch(/us|eu|india/);
    expect(p.find((l) => l.startsWith('OPENAI_REALTIME_URL:'))).toMatch(/ws/);
  });

  it('treats an empty variable as unset and applies the default', () => {
    const cfg = loadConfig({ ...base, PORT: '', USE_ELEVENLABS_CONVERSATIONAL_AI: '' });
    expect(cfg.PORT).toBe(3000);
    expect(cfg.USE_ELEVENLABS_CONVERSATIONAL_AI).toBe(true);
  });

  it('parses "false" as false for the provider switch and then requires the OpenAI key', () => {
    expect(problems({ ...base, USE_ELEVENLABS_CONVERSATIONAL_AI: 'false' })).toEqual([expect.stringMatching(/^OPENAI_API_KEY:/)]);
    expect(loadConfig({ ...base, USE_ELEVENLABS_CONVERSATIONAL_AI: 'false', OPENAI_API_KEY: 'sk' }).USE_ELEVENLABS_CONVERSATIONAL_AI).toBe(false);
  });

  it('accepts ELEVENLABS_CONVERSATIONAL_API_KEY as the ElevenLabs key', () => {
    const { ELEVENLABS_API_KEY: _, ...rest } = base;
    expect(loadConfig({ ...rest, ELEVENLABS_CONVERSATIONAL_API_KEY: 'alt' }).elevenLabsApiKey).toBe('alt');
  });

  it('requires the Twilio auth token unless signatures are explicitly skipped', () => {
    const { TWILIO_AUTH_TOKEN: _, ...rest } = base;
    expect(problems(rest)).toEqual([expect.stringMatching(/^TWILIO_AUTH_TOKEN:/)]);
    expect(problems({ ...rest, TWILIO_SKIP_SIGNATURE: 'true' })).toEqual([]);
  });
});

import { createHmac } from 'node:crypto';
import { signCallToken, verifyCallToken, type CallTokenClaims } from '../../src/call/call-token';

const SECRET = 'unit-call-token-secret-0123456789';
const NOW = 1_800_000_000_000;
const claims: CallTokenClaims = {
  callSid: 'CA' + 'a'.repeat(32),
  carrier: 'twilio',
  direction: 'inbound',
  from: '+14155550123',
  to: '+15550000000',
  provider: 'elevenlabs',
  flagSource: 'unleash',
  expMs: NOW + 60_000,
};

describe('call tokens', () => {
  it('round-trips the claims, URL-safe and small enough for a TwiML <Parameter>', () => {
    const token = signCallToken(SECRET, { ...claims, minted: true, options: true });
    expect(token).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);
    expect(token.length).toBeLessThan(400);
    expect(verifyCallToken(SECRET, token, NOW)).toEqual({ ok: true, claims: { ...claims, minted: true, options: true } });
  });

  it('refuses another secret, a changed claim, an expired token and garbage', () => {
    const token = signCallToken(SECRET, claims);
    expect(verifyCallToken('another-secret-0123456789abcdef', token, NOW)).toEqual({ ok: false, reason: 'signature' });
    const [v, payload, mac] = token.split('.');
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), p: 'openai' })).toString('base64url');
    expect(verifyCallToken(SECRET, `${v}.${changed}.${mac}`, NOW)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyCallToken(SECRET, token, claims.expMs + 1)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyCallToken(SECRET, 'v1..', NOW)).toEqual({ ok: false, reason: 'signature' });
    for (const bad of [undefined, '', 'v1', 'v2.a.b', 'x'.repeat(5000), 42, '0123456789abcdef0123456789abcdef'])
      expect(verifyCallToken(SECRET, bad, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a correctly signed payload that lacks a claim (a token from a buggy or older signer)', () => {
    const payload = Buffer.from(JSON.stringify({ s: claims.callSid, c: 'twilio', d: 'sideways', p: 'elevenlabs', g: 'env', e: NOW + 1000 })).toString(
      'base64url',
    );
    const mac = createHmac('sha256', SECRET).update(`v1.${payload}`).digest('base64url');
    expect(verifyCallToken(SECRET, `v1.${payload}.${mac}`, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

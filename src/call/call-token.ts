/**
 * Self-verifying per-call media tokens: whichever process or instance receives a call's media socket
 * can admit it, with no shared memory with the one that answered the webhook.
 *
 * Format: `v1.<payload>.<mac>`, where `payload` is the base64url (RFC 4648 §5) JSON of
 * {@link CallTokenClaims} and `mac` the base64url HMAC-SHA256 (RFC 2104) of `v1.<payload>` keyed by
 * CALL_TOKEN_SECRET (https://nodejs.org/api/crypto.html#class-hmac). The MAC is compared in constant time
 * (https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b). A token is about 300 characters: it fits
 * in a TwiML `<Parameter>` (TwiML as a whole may hold 4,000 characters, https://www.twilio.com/docs/api/errors/32018)
 * and in an Exotel stream URL. Single use is enforced elsewhere (a token ledger), not by the token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallDirection, CallIdentity, ProviderName } from '../identity';

/** What a call token binds: the call, its routing decision and its expiry. */
export interface CallTokenClaims extends CallIdentity {
  provider: ProviderName;
  /** Where the routing decision came from (flag source: unleash, env, url, request…). */
  flagSource: string;
  /** Expiry, ms since the epoch: the socket must start before it. */
  expMs: number;
  /** The call SID was minted by callbridge (an Exotel dynamic-URL request without CallSid): any stream call SID may claim it. */
  minted?: boolean;
  /** Prompt overrides were stored for this call (fetched by call SID when the socket starts). */
  options?: boolean;
}

const VERSION = 'v1';
const DIRECTIONS: readonly CallDirection[] = ['inbound', 'outbound'];

function mac(secret: string, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed).digest();
}

/** Compact wire form of the claims (short keys keep the token small). */
interface Wire {
  s: string;
  c: string;
  d: CallDirection;
  f?: string;
  t?: string;
  p: string;
  g: string;
  e: number;
  m?: 1;
  o?: 1;
}

/** Sign `claims` with `secret` (CALL_TOKEN_SECRET). Returns `v1.<payload>.<mac>` (URL-safe characters only). */
export function signCallToken(secret: string, claims: CallTokenClaims): string {
  const wire: Wire = { s: claims.callSid, c: claims.carrier, d: claims.direction, p: claims.provider, g: claims.flagSource, e: claims.expMs };
  if (claims.from) wire.f = claims.from;
  if (claims.to) wire.t = claims.to;
  if (claims.minted) wire.m = 1;
  if (claims.options) wire.o = 1;
  const signed = `${VERSION}.${Buffer.from(JSON.stringify(wire)).toString('base64url')}`;
  return `${signed}.${mac(secret, signed).toString('base64url')}`;
}

/** Why a token was refused (counted by the caller). */
export type TokenRefusal = 'malformed' | 'signature' | 'expired';

/**
 * Check `token` against `secret` and the clock. Returns the claims, or the refusal reason. Never throws:
 * any string, however malformed, is a `malformed` refusal.
 * @param nowMs ms since the epoch.
 */
export function verifyCallToken(secret: string, token: unknown, nowMs: number): { ok: true; claims: CallTokenClaims } | { ok: false; reason: TokenRefusal } {
  if (typeof token !== 'string' || token.length > 2048) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(parts[2]!, 'base64url');
  const want = mac(secret, `${parts[0]}.${parts[1]}`);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'signature' };
  let w: Partial<Wire>;
  try {
    w = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<Wire>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const strings = [w.s, w.c, w.p, w.g].every((v) => typeof v === 'string' && v !== '');
  if (!strings || !DIRECTIONS.includes(w.d as CallDirection) || typeof w.e !== 'number') return { ok: false, reason: 'malformed' };
  if (nowMs > w.e) return { ok: false, reason: 'expired' };
  const claims: CallTokenClaims = { callSid: w.s!, carrier: w.c!, direction: w.d!, provider: w.p!, flagSource: w.g!, expMs: w.e };
  if (typeof w.f === 'string') claims.from = w.f;
  if (typeof w.t === 'string') claims.to = w.t;
  if (w.m === 1) claims.minted = true;
  if (w.o === 1) claims.options = true;
  return { ok: true, claims };
}

/**
 * Exotel signs nothing (docs/protocols/exotel.md#authentication): callbridge authenticates the stream with its own per-call
 * token in the stream URL's query, optional HTTP Basic credentials (Exotel turns `wss://user:pass@host`
 * into `Authorization: Basic …`, https://developer.exotel.com/docs/agentstream/stream-voicebot-applet),
 * and an optional token on its webhooks. All comparisons are constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string equality (hashes first, so lengths do not leak). */
export function secretEquals(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * True when `header` is `Basic base64(user:password)` for the expected pair (RFC 7617).
 * With no expected user configured, every request passes.
 */
export function basicAuthOk(header: string | undefined, user: string | undefined, password: string | undefined): boolean {
  if (user === undefined) return true;
  const m = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return false;
  return secretEquals(decoded.slice(0, i), user) && secretEquals(decoded.slice(i + 1), password);
}

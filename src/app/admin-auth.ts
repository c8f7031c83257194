/**
 * Bearer ADMIN_API_KEY check for the operator API, compared in constant time (hash both sides so
 * lengths never leak). 401 without a valid key.
 *
 * Brute-force guard (`adminGuard`, mounted once on `/api`): a client address (limits-ip
 * `clientAddress`) that sends ADMIN_AUTH_MAX_FAILURES wrong or missing keys within
 * ADMIN_AUTH_WINDOW_S is answered 429 with `Retry-After` (seconds) on every `/api/*` request, the
 * right key included, until that window has passed since its first failure; a request with the
 * right key before the limit clears the address's count. Other addresses are unaffected. Refusals
 * are counted in `callbridge_http_refused_total{reason="admin_auth_lockout"}`.
 * Retry-After: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after; 429: https://www.rfc-editor.org/rfc/rfc6585#section-4
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../observability/metrics';
import { clientAddress } from './limits-ip';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Addresses tracked at once; beyond it the oldest window is forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

/** True when `header` is `Bearer <key>`. */
export function bearerOk(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!.trim()), digest(key));
}

function unauthorized(res: Response): void {
  res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', message: 'Authorization: Bearer <ADMIN_API_KEY> required' });
}

/** Express middleware: 401 JSON unless the request carries the admin key. */
export function requireAdmin(key: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (bearerOk(req.headers.authorization, key)) return next();
    unauthorized(res);
  };
}
export interface AdminGuardOptions {
  /** Failed attempts per address within `windowMs` after which it gets 429 (ADMIN_AUTH_MAX_FAILURES). */
  maxFailures: number;
  /** The window (ms) counted from an address's first failure (ADMIN_AUTH_WINDOW_S × 1000). */
  windowMs: number;
  metrics: Pick<Metrics, 'httpRefusedTotal'>;
  /** Epoch ms (default Date.now). */
  now?: () => number;
}

/**
 * Express middleware for `/api`: the Bearer check of `requireAdmin` plus the brute-force guard of
 * the module note. 429 `{error: 'too_many_requests'}` + Retry-After while an address is locked out,
 * else 401 for a wrong key, else next().
 */
export function adminGuard(key: string, o: AdminGuardOptions) {
  const now = o.now ?? Date.now;
  const failures = new Map<string, { count: number; sinceMs: number }>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = now();
    const address = clientAddress(req);
    let entry = failures.get(address);
    if (entry && t - entry.sinceMs >= o.windowMs) {
      failures.delete(address);
      entry = undefined;
    }
    if (entry && entry.count >= o.maxFailures) {
      o.metrics.httpRefusedTotal.inc({ reason: 'admin_auth_lockout' });
      const retryS = Math.max(1, Math.ceil((entry.sinceMs + o.windowMs - t) / 1000));
      res.status(429).set('Retry-After', String(retryS)).json({ error: 'too_many_requests', message: 'too many failed admin key attempts from this address' });
      return;
    }
    if (bearerOk(req.headers.authorization, key)) {
      failures.delete(address);
      return next();
    }
    if (entry) entry.count++;
    else {
      for (const [k, e] of failures) {
        if (t - e.sinceMs < o.windowMs && failures.size < MAX_TRACKED_ADDRESSES) break;
        failures.delete(k);
      }
      failures.set(address, { count: 1, sinceMs: t });
    }
    unauthorized(res);
  };
}

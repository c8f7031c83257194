/**
 * Bearer ADMIN_API_KEY check for the operator API, compared in constant time (hash both sides so
 * lengths never leak). 401 without a valid key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when `header` is `Bearer <key>`. */
export function bearerOk(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!.trim()), digest(key));
}

/** Express middleware: 401 JSON unless the request carries the admin key. */
export function requireAdmin(key: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (bearerOk(req.headers.authorization, key)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', message: 'Authorization: Bearer <ADMIN_API_KEY> required' });
  };
}

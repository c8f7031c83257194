/**
 * Per-address connection limits: concurrent HTTP requests (MAX_HTTP_INFLIGHT_PER_IP, 429) and
 * concurrent media sockets (MAX_MEDIA_SOCKETS_PER_IP, 429 before the WebSocket handshake).
 *
 * The address is the last X-Forwarded-For hop when present (the one the platform's proxy appended:
 * Railway and ngrok both add it), else the TCP peer. Earlier hops are client-supplied and ignored.
 * Header: https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Forwarded-For
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../observability/metrics';

/** The client address of `req` (see the module note). */
export function clientAddress(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list[list.length - 1] ?? req.socket.remoteAddress ?? 'unknown';
}

/** Counts concurrent holders per address; `acquire` returns a release function, or undefined when full. */
export class AddressLimiter {
  private readonly counts = new Map<string, number>();

  /** @param max holders allowed per address at once. */
  constructor(private readonly max: number) {}

  acquire(address: string): (() => void) | undefined {
    const n = this.counts.get(address) ?? 0;
    if (n >= this.max) return undefined;
    this.counts.set(address, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(address) ?? 1) - 1;
      if (left <= 0) this.counts.delete(address);
      else this.counts.set(address, left);
    };
  }

  /** Current holders for `address`. */
  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }
}

/** Express middleware: 429 when the client already has `max` requests in flight. */
export function httpInflightLimit(max: number, metrics: Metrics) {
  const limiter = new AddressLimiter(max);
  return (req: Request, res: Response, next: NextFunction): void => {
    const release = limiter.acquire(clientAddress(req));
    if (!release) {
      metrics.httpRefusedTotal.inc({ reason: 'ip_limit' });
      res.status(429).set('Retry-After', '1').json({ error: 'too_many_requests', message: 'too many concurrent requests from this address' });
      return;
    }
    res.once('close', release);
    next();
  };
}

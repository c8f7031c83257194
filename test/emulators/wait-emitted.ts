/**
 * Waiters shared by the carrier emulators (Twilio and Exotel): the first item matching a predicate,
 * past or future, with a timeout. Used for carrier-level calls and call-level received messages.
 */
import type { EventEmitter } from 'node:events';

/**
 * Resolve with the first of `past` matching `pred`, else the first later `event` emitted by `source`
 * that matches; reject with `timeoutMessage` after `timeoutMs`.
 */
export function waitForEmitted<T>(
  source: EventEmitter,
  event: string,
  past: readonly T[],
  pred: (x: T) => boolean,
  timeoutMs: number,
  timeoutMessage: string,
): Promise<T> {
  const hit = past.find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const on = (x: T) => {
      if (!pred(x)) return;
      clearTimeout(t);
      source.off(event, on);
      resolve(x);
    };
    const t = setTimeout(() => {
      source.off(event, on);
      reject(new Error(timeoutMessage));
    }, timeoutMs);
    source.on(event, on);
  });
}

/** What a stream's `closed` event carries. */
interface ClosedLike {
  by: string;
  code: number;
  reason: string;
}

/**
 * Resolve with the first received message matching `pred` (past ones in `past` too unless `past` is
 * undefined), listening on `message`; reject when the stream closes (`closed` event, or `closedInfo`
 * already set) with "stream closed by … before <awaited>", or after `timeoutMs` with "no <none> within …".
 */
export function waitForMessage<R>(
  source: EventEmitter,
  past: readonly R[] | undefined,
  closedInfo: ClosedLike | undefined,
  pred: (r: R) => boolean,
  o: { timeoutMs: number; awaited: string; none: string },
): Promise<R> {
  const hit = past?.find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const onMessage = (r: R) => {
      if (!pred(r)) return;
      done();
      resolve(r);
    };
    const onClosed = (info: ClosedLike) => {
      done();
      reject(new Error(`stream closed by ${info.by} (${info.code} ${info.reason}) before ${o.awaited}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${o.none} within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      source.off('message', onMessage);
      source.off('closed', onClosed);
    };
    source.on('message', onMessage);
    if (closedInfo) onClosed(closedInfo);
    else source.on('closed', onClosed);
  });
}

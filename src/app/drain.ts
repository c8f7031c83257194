/**
 * Graceful drain (SIGTERM on every Railway deploy): stop taking calls (`/ready` 503, webhooks answer
 * the busy TwiML, new media sockets 503 unless a call answered before the signal still has to open
 * its stream), let live calls finish for up to DRAIN_TIMEOUT_S, then end the rest with a spoken
 * goodbye (Twilio: `<Say>` + `<Hangup/>` by REST update, https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource), flush the store and
 * close. Railway: SIGTERM, then SIGKILL after `drainingSeconds`
 * (https://docs.railway.com/guides/deployment-teardown).
 */
import type { Logger } from '../observability/logger';
import type { CallbridgeServer } from './build-server';

export const DRAIN_GOODBYE = 'We are sorry, we have to end this call now for maintenance. Please call us back in a minute. Goodbye.';

/** What a drain did; times in ms. */
export interface DrainFigures {
  /** Calls live / answered-but-not-streaming (inside their socket deadline) when the drain began. */
  liveAtStart: number;
  pendingAtStart: number;
  /** Calls that ended on their own inside the window. */
  finishedInWindow: number;
  /** Calls ended with the goodbye when the window closed. */
  endedWithGoodbye: number;
  /** Calls still live after the goodbye grace (hung up). */
  forced: number;
  /** Ms from the signal until no call was left, and until the server was closed. */
  idleAfterMs: number;
  totalMs: number;
}

export interface DrainOptions {
  /** DRAIN_TIMEOUT_S × 1000. */
  windowMs: number;
  /** DRAIN_READY_GRACE_S × 1000: `/ready` answers 503 this long before calls are refused (a load balancer's health check takes the instance out first). */
  readyGraceMs?: number;
  /** How long the goodbye may take before the call is hung up (ms). */
  goodbyeGraceMs?: number;
  /** Flush durable writes (the store journal) before closing. */
  flush?: () => Promise<void>;
}

/** Longest wait for `close()` (sockets, store journal flush, store) once no call is left (ms). */
const CLOSE_WAIT_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `done()` or `ms` elapsed. @returns whether `done()` became true. */
async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Drain `srv` and close it. Never throws: failures are logged and the drain goes on. The window waits
 * for live calls and for answered calls whose socket has not started only while they are inside their
 * socket deadline (PENDING_CALL_TTL_S, `srv.pending.size` counts no expired call): an answered call
 * whose stream never opens holds the drain up to that deadline, not for the whole window.
 */
export async function drainServer(srv: CallbridgeServer, log: Logger, opts: DrainOptions): Promise<DrainFigures> {
  const t0 = Date.now();
  if (opts.readyGraceMs) {
    srv.state.unready = true;
    log.info({ graceMs: opts.readyGraceMs }, 'draining: /ready answers 503; still taking calls until the load balancer stops sending');
    await sleep(opts.readyGraceMs);
  }
  srv.state.draining = true;
  srv.metrics.draining.set(1);
  const liveAtStart = srv.registry.size;
  const pendingAtStart = srv.pending.size;
  log.info({ liveCalls: liveAtStart, pendingCalls: pendingAtStart, windowS: opts.windowMs / 1000 }, 'draining: no new calls; waiting for live calls to finish');
  const idle = () => srv.registry.size === 0 && srv.pending.size === 0;
  await waitFor(idle, opts.windowMs);
  const left = srv.registry.liveCalls();
  const finishedInWindow = Math.max(0, liveAtStart + pendingAtStart - left.length);
  let forced = 0;
  if (left.length) {
    log.warn({ calls: left.map((c) => c.callSid) }, 'drain window over: ending the remaining calls with a goodbye');
    srv.metrics.drainGoodbyesTotal.inc(left.length);
    await Promise.all(
      left.map((c) => c.endWithMessage(DRAIN_GOODBYE, 'drain').catch((err: Error) => log.warn({ callSid: c.callSid, err: err.message }, 'goodbye failed'))),
    );
    if (!(await waitFor(() => srv.registry.size === 0, opts.goodbyeGraceMs ?? 20_000))) {
      const stuck = srv.registry.liveCalls();
      forced = stuck.length;
      await Promise.all(stuck.map((c) => c.hangup('drain_forced').catch(() => undefined)));
    }
  }
  const idleAfterMs = Date.now() - t0;
  try {
    await opts.flush?.();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'store flush failed during drain');
  }
  // A client holding a request open must not keep the process past the platform's SIGKILL.
  await Promise.race([srv.close(), sleep(CLOSE_WAIT_MS)]);
  const figures: DrainFigures = { liveAtStart, pendingAtStart, finishedInWindow, endedWithGoodbye: left.length, forced, idleAfterMs, totalMs: Date.now() - t0 };
  log.info(figures, 'drained');
  return figures;
}

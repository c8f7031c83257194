/** Waiters and teardown shared by the Twilio and Exotel integration harnesses (./bridge.ts, ./exotel-bridge.ts). */
import type { CallbridgeServer } from '../../src/app/build-server';
import type { CallRecord } from '../../src/call/call-record';

/** Poll `fn` every 25 ms until it returns something other than undefined or false; rejects after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The harness members that only read the server: `waitIdle`, `ended`, `metricsText`. */
export function serverWaits(srv: CallbridgeServer): {
  waitIdle(timeoutMs?: number): Promise<void>;
  ended(callSid: string, timeoutMs?: number): Promise<CallRecord>;
  metricsText(): Promise<string>;
} {
  return {
    waitIdle: (timeoutMs = 5000) => until('no live calls', () => (srv.registry.size === 0 ? true : undefined), timeoutMs).then(() => undefined),
    ended: (callSid, timeoutMs = 5000) =>
      until(
        `call ${callSid} to end`,
        () => {
          const r = srv.registry.find(callSid);
          return r && r.endedAt ? r : undefined;
        },
        timeoutMs,
      ),
    metricsText: async () => srv.metrics.registry.metrics(),
  };
}

/** Close each part in turn (carrier first so calls end while the server is still up); absent parts are skipped. */
export async function closeInOrder(parts: ({ close(): Promise<unknown> } | undefined)[]): Promise<void> {
  for (const p of parts) await p?.close();
}

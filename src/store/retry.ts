/**
 * Exponential backoff with jitter for store writes: supabase-js 2.109.0 retries only reads (GET/HEAD/OPTIONS),
 * never POST/PATCH/DELETE (@supabase/postgrest-js@2.109.0 dist/index.cjs lines 286–330;
 * docs/protocols/postgrest.md#supabase-js-behaviour).
 */
import { StoreError } from './errors';

/** Delay before retry `attempt` (1-based), ms: 100, 200, 400 … capped at `capMs`, ±20 % jitter. */
export function backoffMs(attempt: number, capMs = 3000, baseMs = 100): number {
  const d = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d * (0.8 + Math.random() * 0.4));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Run `fn`; on a retryable StoreError try again, up to `attempts` tries in all, calling `onRetry`
 * before each new try.
 * @throws the last error, or StoreError `CB_STORE_UNAVAILABLE` (connectivity) naming `what` and the
 * attempts when every try failed on a transient error.
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, onRetry: () => void, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof StoreError ? err.retryable : true;
      if (!retryable) throw err;
      if (i >= attempts) {
        throw new StoreError(
          'CB_STORE_UNAVAILABLE',
          `${what}: the database did not answer after ${attempts} attempts (${(err as Error).message})`,
          'connectivity',
          (err as StoreError).sqlState,
          { cause: err },
        );
      }
      onRetry();
      await sleep(backoffMs(i, 2000, 200));
    }
  }
}

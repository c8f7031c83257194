/**
 * Store failures as CallbridgeErrors (../errors.ts): retries read `retryable` (category
 * connectivity/server/rate_limit), never the message. `sqlState` is the PostgreSQL SQLSTATE when the
 * database reported one (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */
import { CallbridgeError, type ErrorCategory } from '../errors';

/** A store failure: `code` CB_STORE_*, `category` decides retries, `sqlState` when PostgreSQL gave one. */
export class StoreError extends CallbridgeError {
  constructor(
    code: `CB_STORE_${string}`,
    message: string,
    category: ErrorCategory,
    readonly sqlState?: string,
    opts?: ErrorOptions,
  ) {
    super(code, message, category, opts);
  }
}

/**
 * SQLSTATE classes worth retrying: connection exceptions (08), insufficient resources (53),
 * operator intervention (57: admin shutdown, crash recovery), serialization/deadlock (40), and
 * 23503 (foreign key): a row may reference a call row still on its way through the journal.
 */
export function transientSqlState(code: string | undefined): boolean {
  if (!code) return false;
  return /^(08|53|57|40)/.test(code) || code === '23503';
}

/** Map a PostgreSQL (pg / PGlite) error to a StoreError; anything without a SQLSTATE is connectivity. */
export function fromPgError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const category: ErrorCategory = !sqlState || transientSqlState(sqlState) ? 'connectivity' : 'bad_request';
  return new StoreError(sqlState ? 'CB_STORE_SQL' : 'CB_STORE_UNREACHABLE', `${what}: ${e.message ?? String(err)}`, category, sqlState, { cause: err });
}

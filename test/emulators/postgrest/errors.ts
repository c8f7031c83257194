/**
 * PostgREST's error answers: HTTP status from the SQLSTATE, body `{ code, details, hint, message }`
 * (https://docs.postgrest.org/en/latest/references/errors.html, "SQLSTATE to HTTP status").
 */
export interface PgrstError {
  status: number;
  body: { code: string; details: string | null; hint: string | null; message: string };
}

/** HTTP status PostgREST answers for a PostgreSQL SQLSTATE. */
export function statusForSqlState(code: string): number {
  if (code === '23503' || code === '23505') return 409;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '25006') return 405;
  if (code === '42501') return 403; // 401 for the anonymous role; this server is always the service role
  if (code === 'P0001' || code === '42P17') return code === 'P0001' ? 400 : 500;
  if (/^(08|53)/.test(code)) return 503;
  if (/^(0L|0P|28)/.test(code)) return 403;
  if (/^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|P0|XX)/.test(code)) return 500;
  return 400;
}

/** A PostgREST-own error (PGRSTxxx). */
export function pgrst(status: number, code: string, message: string, details: string | null = null, hint: string | null = null): PgrstError {
  return { status, body: { code, details, hint, message } };
}

/** Map an error thrown by `pg` to PostgREST's answer; no SQLSTATE means the database is unreachable. */
export function fromPg(err: unknown): PgrstError {
  const e = err as { code?: string; message?: string; detail?: string; hint?: string };
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    return { status: statusForSqlState(e.code), body: { code: e.code, details: e.detail ?? null, hint: e.hint ?? null, message: e.message ?? '' } };
  }
  // PostgREST answers 503 PGRST000/PGRST001 when it cannot reach PostgreSQL.
  return pgrst(503, 'PGRST001', 'Database client error. Retrying the connection.', e.message ?? String(err));
}

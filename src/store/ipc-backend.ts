/**
 * A Backend whose database lives in another process: the embedded PGlite database held by the
 * primary when WEB_CONCURRENCY workers share one DATA_DIR (PGlite is one process's). Each method is
 * one request over the cluster IPC channel (../cluster/ipc.ts); the journaled store on top (./store.ts)
 * keeps its own journal per worker, so a write survives a worker or primary crash as before.
 * Errors come back as StoreError with the remote code, category and SQLSTATE, so the journal's retry
 * rules see what they would have seen in-process; a channel failure is a retryable connectivity error.
 */
import type { ErrorCategory } from '../errors';
import type { Backend } from './backend';
import { StoreError } from './errors';

/** The remote error fields a request may fail with. */
interface RemoteError {
  message: string;
  wire?: { code?: string; category?: string; sqlState?: string };
}

const METHODS = [
  'upsertCalls',
  'upsertTurns',
  'updateEmail',
  'upsertPostCallEvent',
  'insertLead',
  'insertAppointment',
  'appointmentsBetween',
  'claimEmail',
  'getCall',
  'callsBetween',
  'ping',
] as const;

/**
 * @param call sends `store` requests: `(method, args)` → the primary's answer (null for undefined).
 */
export function ipcBackend(call: (method: string, args: unknown[]) => Promise<unknown>): Backend {
  const remote =
    (method: string) =>
    async (...args: unknown[]): Promise<unknown> => {
      try {
        const v = await call(method, args);
        return v === null ? undefined : v;
      } catch (err) {
        const e = err as RemoteError;
        const w = e.wire;
        if (w?.code?.startsWith('CB_STORE_'))
          throw new StoreError(w.code as `CB_STORE_${string}`, e.message, (w.category ?? 'server') as ErrorCategory, w.sqlState);
        throw new StoreError('CB_STORE_UNREACHABLE', `primary process: ${e.message}`, 'connectivity');
      }
    };
  const backend = Object.fromEntries(METHODS.map((m) => [m, remote(m)])) as unknown as Omit<Backend, 'kind' | 'close'>;
  return { ...backend, kind: 'embedded', close: async () => undefined };
}

/**
 * OpenAI Realtime failures → CallbridgeError categories (docs/protocols/openai-realtime.md#errors-and-limits). Failover and
 * retries read `category`; codes are stable.
 */
import { CallbridgeError, httpStatusError } from '../../errors';
import type { RealtimeError } from './wire';

/** Close code after `error` `invalid_api_key` (unverified: seen in a 2024 trace, not documented). */
export const CLOSE_INVALID_API_KEY = 3000;
/** Close code after `error` `beta_api_shape_disabled` (unverified: seen in third-party traces, not documented). */
export const CLOSE_BETA_DISABLED = 4000;

/** HTTP status on the upgrade: 401/403 → auth (403 = no model access, unverified), 429 → rate_limit, 5xx → server. */
export function upgradeError(status: number): CallbridgeError {
  const msg = `OpenAI Realtime refused the WebSocket upgrade with HTTP ${status}`;
  return httpStatusError('CB_OPENAI', status, msg);
}

/** A socket-level failure (refused, reset, DNS, TLS) → connectivity. */
export function socketError(err: Error): CallbridgeError {
  const code = (err as NodeJS.ErrnoException).code;
  return new CallbridgeError('CB_OPENAI_CONNECT', `OpenAI Realtime socket failed: ${code ?? err.message}`, 'connectivity', { cause: err });
}

/** A server `error` event that ends the session (or the handshake). */
export function serverError(e: Pick<RealtimeError, 'type' | 'code' | 'message' | 'param'>): CallbridgeError {
  const text = `OpenAI Realtime error ${e.type}${e.code ? `.${e.code}` : ''}: ${e.message}${e.param ? ` (param ${e.param})` : ''}`;
  if (e.code === 'invalid_api_key') return new CallbridgeError('CB_OPENAI_AUTH', text, 'auth');
  if (e.type === 'server_error') return new CallbridgeError('CB_OPENAI_SERVER', text, 'server');
  if (e.code === 'rate_limit_exceeded') return new CallbridgeError('CB_OPENAI_RATE_LIMIT', text, 'rate_limit');
  return new CallbridgeError('CB_OPENAI_REJECTED', text, 'bad_request');
}

/**
 * The server closed the socket without us asking. 3000 → auth; 4000 (beta shape) → bad_request;
 * 1011 → server; anything else → connectivity (no close-code list is documented, so any close not ours is a
 * provider failure: docs/protocols/openai-realtime.md#errors-and-limits). `last` is the latest `error` event seen, which names the cause more precisely.
 */
export function closeError(code: number, reason: string, last?: Pick<RealtimeError, 'type' | 'code' | 'message' | 'param'>): CallbridgeError {
  if (code === CLOSE_INVALID_API_KEY || last?.code === 'invalid_api_key') {
    return new CallbridgeError('CB_OPENAI_AUTH', `OpenAI Realtime closed the session (${code} ${reason}): invalid API key`, 'auth');
  }
  if (last && code === CLOSE_BETA_DISABLED) return serverError(last);
  const msg = `OpenAI Realtime closed the session unexpectedly (${code}${reason ? ` ${reason}` : ''})`;
  if (code === CLOSE_BETA_DISABLED) return new CallbridgeError('CB_OPENAI_REJECTED', msg, 'bad_request');
  if (code === 1011) return new CallbridgeError('CB_OPENAI_SERVER', msg, 'server');
  return new CallbridgeError('CB_OPENAI_CLOSED', msg, 'connectivity');
}

/** No `session.created`/`session.updated` in time. */
export function timeoutError(ms: number, stage: string): CallbridgeError {
  return new CallbridgeError('CB_OPENAI_TIMEOUT', `OpenAI Realtime did not answer within ${ms} ms (waiting for ${stage})`, 'connectivity');
}

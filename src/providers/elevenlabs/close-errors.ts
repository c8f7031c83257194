/**
 * ElevenLabs failures → `CallbridgeError` categories (failover reads `category`).
 * Close codes and error types: docs/protocols/elevenlabs.md#close-codes-and-errors (AsyncAPI `WebSocketCloseCode`,
 * `ErrorType`: https://github.com/elevenlabs/packages/blob/main/packages/types/schemas/agent.asyncapi.yaml).
 * REST statuses: docs/protocols/elevenlabs.md#signed-url (https://elevenlabs.io/docs/eleven-agents/api-reference/conversations/get-signed-url;
 * 401/404 unverified, 422 documented).
 */
import { CallbridgeError, httpStatusError } from '../../errors';

/** Error types the server sends with 1008 for a malformed or refused request, not for auth. */
const CONTRACT_ERRORS = new Set([
  'invalid_message',
  'missing_fields',
  'value_error',
  'override_error',
  'missing_dynamic_variable',
  'missing_dynamic_variable_transfer',
]);

/** An HTTP status (signed-URL call or refused upgrade) → error. */
export function statusError(status: number, what: string, detail?: string): CallbridgeError {
  const msg = `${what} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`;
  return status >= 400 ? httpStatusError('CB_EL', status, msg) : new CallbridgeError('CB_EL_PROTOCOL', msg, 'server');
}

/** The WebSocket upgrade was answered with `status` instead of 101. */
export function upgradeError(status: number): CallbridgeError {
  return statusError(status, 'ElevenLabs WebSocket upgrade');
}

export interface CloseContext {
  code: number;
  reason: string;
  lastError?: { code?: number; errorType?: string; message?: string };
  socketError?: Error;
}

/**
 * A close the bridge did not ask for → error. 1008 is 'auth' unless the preceding `error` event
 * names a contract error ('bad_request'); 1002/1011 'server'; 1006 and others 'connectivity'.
 * `beforeReady`: the close came before `conversation_initiation_metadata` (connect fails).
 */
export function closeError(c: CloseContext, beforeReady: boolean): CallbridgeError {
  const type = c.lastError?.errorType;
  const why = [type, c.reason, c.socketError?.message].filter(Boolean).join('; ');
  const msg = `ElevenLabs socket closed ${beforeReady ? 'before the conversation started' : 'mid-call'} with code ${c.code}${why ? ` (${why})` : ''}`;
  const opts = c.socketError ? { cause: c.socketError } : undefined;
  if (c.code === 1008) {
    return type && CONTRACT_ERRORS.has(type)
      ? new CallbridgeError('CB_EL_CONTRACT', msg, 'bad_request', opts)
      : new CallbridgeError('CB_EL_AUTH', msg, 'auth', opts);
  }
  if (c.code === 1002 || c.code === 1011 || (beforeReady && c.code === 1000)) return new CallbridgeError('CB_EL_SERVER', msg, 'server', opts);
  return new CallbridgeError('CB_EL_DISCONNECTED', msg, 'connectivity', opts);
}

/**
 * Twilio SIDs for the emulators: two letters + 32 lower-case hex digits (`CA…` call, `MZ…` stream,
 * `AC…` account, `PN…` phone number). Source: docs/protocols/twilio.md#identifiers
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages#start-message).
 */
import { randomBytes } from 'node:crypto';

/** A fresh SID with `prefix` (e.g. `'CA'`): 34 characters. */
export function newSid(prefix: 'CA' | 'MZ' | 'AC' | 'PN'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** True for `prefix` + 32 hex digits. */
export function isSid(value: string, prefix: string): boolean {
  return new RegExp(`^${prefix}[0-9a-f]{32}$`, 'i').test(value);
}

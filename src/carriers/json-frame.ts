/**
 * The first step of every JSON carrier codec (Twilio, Exotel): a text frame → one JSON object, or
 * the bad-frame reason. Never throws.
 */
import type { BadFrameReason } from './types';

export type JsonFrame = { ok: true; msg: Record<string, unknown> } | { ok: false; reason: BadFrameReason };

/**
 * Decode one WebSocket message as a JSON object.
 * @returns `binary` for a binary frame, `not_json` for text that is not a JSON object.
 */
export function parseJsonFrame(raw: Buffer | string, isBinary: boolean): JsonFrame {
  // Both carriers send JSON text frames only; a binary frame is a protocol fault.
  if (isBinary) return { ok: false, reason: 'binary' };
  let msg: unknown;
  try {
    msg = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { ok: false, reason: 'not_json' };
  return { ok: true, msg: msg as Record<string, unknown> };
}

const PLAIN = /^[\w.:-]*$/;

/**
 * `s` as a JSON string literal, for the hand-written templates of outbound frames: SIDs and mark names are plain
 * (letters, digits, `_ . : -`) and are quoted as they are; anything else goes through JSON.stringify.
 */
export function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

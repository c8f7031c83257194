/**
 * Structured logging (pino). One root logger per process; a child per call carries callSid,
 * streamSid, carrier and provider. Callers' words go under `pii`, which is removed from output;
 * credentials, signed URLs and audio payloads are removed wherever they appear one level deep.
 * Pretty output in development: `npm start | npx pino-pretty` (pino-pretty is not a dependency).
 * Redaction paths: https://getpino.io/#/docs/redaction
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Keys never written: secrets (auth headers, tokens, keys, signed URLs) and audio. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'authToken',
  'apiKey',
  'api_key',
  'xi-api-key',
  'secret',
  'signedUrl',
  'signed_url',
  'signature',
  'payload',
  'audio',
  'pii',
];

/** The redact paths: each key at the top level and one level down, plus request headers. */
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [`["${k}"]`, `*["${k}"]`]),
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-twilio-signature"]',
];

/** Root logger at `level`; `dest` lets tests capture or silence output (no worker transports). */
export function createLogger(level: string, dest?: DestinationStream): Logger {
  return pino({ level, base: { svc: 'callbridge', pid: process.pid }, redact: { paths: REDACT_PATHS, remove: true } }, dest);
}

/** A logger that discards everything (unit tests, emulators). */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Structured logging (pino). One root logger per process; a child per call carries callSid,
 * streamSid, carrier and provider. Callers' words go under `pii`, which is removed from output.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Root logger at `level`; `dest` lets tests capture or silence output (no worker transports). */
export function createLogger(level: string, dest?: DestinationStream): Logger {
  return pino({ level, base: { svc: 'callbridge' }, redact: { paths: ['pii', '*.pii', 'req.headers.authorization', 'req.headers["x-twilio-signature"]'], remove: true } }, dest);
}

/** A logger that discards everything (unit tests, emulators). */
export const silentLogger: Logger = pino({ level: 'silent' });

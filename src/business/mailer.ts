/**
 * Sending email: Resend through its official SDK when RESEND_API_KEY is set, otherwise `.eml` files
 * in OUTBOX_DIR. Both are idempotent on the key: Resend by its `Idempotency-Key` header
 * (https://resend.com/docs/dashboard/emails/idempotency-keys), the outbox by file name.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Resend } from 'resend';
import { CallbridgeError, httpErrorCode, httpStatusCategory, type HttpErrorCategory } from '../errors';
import { toEml } from './eml';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  readonly kind: 'resend' | 'outbox';
  /**
   * Send `msg` once per `idempotencyKey`.
   * @returns Resend's email id, or the outbox file path.
   * @throws EmailError; `retryable` (from its category) for network failures, 429, 5xx and a concurrent duplicate.
   */
  send(msg: EmailMessage, idempotencyKey: string): Promise<{ id: string }>;
}

/**
 * A send failed. `errorName` is Resend's error name and `statusCode` its HTTP status, null when
 * Resend never answered (https://resend.com/docs/api-reference/errors). Codes and categories:
 * - `CB_EMAIL_UNREACHABLE` ('connectivity'): no answer (the SDK reports statusCode null)
 * - `CB_EMAIL_AUTH` ('auth'): 401 missing / restricted key, 403 invalid key or a sender domain not verified
 * - `CB_EMAIL_IN_PROGRESS` ('rate_limit'): 409 concurrent_idempotent_requests, the same key still being
 *   processed; Resend's advice is to try again later, so it is retryable like a rate limit
 * - `CB_EMAIL_RATE_LIMIT` ('rate_limit'): 429 (rate_limit_exceeded, daily / monthly quota)
 * - `CB_EMAIL_BAD_REQUEST` ('bad_request'): any other 4xx (400, 409 invalid_idempotent_request, 422 validation_error …)
 * - `CB_EMAIL_SERVER` ('server'): 5xx, or a 2xx answer without an email id
 */
export class EmailError extends CallbridgeError {
  declare readonly code: `CB_EMAIL_${string}`;
  declare readonly category: HttpErrorCategory;

  constructor(
    code: `CB_EMAIL_${string}`,
    message: string,
    category: HttpErrorCategory,
    readonly errorName: string,
    readonly statusCode: number | null,
    opts?: ErrorOptions,
  ) {
    super(code, message, category, opts);
  }
}

/** Resend's `{ name, message, statusCode }` error value → EmailError (see EmailError for the mapping). */
function toEmailError(error: { name: string; message: string; statusCode: number | null }): EmailError {
  const msg = `resend: ${error.message}`;
  if (error.statusCode === null) return new EmailError(httpErrorCode('CB_EMAIL', 'connectivity'), msg, 'connectivity', error.name, null);
  if (error.name === 'concurrent_idempotent_requests') return new EmailError('CB_EMAIL_IN_PROGRESS', msg, 'rate_limit', error.name, error.statusCode);
  const category = httpStatusCategory(error.statusCode);
  return new EmailError(httpErrorCode('CB_EMAIL', category), msg, category, error.name, error.statusCode);
}

/** Resend SDK 6.x: errors come back as values (`{ data, error }`), never thrown. */
export class ResendMailer implements Mailer {
  readonly kind = 'resend' as const;
  /** Built on first send: the SDK loads only once email is sent through it, never at start-up. */
  private client?: Promise<Resend>;

  /** @param baseUrl RESEND_BASE_URL (no trailing slash); default https://api.resend.com. */
  constructor(
    private readonly apiKey: string,
    private readonly baseUrl?: string,
  ) {}

  async send(msg: EmailMessage, idempotencyKey: string): Promise<{ id: string }> {
    this.client ??= import('resend').then(({ Resend }) => new Resend(this.apiKey, this.baseUrl ? { baseUrl: this.baseUrl.replace(/\/+$/, '') } : undefined));
    const { data, error } = await (
      await this.client
    ).emails.send(
      { from: msg.from, to: msg.to.split(',').map((a) => a.trim()), subject: msg.subject, text: msg.text, ...(msg.html ? { html: msg.html } : {}) },
      { idempotencyKey },
    );
    if (error) throw toEmailError(error);
    if (!data?.id) throw new EmailError(httpErrorCode('CB_EMAIL', 'server'), 'resend: answer without an email id', 'server', 'application_error', null);
    return { id: data.id };
  }
}

/** `.eml` files (RFC 5322) in `dir`, one per key; a key already written is not written again. */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;

  constructor(
    readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** File path for a key: unsafe characters become `_`. */
  pathFor(idempotencyKey: string): string {
    return join(this.dir, `${idempotencyKey.replace(/[^\w.-]+/g, '_')}.eml`);
  }

  async send(msg: EmailMessage, idempotencyKey: string): Promise<{ id: string }> {
    const path = this.pathFor(idempotencyKey);
    if (existsSync(path)) return { id: path };
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, toEml({ ...msg, date: this.now(), headers: { 'X-Idempotency-Key': idempotencyKey } }), 'utf8');
    await rename(tmp, path); // atomic: a reader never sees half a message
    return { id: path };
  }
}

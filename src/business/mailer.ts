/**
 * Sending email: Resend through its official SDK when RESEND_API_KEY is set, otherwise `.eml` files
 * in OUTBOX_DIR. Both are idempotent on the key: Resend by its `Idempotency-Key` header
 * (https://resend.com/docs/dashboard/emails/idempotency-keys), the outbox by file name.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resend } from 'resend';
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
   * @throws EmailError (`retryable` for network failures, 429, 5xx and a concurrent duplicate).
   */
  send(msg: EmailMessage, idempotencyKey: string): Promise<{ id: string }>;
}

/** A send failed; `name` is Resend's error name (https://resend.com/docs/api-reference/errors). */
export class EmailError extends Error {
  constructor(
    message: string,
    readonly errorName: string,
    readonly statusCode: number | null,
  ) {
    super(message);
    this.name = 'EmailError';
  }

  get retryable(): boolean {
    return this.statusCode === null || this.statusCode === 429 || this.statusCode >= 500 || this.errorName === 'concurrent_idempotent_requests';
  }
}

/** Resend SDK 6.x: errors come back as values (`{ data, error }`), never thrown. */
export class ResendMailer implements Mailer {
  readonly kind = 'resend' as const;
  private readonly client: Resend;

  /** @param baseUrl RESEND_BASE_URL (no trailing slash); default https://api.resend.com. */
  constructor(apiKey: string, baseUrl?: string) {
    this.client = new Resend(apiKey, baseUrl ? { baseUrl: baseUrl.replace(/\/+$/, '') } : undefined);
  }

  async send(msg: EmailMessage, idempotencyKey: string): Promise<{ id: string }> {
    const { data, error } = await this.client.emails.send(
      { from: msg.from, to: msg.to.split(',').map((a) => a.trim()), subject: msg.subject, text: msg.text, ...(msg.html ? { html: msg.html } : {}) },
      { idempotencyKey },
    );
    if (error || !data) throw new EmailError(`resend: ${error?.message ?? 'empty answer'}`, error?.name ?? 'application_error', error?.statusCode ?? null);
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

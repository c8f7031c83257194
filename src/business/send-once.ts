/**
 * One email per idempotency key, across restarts and instances: the `emails` row is claimed first
 * (`Store.claimEmail`, unique key), then the mailer sends with the same key (Resend deduplicates it
 * too), retried with backoff while the failure is transient; the row records the outcome.
 * If a process dies between claim and send, that email stays `pending` and is not sent twice.
 */
import type { Logger } from '../observability/logger';
import type { EmailRow, Store } from '../store/types';
import { EmailError, type EmailMessage, type Mailer } from './mailer';

export type EmailStore = Pick<Store, 'claimEmail' | 'updateEmail'>;

export type SendOnceResult = { sent: true; id: string } | { sent: false; reason: 'duplicate' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * @param attempts send attempts for transient failures (waits 0.5 s, 1 s, 2 s, …). Default 4.
 * @throws EmailError when the mailer refused for good (the row is marked `failed`), or the store's
 * error when the claim could not be written.
 */
export async function sendOnce(
  deps: { store: EmailStore; mailer: Mailer; log: Logger },
  kind: EmailRow['kind'],
  key: string,
  msg: EmailMessage,
  attempts = 4,
): Promise<SendOnceResult> {
  const claimed = await deps.store.claimEmail({
    kind,
    recipient: msg.to,
    subject: msg.subject,
    idempotency_key: key,
    status: 'pending',
    provider_message_id: null,
  });
  if (!claimed) {
    deps.log.info({ key }, 'email already sent or claimed elsewhere; skipping');
    return { sent: false, reason: 'duplicate' };
  }
  for (let i = 1; ; i++) {
    try {
      const { id } = await deps.mailer.send(msg, key);
      await deps.store.updateEmail(key, { status: deps.mailer.kind === 'resend' ? 'sent' : 'outbox', provider_message_id: id });
      deps.log.info({ key, kind, via: deps.mailer.kind, id }, 'email sent');
      return { sent: true, id };
    } catch (err) {
      // Only a mailer's EmailError says whether a retry may help; anything else (a full disk, a store hiccup) is tried again.
      const known = err instanceof EmailError ? err : undefined;
      const retry = (!known || known.retryable) && i < attempts;
      deps.log.warn({ key, err: (err as Error).message, code: known?.code, category: known?.category, attempt: i, retry }, 'email send failed');
      if (!retry) {
        await deps.store.updateEmail(key, { status: 'failed' }).catch(() => undefined);
        throw err;
      }
      await sleep(500 * 2 ** (i - 1));
    }
  }
}

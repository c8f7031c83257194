/**
 * Puts calls that ended at the carrier without ever reaching a media stream (busy, no answer,
 * failed, canceled: typically an outbound call nobody picked up) on record as a `calls` row, from
 * the status callbacks. Calls that were bridged get their row from the session (src/call/persist.ts);
 * these rows carry `metrics.bridged = false` so the cohort report leaves them out.
 * Status values: https://www.twilio.com/docs/voice/api/call-resource#call-status-values,
 * https://developer.exotel.com/docs/voice-v1/api-reference/status-callback.
 */
import type { CallRegistry } from '../call/registry';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Store } from '../store/types';
import { defaultProvider } from '../providers/routing';
import type { CarrierCallStatus, CarrierStatusBook } from './carrier-status';

/** Final carrier statuses of a call that was never answered (so never bridged). */
const NEVER_BRIDGED = new Set(['busy', 'no-answer', 'failed', 'canceled']);

/** Subscribe to `book`: write a row for each never-bridged call unless a session or row exists. */
export function recordUnbridgedCalls(book: CarrierStatusBook, store: Store, registry: CallRegistry, cfg: Config, log: Logger): void {
  book.onChange((callSid, s) => {
    if (!NEVER_BRIDGED.has(s.status) || registry.getLive(callSid)) return;
    void write(callSid, s).catch((err: Error) => log.warn({ callSid, err: err.message }, 'could not record an unanswered call'));
  });

  async function write(callSid: string, s: CarrierCallStatus): Promise<void> {
    if (await store.getCall(callSid)) return; // a session handled it: its row is the record
    const now = new Date().toISOString();
    await store.saveCall({
      call_sid: callSid,
      carrier: s.carrier,
      direction: s.direction?.startsWith('outbound') ? 'outbound' : 'inbound',
      from_number: s.from ?? null,
      to_number: s.to ?? null,
      provider: defaultProvider(cfg),
      flag_source: 'none',
      status: s.status,
      started_at: now,
      answered_at: null,
      ended_at: now,
      end_reason: `carrier: ${s.status}`,
      conversation_id: null,
      metrics: { bridged: false, carrierStatus: s.status, durationS: s.durationS ?? 0 },
    });
    log.info({ callSid, status: s.status }, 'unanswered call recorded');
  }
}

/**
 * The Store of types.ts over a Backend, with durability: journaled writes (saveCall, saveTurns,
 * updateEmail, savePostCallEvent) resolve once the entry is fsync'd in the local journal; a single
 * drainer writes them to the database in journal order with idempotent upserts, retrying transient
 * failures with exponential backoff (capped at 3 s) until acknowledged, counting each retry in
 * `callbridge_store_retries_total`. A write the database rejects for good (bad data) goes to
 * `<DATA_DIR>/journal-rejected.jsonl` with the error, never silently dropped.
 *
 * Writes whose answer the caller needs (saveLead, bookAppointment, claimEmail) go straight to the
 * database, with a few retries (retry.ts), then a clear StoreError.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/logger';
import type { Backend, EmailPatch } from './backend';
import { StoreError } from './errors';
import { Journal, type JournalEntry, type JournalOp } from './journal';
import { backoffMs, sleep, withRetry } from './retry';
import type { AppointmentInput, CallRow, EmailRow, LeadInput, PostCallEventRow, Store, TurnRow } from './types';
import { validate } from './validate';

/** Most rows sent in one upsert. */
const MAX_BATCH_ROWS = 500;
/** How long a `healthy()` answer is reused (ms). */
const HEALTH_CACHE_MS = 1500;

export interface JournaledStoreOptions {
  /** Where the journal lives (`<DATA_DIR>/journal`) and rejected writes are kept. */
  dataDir: string;
  log: Logger;
  /** Called once per retried database write. */
  onRetry?: () => void;
  /** Retry delay cap (ms). */
  maxBackoffMs?: number;
}

type Batch = { op: JournalOp; entries: JournalEntry[] };

/**
 * Store over a Backend with the durable journal (see the file comment). Construct, then use at once:
 * writes wait for the journal to open. Errors: StoreError (CB_STORE_BAD_INPUT before journaling,
 * CB_STORE_UNAVAILABLE after the direct-write retries, CB_STORE_CLOSED after `close()`).
 */
export class JournaledStore implements Store {
  readonly kind: Store['kind'];
  private readonly ready: Promise<Journal>;
  private journal?: Journal;
  private readonly queue: JournalEntry[] = [];
  private draining = false;
  private closed = false;
  private wake?: () => void;
  private idleWaiters: (() => void)[] = [];
  /** Writes still being appended to the journal (not in `queue` yet). */
  private readonly appending = new Set<Promise<void>>();
  private health?: { at: number; ok: Promise<boolean> };
  private readonly onRetry: () => void;

  constructor(
    private readonly backend: Backend,
    private readonly opts: JournaledStoreOptions,
  ) {
    this.kind = backend.kind;
    this.onRetry = opts.onRetry ?? (() => undefined);
    this.ready = Journal.open(join(opts.dataDir, 'journal')).then(({ journal, replay }) => {
      this.journal = journal;
      if (replay.length) opts.log.info({ entries: replay.length }, 'store journal: replaying writes left by an earlier run');
      this.enqueue(replay);
      return journal;
    });
    this.ready.catch((err: Error) => opts.log.error({ err: err.message, dataDir: opts.dataDir }, 'store journal could not be opened'));
  }

  private async journaled(op: JournalOp, data: unknown): Promise<void> {
    if (this.closed) throw new StoreError('CB_STORE_CLOSED', 'store is closed', 'application');
    const write = this.ready.then((j) => j.append(op, data)).then((entry) => this.enqueue([entry]));
    this.appending.add(write);
    try {
      await write;
    } finally {
      this.appending.delete(write);
    }
  }

  private enqueue(entries: JournalEntry[]): void {
    if (!entries.length) return;
    this.queue.push(...entries);
    if (!this.draining) this.drain().catch((err: Error) => this.opts.log.error({ err: err.message }, 'store drainer stopped; it restarts with the next write'));
  }

  async saveCall(row: CallRow): Promise<void> {
    return this.journaled('call', validate.call(row));
  }

  async saveTurns(turns: TurnRow[]): Promise<void> {
    if (turns.length) await this.journaled('turns', validate.turns(turns));
  }

  async updateEmail(idempotencyKey: string, patch: EmailPatch): Promise<void> {
    if (!idempotencyKey) throw new StoreError('CB_STORE_BAD_INPUT', 'email update: idempotency key is empty', 'bad_request');
    return this.journaled('email', { key: idempotencyKey, patch: validate.emailPatch(patch) });
  }

  async savePostCallEvent(row: PostCallEventRow): Promise<void> {
    return this.journaled('post_call', validate.postCall(row));
  }

  async saveLead(lead: LeadInput): Promise<{ id: string }> {
    const row = validate.lead(lead);
    return withRetry('save lead', () => this.backend.insertLead(row), this.onRetry);
  }

  async bookAppointment(a: AppointmentInput): Promise<{ ok: true; id: string } | { ok: false; reason: 'overlap' }> {
    const row = validate.appointment(a);
    return withRetry('book appointment', () => this.backend.insertAppointment(row), this.onRetry);
  }

  async claimEmail(row: EmailRow): Promise<boolean> {
    const r = validate.email(row);
    return withRetry('claim email', () => this.backend.claimEmail(r), this.onRetry);
  }

  async appointmentsBetween(fromIso: string, toIso: string) {
    validate.range(fromIso, toIso);
    return this.backend.appointmentsBetween(fromIso, toIso);
  }

  async getCall(callSid: string) {
    return this.backend.getCall(callSid);
  }

  async callsBetween(fromIso: string, toIso: string) {
    validate.range(fromIso, toIso);
    return this.backend.callsBetween(fromIso, toIso);
  }

  /** True when the journal is open and the database answered a trivial query; reused for 1.5 s. */
  healthy(): Promise<boolean> {
    const now = Date.now();
    if (!this.health || now - this.health.at > HEALTH_CACHE_MS) {
      this.health = {
        at: now,
        ok: this.ready
          .then(() => this.backend.ping())
          .then(
            () => true,
            () => false,
          ),
      };
    }
    return this.health.ok;
  }

  /** Journal entries not yet acknowledged by the database. */
  get pending(): number {
    return this.queue.length;
  }

  async flush(timeoutMs: number): Promise<number> {
    await this.ready.catch(() => undefined);
    // A write made just before flush may still be on its way into the journal: wait for it first.
    const started = Date.now();
    if (this.appending.size) await Promise.race([Promise.allSettled([...this.appending]), sleep(timeoutMs)]);
    if (this.queue.length === 0) return this.appending.size;
    timeoutMs = Math.max(0, timeoutMs - (Date.now() - started));
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.idleWaiters.push(done);
    });
    return this.queue.length + this.appending.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    const j = await this.ready.catch(() => undefined);
    while (this.draining) await sleep(10);
    await j?.close();
    await this.backend.close();
  }

  /** The next run of same-op entries (upserts are batched; keys deduplicated, last write wins). */
  private nextBatch(): Batch {
    const op = this.queue[0]!.op;
    const entries: JournalEntry[] = [];
    let rows = 0;
    for (const e of this.queue) {
      if (e.op !== op || (op !== 'turns' && op !== 'call') || rows >= MAX_BATCH_ROWS) break;
      entries.push(e);
      rows += op === 'turns' ? (e.data as TurnRow[]).length : 1;
    }
    return { op, entries: entries.length ? entries : [this.queue[0]!] };
  }

  private async apply(b: Batch): Promise<void> {
    const data = b.entries.map((e) => e.data);
    switch (b.op) {
      case 'call':
        return this.backend.upsertCalls(lastByKey(data as CallRow[], (r) => r.call_sid));
      case 'turns':
        return this.backend.upsertTurns(lastByKey((data as TurnRow[][]).flat(), (r) => `${r.call_sid}\u0000${r.seq}`));
      case 'email': {
        const { key, patch } = data[0] as { key: string; patch: EmailPatch };
        return this.backend.updateEmail(key, patch);
      }
      case 'post_call':
        return this.backend.upsertPostCallEvent(data[0] as PostCallEventRow);
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    let attempt = 0;
    try {
      while (this.queue.length && !(this.closed && attempt > 0)) {
        const batch = this.nextBatch();
        try {
          await this.apply(batch);
          attempt = 0;
        } catch (err) {
          const e = err instanceof StoreError ? err : new StoreError('CB_STORE_WRITE', String(err), 'connectivity');
          if (e.retryable) {
            attempt++;
            this.onRetry();
            if (attempt === 1 || attempt % 10 === 0)
              this.opts.log.warn({ err: e.message, attempt, pending: this.queue.length }, 'store write failed; retrying');
            await this.pause(backoffMs(attempt, this.opts.maxBackoffMs ?? 3000));
            continue;
          }
          await this.reject(batch, e);
        }
        this.queue.splice(0, batch.entries.length);
        this.journal?.ack(batch.entries);
        if (this.queue.length === 0) {
          await this.journal?.compact().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'journal compaction failed'));
          for (const w of this.idleWaiters.splice(0)) w();
        } else await this.journal?.compact().catch(() => undefined);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Sleep before a retry; `close()` cuts it short (the journal keeps the entry for next start). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      let t: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
      t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Keep a write the database refused for good, with the reason, and move on. */
  private async reject(b: Batch, e: StoreError): Promise<void> {
    this.opts.log.error(
      { err: e.message, sqlState: e.sqlState, op: b.op, entries: b.entries.length },
      'store write rejected by the database; kept in journal-rejected.jsonl',
    );
    await mkdir(this.opts.dataDir, { recursive: true });
    const lines = b.entries.map(
      (en) => JSON.stringify({ at: new Date().toISOString(), error: e.message, sqlState: e.sqlState, op: en.op, data: en.data }) + '\n',
    );
    await appendFile(join(this.opts.dataDir, 'journal-rejected.jsonl'), lines.join(''));
  }
}

/** Keep the last row per key, in first-seen key order (one upsert may not touch a row twice). */
function lastByKey<T>(rows: T[], key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) m.set(key(r), r);
  return [...m.values()];
}

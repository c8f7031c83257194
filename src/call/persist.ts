/**
 * Call persistence: the session's hooks into the store. The call row is saved when the provider answers
 * (or `START_ROW_DELAY_MS` after the call started, if it has not answered by then) and when the call ends:
 * nothing is written while the call is being set up, and a call answered in time is written twice, not
 * three times (a process killed within that first second leaves no row for the call it drops). Each
 * transcript turn is saved as it arrives and again whenever it changes (barge-in cut, correction), keyed by
 * its arrival number (TurnRow.seq, never renumbered), so a repeated write is an idempotent upsert. At the end the whole call is also
 * written to `<LOGS_DIR>/<call_sid>.json` (a SID unfit for a file name is made safe: `callLogName`),
 * which operators grep.
 *
 * Store writes are journaled (resolve once on local disk); a failure here is logged, never thrown
 * into the call.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock, type Timer } from '../clock';
import type { Logger } from '../observability/logger';
import type { CallRow, Store, TurnRow } from '../store/types';
import type { CallRecord } from './call-record';
import type { ArrivedTurn } from './transcript';

/** PostgreSQL text cannot hold NUL (SQLSTATE 22021): a row carrying one would be retried by the journal forever. */
const pgText = (s: string) => s.replaceAll('\u0000', '');

/** The `calls` row of a session record; timings and counters go to `metrics`. Carrier-given strings lose any NUL. */
export function callRowOf(r: CallRecord): CallRow {
  return {
    call_sid: pgText(r.callSid),
    carrier: r.carrier,
    direction: r.direction,
    from_number: r.from === undefined ? null : pgText(r.from),
    to_number: r.to === undefined ? null : pgText(r.to),
    provider: r.provider,
    flag_source: r.flagSource,
    status: r.status,
    started_at: r.startedAt,
    answered_at: r.answeredAt ?? null,
    ended_at: r.endedAt ?? null,
    end_reason: r.endReason ?? null,
    conversation_id: r.conversationId ?? null,
    metrics: {
      ...r.timings,
      ...r.counters,
      failovers: r.counters.failovers ?? 0,
      ...(r.providerHistory ? { providerHistory: r.providerHistory } : {}),
      ...(r.streamSid ? { streamSid: r.streamSid } : {}),
    },
  };
}

/** The `transcript_turns` row of a turn: seq = its arrival number, at_ms whole ms ≥ 0. */
export function turnRowOf(callSid: string, t: ArrivedTurn): TurnRow {
  // U+0000 cannot be stored in PostgreSQL text; a transcript never means it.
  return {
    call_sid: pgText(callSid),
    seq: t.arrival,
    role: t.role,
    // PostgreSQL text cannot hold NUL (SQLSTATE 22021), so a provider's stray \u0000 is dropped.
    text: t.text.replaceAll('\u0000', ''),
    interrupted: t.interrupted,
    at_ms: Math.max(0, Math.round(t.atMs)),
  };
}

/** What `<LOGS_DIR>/<call_sid>.json` holds: the stored rows plus the full session record. */
export interface CallLogFile {
  call: CallRow;
  /** Spoken order (at_ms, then seq), as `Store.getCall` returns them. */
  turns: TurnRow[];
  record: Omit<CallRecord, 'turns'>;
}

/** How long after its start a call not answered yet gets its first row (ms). */
export const START_ROW_DELAY_MS = 1000;

/**
 * One call's persistence; the constructor schedules the first call row (`START_ROW_DELAY_MS` on `clock`), which
 * any earlier `saveCall` or `ended` replaces. Methods never throw.
 */
export class CallPersister {
  private readonly callSid: string;
  private startRow?: Timer;

  constructor(
    private readonly store: Store,
    private readonly logsDir: string,
    private readonly log: Logger,
    record: CallRecord,
    private readonly clock: Clock = systemClock,
  ) {
    this.callSid = record.callSid;
    this.startRow = clock.setTimeout(() => {
      this.startRow = undefined;
      this.write(record);
    }, START_ROW_DELAY_MS);
    this.startRow.unref();
  }

  /** Save the call row as it is now (answered, transferred, …); a pending start row is dropped, this one supersedes it. */
  saveCall(record: CallRecord): void {
    this.clock.clearTimeout(this.startRow);
    this.startRow = undefined;
    this.write(record);
  }

  private write(record: CallRecord): void {
    this.store.saveCall(callRowOf(record)).catch((err: Error) => this.log.error({ err: err.message }, 'could not journal the call row'));
  }

  /** A turn was added or changed. */
  turn(t: ArrivedTurn): void {
    this.store
      .saveTurns([turnRowOf(this.callSid, t)])
      .catch((err: Error) => this.log.error({ err: err.message, seq: t.arrival }, 'could not journal a transcript turn'));
  }

  /** The call is over: final call row, then the call log file. Never throws. */
  async ended(record: CallRecord, turns: ArrivedTurn[]): Promise<void> {
    const call = callRowOf(record);
    this.saveCall(record);
    const rows = turns.map((t) => turnRowOf(this.callSid, t)).sort((a, b) => a.at_ms - b.at_ms || a.seq - b.seq);
    const { turns: _spoken, ...rest } = record;
    const file: CallLogFile = { call, turns: rows, record: rest };
    try {
      await mkdir(this.logsDir, { recursive: true });
      const path = join(this.logsDir, `${callLogName(this.callSid)}.json`);
      await writeFile(`${path}.tmp`, JSON.stringify(file, null, 2) + '\n');
      await rename(`${path}.tmp`, path);
    } catch (err) {
      this.log.error({ err: (err as Error).message, logsDir: this.logsDir }, 'could not write the call log file');
    }
  }
}

/**
 * The file name (without `.json`) of a call's log: a call SID of letters, digits, `_` and `-` (Twilio
 * `CA` + hex, Exotel hex, minted `cb-` ids) as it is, up to 100 characters. Anything else (`/`, backslash,
 * `..`, NUL, other characters, an empty or longer SID) cannot leave LOGS_DIR or clash with another
 * call: those characters become `_`, the name is cut to 100 characters, and `~` + 16 hex digits of the
 * SID's SHA-256 are appended.
 */
export function callLogName(callSid: string): string {
  if (/^[A-Za-z0-9_-]{1,100}$/.test(callSid)) return callSid;
  const hash = createHash('sha256').update(callSid).digest('hex').slice(0, 16);
  return `${callSid.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}~${hash}`;
}

/**
 * A stored call as the admin API shows calls (CallRecord shape, turns numbered in spoken order),
 * for calls no longer in memory. `source: 'store'` tells it apart from a live record.
 */
export function recordOfStored(call: CallRow, turns: TurnRow[]): CallRecord & { source: 'store' } {
  const m = call.metrics as Record<string, unknown>;
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : undefined);
  return {
    source: 'store',
    callSid: call.call_sid,
    streamSid: typeof m.streamSid === 'string' ? m.streamSid : undefined,
    carrier: call.carrier,
    direction: call.direction,
    from: call.from_number ?? undefined,
    to: call.to_number ?? undefined,
    provider: call.provider,
    flagSource: call.flag_source,
    status: call.status as CallRecord['status'],
    conversationId: call.conversation_id ?? undefined,
    startedAt: call.started_at,
    answeredAt: call.answered_at ?? undefined,
    endedAt: call.ended_at ?? undefined,
    endReason: call.end_reason ?? undefined,
    timings: { providerReadyMs: num('providerReadyMs'), firstAgentAudioMs: num('firstAgentAudioMs') },
    counters: {
      bargeIns: num('bargeIns') ?? 0,
      dtmf: Array.isArray(m.dtmf) ? (m.dtmf as string[]) : [],
      badFrames: num('badFrames') ?? 0,
      framesIn: num('framesIn') ?? 0,
      framesOut: num('framesOut') ?? 0,
      failovers: num('failovers') ?? 0,
    },
    ...(Array.isArray(m.providerHistory) ? { providerHistory: m.providerHistory as CallRecord['providerHistory'] } : {}),
    turns: turns.map((t, i) => ({ seq: i + 1, role: t.role, text: t.text, interrupted: t.interrupted, atMs: t.at_ms })),
  };
}

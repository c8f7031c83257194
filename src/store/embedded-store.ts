/**
 * The embedded default (no account, no network): PostgreSQL through PGlite in a worker thread,
 * file-backed under `<DATA_DIR>/pglite`, schema from migrations/ applied on open
 * (https://pglite.dev/docs/).
 * PGlite is one backend per data directory, so stores of one process opening the same directory
 * share one instance (reference-counted). The database opens on first use: a process that never
 * stores anything never pays PGlite's start-up (~3 s for a new directory).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { toAppointmentRow, toCallRow, toCallSummary, toTurnRow, CALL_COLUMNS, TURN_COLUMNS, type Backend, type EmailPatch } from './backend';
import { fromPgError, StoreError } from './errors';
import { applyMigrations, listMigrations, type SqlConnection } from './migrate';
import { upsertSql } from './sql';
import type { AppointmentInput, CallRow, EmailRow, LeadInput, PostCallEventRow, TurnRow } from './types';

type Rows = Record<string, unknown>[];

const LOADER_FLAG = /^(?:--import|--require|-r|--loader|--experimental-loader)$/;

/**
 * The parent's Node flags (a worker's default execArgv) without module loaders (`--import tsx` and the like, with their
 * values): the worker is plain CommonJS, and tsx's loader thread and hooks would cost it start-up time and memory for
 * nothing. Other flags stay, e.g. `--cpu-prof` (the bench's BENCH_CPU_PROF), so the worker is profiled as well.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (LOADER_FLAG.test(flag)) i++;
    else if (!LOADER_FLAG.test(flag.split('=')[0]!)) out.push(flag);
  }
  return out;
}

/** PGlite in a worker thread (pglite-worker.cjs), spoken to by messages. */
class PgliteWorker implements SqlConnection {
  private readonly worker: Worker;
  private next = 0;
  private readonly calls = new Map<number, { resolve: (rows: Rows) => void; reject: (e: Error) => void }>();
  private dead?: Error;

  /** @param template a tar file (PGlite `dumpDataDir`) a new directory starts from, when it exists. */
  constructor(dataDir: string, template?: string) {
    this.worker = new Worker(join(__dirname, 'pglite-worker.cjs'), { workerData: { dataDir, template }, execArgv: workerExecArgv() });
    this.worker.unref(); // never keeps the process alive on its own
    this.worker.on('message', (m: { id: number; rows?: Rows; error?: { message: string; code?: string } }) => {
      const c = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.error) c?.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else c?.resolve(m.rows ?? []);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const c of this.calls.values()) c.reject(err);
      this.calls.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`PGlite worker exited (${code})`)));
  }

  private send(op: 'query' | 'exec' | 'write' | 'dump' | 'close', sql?: string, params?: unknown[]): Promise<Rows> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.next;
    return new Promise<Rows>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, sql, params });
    });
  }

  async query(sql: string, params: unknown[] = []): Promise<{ rows: Rows }> {
    return { rows: await this.send('query', sql, params) };
  }

  async exec(sql: string): Promise<void> {
    await this.send('exec', sql);
  }

  /** A write whose rows are not wanted, as a prepared statement parsed once (pglite-worker.cjs `write`); text or null params. */
  async write(sql: string, params: (string | null)[]): Promise<void> {
    await this.send('write', sql, params);
  }

  /** Write the whole database as a tar file (PGlite `dumpDataDir`). */
  async dump(file: string): Promise<void> {
    await this.send('dump', file);
  }

  async close(): Promise<void> {
    await this.send('close').catch(() => undefined);
    await this.worker.terminate();
  }
}

const shared = new Map<string, { db: Promise<PgliteWorker>; refs: number }>();

/**
 * A freshly migrated database as a tar file in the OS temp directory, named after the migrations'
 * content and PGlite's version: PostgreSQL's initdb inside PGlite takes seconds (much more on a busy machine), loading
 * the template a fraction of that. Any change to migrations/ gives a new name, so a stale schema is
 * never used; without the file a directory is initialised the normal way and the file written.
 */
function templateFile(): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'))); // its version
  for (const m of listMigrations()) h.update(m.file).update('\0').update(m.sql);
  return join(tmpdir(), `callbridge-pglite-${h.digest('hex').slice(0, 16)}.tar`);
}

/** Open (or share) the PGlite database in `dir` with migrations applied. */
function acquire(dir: string): Promise<PgliteWorker> {
  let s = shared.get(dir);
  if (!s) {
    const db = (async () => {
      mkdirSync(dir, { recursive: true });
      const template = templateFile();
      const fresh = !existsSync(join(dir, 'PG_VERSION'));
      const pg = new PgliteWorker(dir, template);
      const applied = await applyMigrations(pg);
      if (fresh && !existsSync(template) && applied.length) await pg.dump(template).catch(() => undefined); // only an optimisation
      if (!fresh) return pg;
      // Creating the directory (loading the template, or initdb and the migrations) grows PGlite's WebAssembly memory
      // by ~150 MiB, which a WebAssembly memory never gives back: the worker that created it is ended, and a new one
      // opens the directory as on any later start.
      await pg.close();
      return new PgliteWorker(dir);
    })();
    s = { db, refs: 0 };
    shared.set(dir, s);
    db.catch(() => shared.delete(dir));
  }
  s.refs++;
  return s.db;
}

async function release(dir: string): Promise<void> {
  const s = shared.get(dir);
  if (!s || --s.refs > 0) return;
  shared.delete(dir);
  const db = await s.db.catch(() => undefined);
  await db?.close();
}

const UPSERT_CALLS = upsertSql('calls', CALL_COLUMNS, ['call_sid']);
const UPSERT_TURNS = upsertSql('transcript_turns', TURN_COLUMNS, ['call_sid', 'seq']);
const UPSERT_POST_CALL = upsertSql('post_call_events', ['conversation_id', 'call_sid', 'type', 'event_timestamp', 'payload'], ['conversation_id', 'type']);

/** Backend on PGlite under `<dataDir>/pglite`; throws StoreError (`sqlState` from PostgreSQL). */
export class EmbeddedStore implements Backend {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  private db?: Promise<PgliteWorker>;
  private closed = false;

  /** @param dataDir DATA_DIR; the database lives in `<dataDir>/pglite`. */
  constructor(dataDir: string) {
    this.dir = resolve(join(dataDir, 'pglite'));
  }

  private async run(what: string, sql: string, params: unknown[] = []): Promise<Rows> {
    return this.on(what, async (db) => (await db.query(sql, params)).rows);
  }

  /** The bulk upserts (one JSON parameter, no rows back): a prepared statement, planned once per database session. */
  private async upsert(what: string, sql: string, rows: unknown[]): Promise<void> {
    await this.on(what, (db) => db.write(sql, [JSON.stringify(rows)]));
  }

  private async on<T>(what: string, fn: (db: PgliteWorker) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('CB_STORE_CLOSED', `${what}: store is closed`, 'application');
    this.db ??= acquire(this.dir);
    try {
      return await fn(await this.db);
    } catch (err) {
      throw fromPgError(err, what);
    }
  }

  async upsertCalls(rows: CallRow[]): Promise<void> {
    await this.upsert('save calls', UPSERT_CALLS, rows);
  }

  async upsertTurns(rows: TurnRow[]): Promise<void> {
    await this.upsert('save turns', UPSERT_TURNS, rows);
  }

  async updateEmail(key: string, patch: EmailPatch): Promise<void> {
    const sets = Object.keys(patch).filter((k) => k === 'status' || k === 'provider_message_id');
    if (!sets.length) return;
    const assign = sets.map((k, i) => `${k} = $${i + 2}`).join(', ');
    await this.run('update email', `update emails set ${assign}, updated_at = now() where idempotency_key = $1`, [
      key,
      ...sets.map((k) => patch[k as keyof EmailPatch]),
    ]);
  }

  async upsertPostCallEvent(row: PostCallEventRow): Promise<void> {
    await this.upsert('save post-call event', UPSERT_POST_CALL, [row]);
  }

  async insertLead(l: LeadInput): Promise<{ id: string }> {
    const rows = await this.run('save lead', 'insert into leads (call_sid, name, phone, email, company, need) values ($1, $2, $3, $4, $5, $6) returning id', [
      l.call_sid,
      l.name,
      l.phone,
      l.email,
      l.company,
      l.need,
    ]);
    return { id: rows[0]!.id as string };
  }

  async insertAppointment(a: AppointmentInput): Promise<{ ok: true; id: string } | { ok: false; reason: 'overlap' }> {
    try {
      const rows = await this.run(
        'book appointment',
        `insert into appointments (call_sid, lead_id, calendar_event_id, start_at, end_at, timezone, name, phone, email, notes, status)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'confirmed') returning id`,
        [a.call_sid, a.lead_id, a.calendar_event_id, a.start_at, a.end_at, a.timezone, a.name, a.phone, a.email, a.notes],
      );
      return { ok: true, id: rows[0]!.id as string };
    } catch (err) {
      if (err instanceof StoreError && err.sqlState === '23P01') return { ok: false, reason: 'overlap' };
      throw err;
    }
  }

  async appointmentsBetween(fromIso: string, toIso: string) {
    const rows = await this.run(
      'read appointments',
      `select * from appointments where status = 'confirmed' and start_at < $2 and end_at > $1 order by start_at`,
      [fromIso, toIso],
    );
    return rows.map(toAppointmentRow);
  }

  async claimEmail(e: EmailRow): Promise<boolean> {
    const rows = await this.run(
      'claim email',
      'insert into emails (kind, recipient, subject, idempotency_key, status, provider_message_id) values ($1, $2, $3, $4, $5, $6) ' +
        'on conflict (idempotency_key) do nothing returning id',
      [e.kind, e.recipient, e.subject, e.idempotency_key, e.status, e.provider_message_id],
    );
    return rows.length === 1;
  }

  async getCall(callSid: string) {
    const calls = await this.run('read call', 'select * from calls where call_sid = $1', [callSid]);
    if (!calls.length) return undefined;
    const turns = await this.run('read turns', 'select * from transcript_turns where call_sid = $1 order by at_ms, seq', [callSid]);
    return { call: toCallRow(calls[0]!), turns: turns.map(toTurnRow) };
  }

  async callsBetween(fromIso: string, toIso: string) {
    const rows = await this.run('read calls', 'select * from calls_between($1, $2)', [fromIso, toIso]);
    return rows.map(toCallSummary);
  }

  async ping(): Promise<void> {
    await this.run('ping', 'select 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.db) await release(this.dir);
  }
}

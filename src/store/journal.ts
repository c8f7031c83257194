/**
 * Durable local journal: an append-only file of JSON lines under `<DATA_DIR>/journal/`, one line per
 * write, fsync'd before `append` resolves (concurrent appends share one fsync: group commit).
 *
 * Each process owns one file named `<ms>-<pid>-<random>.jsonl`. On open, files left by a process
 * that is gone (crash, kill, restart; a recycled pid that is ours counts as gone) are adopted: their
 * entries are copied into the new file, fsync'd, and the old files removed, so a restart replays
 * everything not yet acknowledged. A torn last line (crash mid-write) is skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export type JournalOp = 'call' | 'turns' | 'email' | 'post_call';

export interface JournalEntry {
  /** Sequence within this process's journal. */
  n: number;
  op: JournalOp;
  data: unknown;
}

/** Journal files this process has open (a pid match alone does not make a file ours). */
const OPEN_FILES = new Set<string>();

/** True when a process with this pid exists (signal 0 only checks; EPERM means it exists). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLines(text: string): Omit<JournalEntry, 'n'>[] {
  const out: Omit<JournalEntry, 'n'>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (e && typeof e.op === 'string') out.push({ op: e.op, data: e.data });
    } catch {
      // a torn last line: the write never resolved, so nobody was told it was stored
    }
  }
  return out;
}

/** One process's journal file; `open()` builds it, `append()` resolves once the line is fsync'd. */
export class Journal {
  private fh!: FileHandle;
  private n = 0;
  /** Appended and not yet acknowledged by the database, in order. */
  private readonly unacked = new Map<number, JournalEntry>();
  private ackedSinceCompact = 0;
  private queue: { line: string; done: () => void; fail: (e: Error) => void }[] = [];
  private writing?: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly file: string,
  ) {}

  /**
   * Open a new journal file in `dir` (created if missing) and adopt orphaned ones.
   * @returns the journal and the adopted entries, oldest first, already copied into it.
   */
  static async open(dir: string): Promise<{ journal: Journal; replay: JournalEntry[] }> {
    mkdirSync(dir, { recursive: true });
    const name = `${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
    const j = new Journal(dir, join(dir, name));
    OPEN_FILES.add(j.file);
    j.fh = await open(j.file, 'a');
    const orphans = (await readdir(dir))
      .filter((f) => f.endsWith('.jsonl') && !OPEN_FILES.has(join(dir, f)))
      .filter((f) => {
        const pid = Number(f.split('-')[1]);
        return pid === process.pid || !processAlive(pid);
      })
      .sort();
    const adopted: Omit<JournalEntry, 'n'>[] = [];
    for (const f of orphans) adopted.push(...parseLines(await readFile(join(dir, f), 'utf8').catch(() => '')));
    const replay = await Promise.all(adopted.map((e) => j.append(e.op, e.data)));
    for (const f of orphans) await unlink(join(dir, f)).catch(() => undefined);
    return { journal: j, replay };
  }

  /** Append one entry; resolves once it is on disk (fsync). */
  append(op: JournalOp, data: unknown): Promise<JournalEntry> {
    const entry: JournalEntry = { n: ++this.n, op, data };
    const line = JSON.stringify(entry) + '\n';
    this.unacked.set(entry.n, entry);
    return new Promise<JournalEntry>((resolve, reject) => {
      this.queue.push({ line, done: () => resolve(entry), fail: reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.writeBatch().finally(() => {
      this.writing = undefined;
      this.kick();
    });
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.fh.write(batch.map((b) => b.line).join(''));
      await this.fh.datasync();
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.fail(err as Error);
    }
  }

  /** Wait for in-flight appends. */
  private async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** The database acknowledged these entries. */
  ack(entries: JournalEntry[]): void {
    for (const e of entries) if (this.unacked.delete(e.n)) this.ackedSinceCompact++;
  }

  /** Entries appended and not acknowledged yet. */
  get pendingCount(): number {
    return this.unacked.size;
  }

  /**
   * Drop acknowledged lines once nothing is pending (truncate), or once `threshold` lines were
   * acknowledged (rewrite the pending ones atomically: temp file, fsync, rename).
   */
  async compact(threshold = 1000): Promise<void> {
    if (this.ackedSinceCompact === 0 || (this.unacked.size > 0 && this.ackedSinceCompact < threshold)) return;
    await this.exclusive(async () => {
      this.ackedSinceCompact = 0;
      const keep = [...this.unacked.values()];
      if (keep.length === 0) {
        await this.fh.truncate(0);
        await this.fh.datasync();
        return;
      }
      const tmp = `${this.file}.tmp`;
      const t = await open(tmp, 'w');
      await t.write(keep.map((e) => JSON.stringify(e) + '\n').join(''));
      await t.datasync();
      await t.close();
      await rename(tmp, this.file);
      await this.fh.close();
      this.fh = await open(this.file, 'a');
    });
  }

  /** Run `fn` while no batch is being written; appends meanwhile wait in the queue. */
  private async exclusive(fn: () => Promise<void>): Promise<void> {
    await this.idle();
    const p = fn();
    this.writing = p
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.writing = undefined;
        this.kick();
      });
    await p;
  }

  /** Close the file; it stays on disk if entries were left, and the next start adopts it. */
  async close(): Promise<void> {
    await this.idle();
    await this.fh.close();
    OPEN_FILES.delete(this.file);
    if ((await readFile(this.file, 'utf8').catch(() => 'x')) === '') await unlink(this.file).catch(() => undefined);
  }
}

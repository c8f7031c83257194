/**
 * Request/answer and events over the `node:cluster` IPC channel between the primary process and one
 * worker (https://nodejs.org/api/cluster.html#workersendmessage-sendhandle-options-callback,
 * https://nodejs.org/api/process.html#processsendmessage-sendhandle-options-callback): messages are
 * JSON-serialised by Node ("advanced" serialisation is not needed: every payload is plain data).
 *
 * Wire: `{cb:'req', id, method, args}` → `{cb:'res', id, ok:true, value}` or
 * `{cb:'res', id, ok:false, error:{name, message, code?, category?, sqlState?}}`; `{cb:'ev', name, data}`
 * needs no answer. Messages without `cb` are not ours and are ignored (prom-client's own, for example).
 */

/** An error as it crosses the channel. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  category?: string;
  sqlState?: string;
}

type Message =
  | { cb: 'req'; id: number; method: string; args: unknown[] }
  | { cb: 'res'; id: number; ok: true; value: unknown }
  | { cb: 'res'; id: number; ok: false; error: WireError }
  | { cb: 'ev'; name: string; data: unknown };

/** Thrown by `call` when the other side does not answer in time or the channel is gone. */
export class IpcError extends Error {
  constructor(
    message: string,
    readonly wire?: WireError,
  ) {
    super(message);
    this.name = 'IpcError';
  }
}

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && 'cb' in m;

/** One end of the channel. `send` writes a message; feed every received message to `receive`. */
export class IpcPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly handlers = new Map<string, (...args: never[]) => unknown>();
  private readonly listeners = new Map<string, ((data: never) => void)[]>();

  constructor(private readonly send: (m: Message) => void) {}

  /**
   * Ask the other side to run `method` with `args`; resolves with its value.
   * @throws IpcError (carrying the remote error's name, code and category) when it fails, after `timeoutMs`, or when the channel is closed.
   */
  call<T>(method: string, args: unknown[] = [], timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new IpcError(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.send({ cb: 'req', id, method, args });
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new IpcError(`${method}: ${(err as Error).message}`));
      }
    });
  }

  /** Serve `method`; the handler may be async. A throw is answered as an error. */
  handle<A extends unknown[]>(method: string, fn: (...args: A) => unknown): void {
    this.handlers.set(method, fn as (...args: never[]) => unknown);
  }

  /** Send event `name` (no answer). Never throws: a closed channel drops it. */
  emit(name: string, data: unknown): void {
    try {
      this.send({ cb: 'ev', name, data });
    } catch {
      // the other side is gone; its state is rebuilt when it comes back
    }
  }

  on<D>(name: string, fn: (data: D) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn as (data: never) => void]);
  }

  /** Handle one received message (anything that is not ours is ignored). */
  receive(m: unknown): void {
    if (!isMessage(m)) return;
    if (m.cb === 'ev') {
      for (const fn of this.listeners.get(m.name) ?? []) fn(m.data as never);
      return;
    }
    if (m.cb === 'res') {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.value);
      else w.reject(new IpcError(m.error.message, m.error));
      return;
    }
    void this.serve(m);
  }

  private async serve(m: Extract<Message, { cb: 'req' }>): Promise<void> {
    const fn = this.handlers.get(m.method);
    let answer: Message;
    try {
      if (!fn) throw new Error(`no handler for ${m.method}`);
      answer = { cb: 'res', id: m.id, ok: true, value: (await fn(...(m.args as never[]))) ?? null };
    } catch (err) {
      const e = err as Error & { code?: string; category?: string; sqlState?: string };
      answer = { cb: 'res', id: m.id, ok: false, error: { name: e.name, message: e.message, code: e.code, category: e.category, sqlState: e.sqlState } };
    }
    try {
      this.send(answer);
    } catch {
      // the asker is gone
    }
  }

  /** Fail every call still waiting (the channel closed). */
  close(reason: string): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new IpcError(reason));
      this.waiting.delete(id);
    }
  }
}

/**
 * What the primary process keeps for its workers (WEB_CONCURRENCY > 1), so that the instance behaves
 * as one whatever worker a request lands on:
 * - live calls of every worker (published by the worker holding them) and control requests forwarded
 *   to that worker, unless REDIS_URL shares them deployment-wide (then workers use Redis directly);
 * - used media tokens, call options and shared values (same: only without REDIS_URL);
 * - each worker's live and pending call counts, broadcast as totals so MAX_CONCURRENT_CALLS and
 *   MAX_PENDING_CALLS count the instance;
 * - `/metrics` of the instance: every worker's registry as JSON, summed with prom-client's
 *   AggregatorRegistry (https://github.com/siimon/prom-client#usage-with-nodejss-cluster-module);
 * - the embedded store's database (PGlite is one process's), served to the workers' journaled stores.
 */
import { AggregatorRegistry } from 'prom-client';
import type { Backend } from '../store/backend';
import type { IpcPeer } from './ipc';
import { MemoryOutboundOptions, MemorySharedValues, MemoryTokenLedger } from './local-directory';
import type { ControlResult, LiveCallInfo, OutboundOptions } from './types';

/** Live and answered-not-streaming calls of one worker. */
export interface WorkerLoad {
  live: number;
  pending: number;
}

/** A control request the hub forwards to the worker holding the call. */
export interface ControlRequest {
  op: 'hangup' | 'transfer';
  callSid: string;
  to?: string;
  reason: string;
}

export class PrimaryHub {
  private readonly peers = new Map<number, IpcPeer>();
  private readonly calls = new Map<string, { info: LiveCallInfo; worker: number }>();
  private readonly options = new MemoryOutboundOptions();
  private readonly tokens = new MemoryTokenLedger();
  private readonly loads = new Map<number, WorkerLoad>();
  private readonly values = new MemorySharedValues();

  /** @param store the embedded database when the workers have no Supabase; undefined otherwise. */
  constructor(private readonly store?: Backend) {}

  /** Serve worker `id` on `peer`. */
  attach(id: number, peer: IpcPeer): void {
    this.peers.set(id, peer);
    peer.handle('dir.publish', (info: LiveCallInfo) => void this.calls.set(info.callSid, { info, worker: id }));
    peer.handle('dir.remove', (callSid: string) => void this.calls.delete(callSid));
    peer.handle('dir.active', () => [...this.calls.values()].map((c) => c.info));
    peer.handle('dir.find', (callSid: string) => this.calls.get(callSid)?.info ?? null);
    peer.handle('dir.control', (req: ControlRequest) => this.control(req));
    peer.handle('opts.put', (key: string, opts: OutboundOptions) => this.options.put(key, opts));
    peer.handle('opts.take', (key: string) => this.options.take(key));
    peer.handle('kv.set', (key: string, value: string, ttlMs: number) => this.values.set(key, value, ttlMs));
    peer.handle('kv.get', (key: string) => this.values.get(key));
    peer.handle('tok.claim', (callSid: string, ttlMs: number) => this.claim(id, callSid, ttlMs));
    peer.handle('load.report', (load: WorkerLoad) => this.report(id, load));
    peer.handle('metrics', () => this.metrics());
    if (this.store) {
      const store = this.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      peer.handle('store', (method: string, args: unknown[]) => {
        if (method === 'close' || typeof store[method] !== 'function') throw new Error(`store method ${method} is not served`);
        return store[method]!.apply(this.store, args);
      });
    }
  }

  /** Worker `id` is gone: its calls are no longer live, its load no longer counts. */
  detach(id: number): string[] {
    this.peers.get(id)?.close(`worker ${id} exited`);
    this.peers.delete(id);
    const lost: string[] = [];
    for (const [sid, c] of this.calls) {
      if (c.worker !== id) continue;
      this.calls.delete(sid);
      lost.push(sid);
    }
    this.loads.delete(id);
    this.broadcastLoad();
    return lost;
  }

  private async control(req: ControlRequest): Promise<ControlResult> {
    const held = this.calls.get(req.callSid);
    const peer = held && this.peers.get(held.worker);
    if (!peer) return { ok: false, reason: 'not_found' };
    return peer.call<ControlResult>('control', [req], 5_000).catch((err: Error) => ({ ok: false, reason: 'failed', message: err.message }));
  }

  /** First claim of a token on the instance wins; the other workers hear of it (their pending copy goes). */
  private async claim(worker: number, callSid: string, ttlMs: number): Promise<boolean> {
    if (!(await this.tokens.claimOnce(callSid, ttlMs))) return false;
    for (const [id, peer] of this.peers) if (id !== worker) peer.emit('claimed', callSid);
    return true;
  }

  private report(worker: number, load: WorkerLoad): void {
    this.loads.set(worker, load);
    this.broadcastLoad();
  }

  /** Every worker learns the others' load: `{[workerId]: WorkerLoad}`. */
  private broadcastLoad(): void {
    const all = Object.fromEntries(this.loads);
    for (const peer of this.peers.values()) peer.emit('load', all);
  }

  /** The instance's metrics in the Prometheus text format: every worker's, summed. */
  private async metrics(): Promise<string> {
    const parts = await Promise.all([...this.peers.values()].map((p) => p.call<object[]>('metrics.json', [], 5_000).catch(() => [] as object[])));
    return AggregatorRegistry.aggregate(parts as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  }
}

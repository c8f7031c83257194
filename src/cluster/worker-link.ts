/**
 * A worker's side of the primary process (WEB_CONCURRENCY > 1; ./primary-hub.ts holds the other side):
 * - `WorkerDirectory`: the instance's live calls, call control, media-token ledger and call options
 *   kept by the primary (used when there is no REDIS_URL; with it, workers share Redis directly);
 * - `WorkerLoad`: the other workers' live and pending calls, so limits count the instance;
 * - metrics and control requests the primary asks of this worker.
 * Every call to the primary is IPC on the same host: well under a millisecond.
 */
import cluster from 'node:cluster';
import type { CallRegistry } from '../call/registry';
import type { Registry } from 'prom-client';
import { IpcPeer } from './ipc';
import { controlLocal } from './local-directory';
import type { ControlRequest, WorkerLoad } from './primary-hub';
import type { CallDirectory, ControlResult, LiveCallInfo, OutboundOptions, OutboundOptionsStore, SharedValues, TokenLedger } from './types';

/** How often a worker republishes its live calls' snapshots to the primary (ms). */
const REPUBLISH_MS = 2_000;

/** The IPC channel of this worker process to its primary. @throws Error when this process is not a cluster worker. */
export function connectPrimary(): IpcPeer {
  if (!cluster.isWorker || !process.send) throw new Error('not a cluster worker');
  const peer = new IpcPeer((m) => process.send!(m, undefined, undefined, () => undefined));
  process.on('message', (m) => peer.receive(m));
  process.on('disconnect', () => peer.close('primary gone'));
  return peer;
}

/** The instance's load as the other workers last reported it. */
export class InstanceLoad {
  private others: WorkerLoad = { live: 0, pending: 0 };

  constructor(
    private readonly peer: IpcPeer,
    private readonly workerId: number,
    private readonly own: () => WorkerLoad,
  ) {
    peer.on<Record<string, WorkerLoad>>('load', (all) => {
      let live = 0;
      let pending = 0;
      for (const [id, l] of Object.entries(all)) {
        if (Number(id) === workerId) continue;
        live += l.live;
        pending += l.pending;
      }
      this.others = { live, pending };
    });
  }

  /** Tell the primary this worker's load changed. */
  report(): void {
    void this.peer.call('load.report', [this.own()]).catch(() => undefined);
  }

  /** Live and pending calls of the other workers of this instance. */
  elsewhere(): WorkerLoad {
    return this.others;
  }
}

/** Live calls, control, tokens and options of the instance, through the primary. */
export class WorkerDirectory implements CallDirectory, OutboundOptionsStore, TokenLedger, SharedValues {
  private readonly timer: NodeJS.Timeout;
  private readonly claimedListeners: ((callSid: string) => void)[] = [];

  constructor(
    private readonly peer: IpcPeer,
    private readonly registry: CallRegistry,
    readonly instanceId: string,
  ) {
    registry.on('added', (call) => this.publish(call.snapshot().callSid));
    registry.on('ended', (record) => void peer.call('dir.remove', [record.callSid]).catch(() => undefined));
    peer.handle('control', (req: ControlRequest) => this.runLocal(req));
    peer.on<string>('claimed', (sid) => this.claimedListeners.forEach((l) => l(sid)));
    this.timer = setInterval(() => this.registry.liveCalls().forEach((c) => this.publish(c.callSid)), REPUBLISH_MS);
    this.timer.unref();
  }

  private publish(callSid: string): void {
    const call = this.registry.getLive(callSid);
    if (call) void this.peer.call('dir.publish', [{ ...call.snapshot(), instanceId: this.instanceId }]).catch(() => undefined);
  }

  private runLocal(req: ControlRequest): Promise<ControlResult> {
    return controlLocal(this.registry.getLive(req.callSid), (c) => (req.op === 'hangup' ? c.hangup(req.reason) : c.transfer(req.to ?? '', req.reason)));
  }

  active(): Promise<LiveCallInfo[]> {
    return this.peer.call<LiveCallInfo[]>('dir.active');
  }

  async findLive(callSid: string): Promise<LiveCallInfo | undefined> {
    const local = this.registry.getLive(callSid);
    if (local) return { ...local.snapshot(), instanceId: this.instanceId };
    return (await this.peer.call<LiveCallInfo | null>('dir.find', [callSid])) ?? undefined;
  }

  hangup(callSid: string, reason: string): Promise<ControlResult> {
    return this.control({ op: 'hangup', callSid, reason });
  }

  transfer(callSid: string, to: string, reason: string): Promise<ControlResult> {
    return this.control({ op: 'transfer', callSid, to, reason });
  }

  private control(req: ControlRequest): Promise<ControlResult> {
    if (this.registry.getLive(req.callSid)) return this.runLocal(req);
    return this.peer.call<ControlResult>('dir.control', [req], 7_000);
  }

  async put(key: string, opts: OutboundOptions): Promise<void> {
    await this.peer.call('opts.put', [key, opts]);
  }

  async take(key: string): Promise<OutboundOptions | undefined> {
    return (await this.peer.call<OutboundOptions | null>('opts.take', [key])) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.peer.call('kv.set', [key, value, ttlMs]);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.peer.call<string | null>('kv.get', [key])) ?? undefined;
  }

  claimOnce(callSid: string, ttlMs: number): Promise<boolean> {
    return this.peer.call<boolean>('tok.claim', [callSid, ttlMs]);
  }

  onClaimed(listener: (callSid: string) => void): void {
    this.claimedListeners.push(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.registry.liveCalls().map((c) => this.peer.call('dir.remove', [c.callSid]).catch(() => undefined)));
  }
}

/** Answer the primary's requests for this worker's metrics (summed into the instance's `/metrics`). */
export function serveWorkerMetrics(peer: IpcPeer, registry: Registry): void {
  peer.handle('metrics.json', () => registry.getMetricsAsJSON());
}

/** What `joinInstance` gives the server: the other workers' load and the instance's metrics text. */
export interface InstanceView {
  elsewhere(): WorkerLoad;
  metricsText(): Promise<string>;
}

/**
 * Make this worker one part of its instance: report its live and pending calls to the primary on
 * every change, keep the other workers' totals, and serve its metrics for the instance's `/metrics`.
 */
export function joinInstance(
  peer: IpcPeer,
  registry: CallRegistry,
  pending: { readonly size: number; onChange?: () => void },
  metrics: Registry,
): InstanceView {
  const load = new InstanceLoad(peer, cluster.worker?.id ?? 0, () => ({ live: registry.size, pending: pending.size }));
  pending.onChange = () => load.report();
  registry.on('added', () => load.report());
  registry.on('ended', () => load.report());
  serveWorkerMetrics(peer, metrics);
  load.report();
  return { elsewhere: () => load.elsewhere(), metricsText: () => peer.call<string>('metrics') };
}

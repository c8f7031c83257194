/**
 * CallDirectory shared through Redis (REDIS_URL), so any instance can list, hang up or transfer any
 * live call of the deployment:
 *
 * | key / channel | holds |
 * |---|---|
 * | `{prefix}call:{callSid}` | JSON LiveCallInfo, PX CALL_TTL_MS, rewritten every HEARTBEAT_MS while live; deleted at the end |
 * | `{prefix}opts:{rid}` | JSON OutboundOptions of a placed call, PX OUTBOUND_OPTIONS_TTL_MS, taken with GETDEL by whichever instance answers `/outbound` |
 * | channel `{prefix}ctl:{instanceId}` | control requests `{id, op: 'hangup'\|'transfer', callSid, to?, reason, replyTo}` for that instance |
 * | channel `{prefix}reply:{instanceId}` | answers `{id, result: ControlResult}` |
 * | `{prefix}tok:{callSid}` | a used media token, SET NX PX its remaining validity: the first claim wins |
 * | `{prefix}kv:{key}` | a shared value (SharedValues), PX its TTL |
 * | channel `{prefix}claimed` | call SIDs claimed by some instance (the answering one forgets its pending call) |
 *
 * A crashed instance never deletes its `call:` keys; they expire after CALL_TTL_MS without heartbeats.
 *
 * Commands: https://redis.io/docs/latest/commands/set/ (PX), /getdel/, /scan/, /publish/, /subscribe/.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { CallRegistry } from '../call/registry';
import type { Logger } from '../observability/logger';
import { controlLocal, MemoryTokenLedger, newInstanceId, OUTBOUND_OPTIONS_TTL_MS } from './local-directory';
import type { CallDirectory, ControlResult, LiveCallInfo, OutboundOptions, OutboundOptionsStore, SharedValues, TokenLedger } from './types';

/** A live call's key expires this long after its last heartbeat (ms). */
export const CALL_TTL_MS = 15_000;
/** Heartbeat period (ms): every live call's key is rewritten, its TTL renewed. */
export const HEARTBEAT_MS = 5_000;
/** How long a media socket's token claim waits for Redis before this process decides alone (ms). */
const CLAIM_TIMEOUT_MS = 500;
/** How long a control request waits for the holding instance (ms). */
const CONTROL_TIMEOUT_MS = 5_000;

interface ControlRequest {
  id: string;
  op: 'hangup' | 'transfer';
  callSid: string;
  to?: string;
  reason: string;
  replyTo: string;
}

export class RedisCallDirectory implements CallDirectory, OutboundOptionsStore, TokenLedger, SharedValues {
  readonly instanceId = newInstanceId();
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly waiting = new Map<string, (r: ControlResult) => void>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ready: Promise<unknown>;
  private closed = false;
  private readonly claimedListeners: ((callSid: string) => void)[] = [];
  /** Used when Redis does not answer a claim: the call is still admitted, once per process. */
  private readonly fallbackLedger = new MemoryTokenLedger();

  /**
   * @param url REDIS_URL; @param prefix REDIS_KEY_PREFIX (keys and channels start with it).
   * Connects at once; commands issued before the connection is up are queued by ioredis.
   */
  constructor(
    url: string,
    private readonly prefix: string,
    private readonly registry: CallRegistry,
    private readonly log: Logger,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, { maxRetriesPerRequest: 2 });
    for (const c of [this.redis, this.sub]) c.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis connection error'));
    this.sub.on('message', (channel: string, text: string) => void this.onMessage(channel, text));
    this.ready = this.sub
      .subscribe(this.channel('ctl'), this.channel('reply'), this.claimedChannel())
      .catch((err: Error) => this.log.error({ err: err.message }, 'redis subscribe failed'));
    registry.on('added', (call) => void this.publishCall(call.snapshot().callSid));
    registry.on('ended', (record) => void this.redis.del(this.callKey(record.callSid)).catch(() => undefined));
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Resolves once the control channels are subscribed (tests and start-up). */
  whenReady(): Promise<unknown> {
    return this.ready;
  }

  private callKey(callSid: string): string {
    return `${this.prefix}call:${callSid}`;
  }

  private claimedChannel(): string {
    return `${this.prefix}claimed`;
  }

  private channel(kind: 'ctl' | 'reply', instanceId = this.instanceId): string {
    return `${this.prefix}${kind}:${instanceId}`;
  }

  private async publishCall(callSid: string): Promise<void> {
    const call = this.registry.getLive(callSid);
    if (!call) return;
    const info: LiveCallInfo = { ...call.snapshot(), instanceId: this.instanceId };
    await this.redis
      .set(this.callKey(callSid), JSON.stringify(info), 'PX', CALL_TTL_MS)
      .catch((err: Error) => this.log.warn({ err: err.message, callSid }, 'redis call publish failed'));
  }

  private async beat(): Promise<void> {
    const calls = this.registry.liveCalls();
    if (calls.length === 0) return;
    const p = this.redis.pipeline();
    for (const c of calls) p.set(this.callKey(c.callSid), JSON.stringify({ ...c.snapshot(), instanceId: this.instanceId }), 'PX', CALL_TTL_MS);
    await p.exec().catch((err: Error) => this.log.warn({ err: err.message }, 'redis heartbeat failed'));
  }

  async active(): Promise<LiveCallInfo[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}call:*`, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values.flatMap((v) => (v ? [JSON.parse(v) as LiveCallInfo] : []));
  }

  async findLive(callSid: string): Promise<LiveCallInfo | undefined> {
    const local = this.registry.getLive(callSid);
    if (local) return { ...local.snapshot(), instanceId: this.instanceId };
    const v = await this.redis.get(this.callKey(callSid));
    return v ? (JSON.parse(v) as LiveCallInfo) : undefined;
  }

  hangup(callSid: string, reason: string): Promise<ControlResult> {
    return this.control({ op: 'hangup', callSid, reason });
  }

  transfer(callSid: string, to: string, reason: string): Promise<ControlResult> {
    return this.control({ op: 'transfer', callSid, to, reason });
  }

  /** Run here when the call is ours, else ask the holding instance over pub/sub. */
  private async control(req: Omit<ControlRequest, 'id' | 'replyTo'>): Promise<ControlResult> {
    if (this.registry.getLive(req.callSid)) return this.runLocal(req);
    const owner = await this.findLive(req.callSid);
    if (!owner) return { ok: false, reason: 'not_found' };
    await this.ready;
    const id = randomUUID();
    const answer = new Promise<ControlResult>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ ok: false, reason: 'failed', message: `instance ${owner.instanceId} did not answer within ${CONTROL_TIMEOUT_MS} ms` });
      }, CONTROL_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    const msg: ControlRequest = { ...req, id, replyTo: this.instanceId };
    const receivers = await this.redis.publish(this.channel('ctl', owner.instanceId), JSON.stringify(msg));
    if (receivers === 0) {
      this.waiting.get(id)?.({ ok: false, reason: 'failed', message: `instance ${owner.instanceId} is not listening (crashed?)` });
      this.waiting.delete(id);
    }
    return answer;
  }

  private runLocal(req: Omit<ControlRequest, 'id' | 'replyTo'>): Promise<ControlResult> {
    const call = this.registry.getLive(req.callSid);
    return controlLocal(call, (c) => (req.op === 'hangup' ? c.hangup(req.reason) : c.transfer(req.to ?? '', req.reason)));
  }

  private async onMessage(channel: string, text: string): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (channel === this.claimedChannel()) {
      const m = msg as { callSid?: unknown; by?: unknown };
      if (typeof m.callSid === 'string' && m.by !== this.instanceId) for (const l of this.claimedListeners) l(m.callSid);
      return;
    }
    if (channel === this.channel('reply')) {
      const m = msg as { id?: string; result?: ControlResult };
      if (m.id && m.result) this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id ?? '');
      return;
    }
    const req = msg as ControlRequest;
    if (!req.id || !req.callSid || !req.replyTo || (req.op !== 'hangup' && req.op !== 'transfer')) return;
    this.log.info({ callSid: req.callSid, op: req.op, from: req.replyTo }, 'control request from another instance');
    const result = await this.runLocal(req);
    await this.redis.publish(this.channel('reply', req.replyTo), JSON.stringify({ id: req.id, result })).catch(() => undefined);
  }

  async put(rid: string, opts: OutboundOptions): Promise<void> {
    await this.redis.set(`${this.prefix}opts:${rid}`, JSON.stringify(opts), 'PX', OUTBOUND_OPTIONS_TTL_MS);
  }

  async take(rid: string): Promise<OutboundOptions | undefined> {
    const v = await this.redis.getdel(`${this.prefix}opts:${rid}`);
    return v ? (JSON.parse(v) as OutboundOptions) : undefined;
  }

  /**
   * First claim of `callSid`'s token in the deployment wins (SET NX PX, https://redis.io/docs/latest/commands/set/);
   * the claim is then announced on `{prefix}claimed`. When Redis fails, this process's own ledger decides,
   * so an outage degrades single use to per process rather than refusing every call.
   */
  async claimOnce(callSid: string, ttlMs: number): Promise<boolean> {
    let first: boolean;
    let timer: NodeJS.Timeout | undefined;
    try {
      const set = this.redis.set(`${this.prefix}tok:${callSid}`, this.instanceId, 'PX', Math.max(ttlMs, 1), 'NX');
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CLAIM_TIMEOUT_MS} ms`)), CLAIM_TIMEOUT_MS);
      });
      first = (await Promise.race([set, late])) === 'OK';
    } catch (err) {
      this.log.warn({ err: (err as Error).message, callSid }, 'redis token claim failed: this process decides alone');
      return this.fallbackLedger.claimOnce(callSid, ttlMs);
    } finally {
      clearTimeout(timer);
    }
    if (first) void this.redis.publish(this.claimedChannel(), JSON.stringify({ callSid, by: this.instanceId })).catch(() => undefined);
    return first;
  }

  onClaimed(listener: (callSid: string) => void): void {
    this.claimedListeners.push(listener);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.prefix}kv:${key}`, value, 'PX', Math.max(ttlMs, 1));
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}kv:${key}`)) ?? undefined;
  }

  /** Stop the heartbeat, drop this instance's keys and disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    const keys = this.registry.liveCalls().map((c) => this.callKey(c.callSid));
    if (keys.length) await this.redis.del(...keys).catch(() => undefined);
    await Promise.all([this.sub.quit().catch(() => undefined), this.redis.quit().catch(() => undefined)]);
  }
}

/**
 * The single-instance CallDirectory: this process's registry, an in-memory store of outbound
 * options (expiring after OUTBOUND_OPTIONS_TTL_MS) and an in-memory ledger of used media tokens.
 */
import { randomBytes } from 'node:crypto';
import type { CallRegistry, LiveCall } from '../call/registry';
import type { CallDirectory, ControlResult, LiveCallInfo, OutboundOptions, OutboundOptionsStore, SharedValues, TokenLedger } from './types';

/** How long placed-call options wait for the `/outbound` webhook (ms): ring time plus slack. */
export const OUTBOUND_OPTIONS_TTL_MS = 10 * 60_000;

/** A fresh instance id (hex). */
export const newInstanceId = (): string => randomBytes(6).toString('hex');

/** Run a control action on a call held here; errors become `{ok: false, reason: 'failed'}`. */
export async function controlLocal(call: LiveCall | undefined, act: (c: LiveCall) => Promise<void>): Promise<ControlResult> {
  if (!call) return { ok: false, reason: 'not_found' };
  try {
    await act(call);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: 'failed', message: (err as Error).message };
  }
}

export class LocalCallDirectory implements CallDirectory {
  constructor(
    private readonly registry: CallRegistry,
    readonly instanceId = newInstanceId(),
  ) {}

  async active(): Promise<LiveCallInfo[]> {
    return this.registry.active().map((r) => ({ ...r, instanceId: this.instanceId }));
  }

  async findLive(callSid: string): Promise<LiveCallInfo | undefined> {
    const call = this.registry.getLive(callSid);
    return call ? { ...call.snapshot(), instanceId: this.instanceId } : undefined;
  }

  hangup(callSid: string, reason: string): Promise<ControlResult> {
    return controlLocal(this.registry.getLive(callSid), (c) => c.hangup(reason));
  }

  transfer(callSid: string, to: string, reason: string): Promise<ControlResult> {
    return controlLocal(this.registry.getLive(callSid), (c) => c.transfer(to, reason));
  }

  async close(): Promise<void> {}
}

/**
 * A Map whose entries expire `ttlMs` after they were set (ms, wall clock); expired entries are swept on
 * every `set`, so it stays bounded by what was set within one TTL.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  set(key: string, value: V, ttlMs: number): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expires < now) this.entries.delete(k);
    this.entries.set(key, { value, expires: now + Math.max(ttlMs, 0) });
  }

  /** The value under `key` unless it expired. */
  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires >= Date.now() ? hit.value : undefined;
  }

  /** The value under `key` unless it expired, forgotten either way. */
  take(key: string): V | undefined {
    const v = this.get(key);
    this.entries.delete(key);
    return v;
  }
}

export class MemoryOutboundOptions implements OutboundOptionsStore {
  private readonly byKey = new ExpiringMap<OutboundOptions>();

  async put(key: string, opts: OutboundOptions): Promise<void> {
    this.byKey.set(key, opts, OUTBOUND_OPTIONS_TTL_MS);
  }

  async take(key: string): Promise<OutboundOptions | undefined> {
    return this.byKey.take(key);
  }
}

/** This process's ledger of used media tokens (one process, one instance): entries expire with their token. */
export class MemoryTokenLedger implements TokenLedger {
  private readonly used = new ExpiringMap<true>();

  async claimOnce(callSid: string, ttlMs: number): Promise<boolean> {
    if (this.used.get(callSid)) return false;
    this.used.set(callSid, true, ttlMs);
    return true;
  }

  onClaimed(): void {} // no other process to hear from
}

/** This process's shared values (one process, one instance). */
export class MemorySharedValues implements SharedValues {
  private readonly values = new ExpiringMap<string>();

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, value, ttlMs);
  }

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
}

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

export class MemoryOutboundOptions implements OutboundOptionsStore {
  private readonly byRid = new Map<string, { opts: OutboundOptions; expires: number }>();

  async put(rid: string, opts: OutboundOptions): Promise<void> {
    const now = Date.now();
    for (const [k, v] of this.byRid) if (v.expires < now) this.byRid.delete(k);
    this.byRid.set(rid, { opts, expires: now + OUTBOUND_OPTIONS_TTL_MS });
  }

  async take(rid: string): Promise<OutboundOptions | undefined> {
    const hit = this.byRid.get(rid);
    this.byRid.delete(rid);
    return hit && hit.expires >= Date.now() ? hit.opts : undefined;
  }
}

/** This process's ledger of used media tokens (one process, one instance): entries expire with their token. */
export class MemoryTokenLedger implements TokenLedger {
  private readonly used = new Map<string, number>();

  async claimOnce(callSid: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.used) if (until < now) this.used.delete(k);
    if (this.used.has(callSid)) return false;
    this.used.set(callSid, now + Math.max(ttlMs, 0));
    return true;
  }

  onClaimed(): void {} // no other process to hear from
}

/** This process's shared values (one process, one instance). */
export class MemorySharedValues implements SharedValues {
  private readonly values = new Map<string, { value: string; expires: number }>();

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const [k, v] of this.values) if (v.expires < now) this.values.delete(k);
    this.values.set(key, { value, expires: now + ttlMs });
  }

  async get(key: string): Promise<string | undefined> {
    const hit = this.values.get(key);
    return hit && hit.expires >= Date.now() ? hit.value : undefined;
  }
}

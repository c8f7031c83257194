/**
 * Per-process Exotel call state that the stream, the call control and the webhooks share:
 * live streams by CallSid (control closes them: Exotel has no REST hang-up or transfer, docs/protocols/exotel.md#transfer-and-hang-up),
 * and pending transfers by CallSid (read by the Connect applet's dynamic URL).
 */

import type { CarrierDeps } from '../types';

/** How long a pending transfer is kept for the Connect applet's request (ms). */
const TRANSFER_TTL_MS = 10 * 60_000;
const transferKey = (callSid: string) => `exotel-transfer:${callSid}`;

/** Values every process and instance sees (CarrierDeps.shared). */
type Shared = NonNullable<CarrierDeps['shared']>;

export class ExotelLiveCalls {
  /** @param shared where transfer destinations are also kept, so the Connect applet's request may land on any process or instance. */
  constructor(private readonly shared?: Shared) {}

  private readonly streams = new Map<string, (code: number, reason: string) => void>();
  private readonly transfers = new Map<string, { to: string; atMs: number }>();

  /** A stream for `callSid` is live; returns the detach function to call when its socket closes. */
  attach(callSid: string, close: (code: number, reason: string) => void): () => void {
    this.streams.set(callSid, close);
    return () => {
      if (this.streams.get(callSid) === close) this.streams.delete(callSid);
    };
  }

  /** Close the live stream of `callSid` (WebSocket close code and reason). Returns false when none is live. */
  closeStream(callSid: string, code: number, reason: string): boolean {
    const close = this.streams.get(callSid);
    if (!close) return false;
    close(code, reason);
    return true;
  }

  isLive(callSid: string): boolean {
    return this.streams.has(callSid);
  }

  /**
   * Remember that `callSid` is to be connected to `to` (E.164) when the flow reaches its Connect applet:
   * here and in the shared values. Resolves once both hold it; a failed shared write is a rejection.
   */
  async setTransfer(callSid: string, to: string): Promise<void> {
    this.sweep();
    this.transfers.set(callSid, { to, atMs: Date.now() });
    await this.shared?.set(transferKey(callSid), to, TRANSFER_TTL_MS);
  }

  /** The pending transfer destination of `callSid` (here, else shared); kept (not consumed) so a retried request gets the same answer. */
  async transferFor(callSid: string): Promise<string | undefined> {
    this.sweep();
    return this.transfers.get(callSid)?.to ?? (await this.shared?.get(transferKey(callSid)));
  }

  private sweep(): void {
    const cutoff = Date.now() - TRANSFER_TTL_MS;
    for (const [k, v] of this.transfers) if (v.atMs < cutoff) this.transfers.delete(k);
  }
}

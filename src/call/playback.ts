/**
 * Tracks what the caller has actually heard, with carrier marks.
 *
 * After each agent audio chunk the session sends a mark; the carrier echoes it once the audio
 * before it has played, or at once on `clear` (docs/protocols/twilio.md#marks-clear-and-stop;
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages#send-a-clear-message). A generation counter in mark
 * names makes echoes from before a barge-in recognisable, so they never count as played
 * (docs/protocols/openai-realtime.md#barge-in-and-truncation; the same rule as
 * https://github.com/openai/openai-agents-js/blob/main/packages/agents-extensions/src/TwilioRealtimeTransport.ts).
 */
export interface PendingMark {
  gen: number;
  itemId?: string;
  /** Ms of this item's audio sent up to and including this mark's chunk. */
  itemSentMs: number;
}

export class PlaybackTracker {
  private generation = 0;
  private seq = 0;
  private readonly pending = new Map<string, PendingMark>();
  /** Marks of the current generation in `pending` (kept so `pendingCount` is O(1): one mark per 20 ms frame). */
  private current = 0;
  private readonly sentMs = new Map<string, number>();
  private readonly playedMs = new Map<string, number>();
  /** The item whose audio was sent last. */
  currentItem?: string;

  /** Record `ms` of audio sent for `itemId`; returns the name of the mark to send after it. */
  sent(itemId: string | undefined, ms: number): string {
    const key = itemId ?? '';
    const total = (this.sentMs.get(key) ?? 0) + ms;
    this.sentMs.set(key, total);
    this.currentItem = itemId;
    const name = `g${this.generation}-m${++this.seq}`;
    this.pending.set(name, { gen: this.generation, itemId, itemSentMs: total });
    this.current++;
    return name;
  }

  /** A mark came back. Returns true when it counts as played (same generation). */
  echoed(name: string): boolean {
    const m = this.pending.get(name);
    if (!m) return false;
    this.pending.delete(name);
    if (m.gen !== this.generation) return false;
    this.current--;
    const key = m.itemId ?? '';
    this.playedMs.set(key, Math.max(this.playedMs.get(key) ?? 0, m.itemSentMs));
    return true;
  }

  /** Marks of the current generation not yet echoed: agent audio still queued at the carrier. */
  get pendingCount(): number {
    return this.current;
  }

  /** Ms of `itemId` the caller has heard (last echoed mark). */
  played(itemId: string | undefined): number {
    return this.playedMs.get(itemId ?? '') ?? 0;
  }

  /** Ms of `itemId` sent to the carrier. */
  sentFor(itemId: string | undefined): number {
    return this.sentMs.get(itemId ?? '') ?? 0;
  }

  /** Barge-in: start a new generation; echoes of older marks will not count as played. */
  cut(): void {
    this.generation++;
    this.current = 0;
    for (const [name, m] of this.pending) if (m.gen !== this.generation) this.pending.delete(name);
  }
}

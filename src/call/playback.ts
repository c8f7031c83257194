/**
 * What the caller has heard: the one owner of the call's marks and of the estimated playout position.
 *
 * Each agent chunk the session sends is followed by a mark; the carrier echoes it once the audio
 * before it has played, or at once on `clear` (docs/protocols/twilio.md#marks-clear-and-stop;
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages#send-a-clear-message;
 * docs/protocols/exotel.md#marks-clear-and-stop). Between echoes the position comes from the clock: the
 * chunk after the last echoed mark started playing at that echo (or when the audio before it was due to
 * end as it was sent, if later), and plays in real time, so a chunk of any length is placed to within the
 * clock's precision, capped at its duration. A generation counter in mark names makes echoes from before a barge-in recognisable, so they
 * never count as played (docs/protocols/openai-realtime.md#barge-in-and-truncation; the same rule as
 * https://github.com/openai/openai-agents-js/blob/main/packages/agents-extensions/src/TwilioRealtimeTransport.ts).
 */

/** One marked run of agent audio on the carrier's queue. */
interface MarkedChunk {
  name: string;
  itemId?: string;
  /** Ms of this item's audio sent before the chunk. */
  itemFromMs: number;
  /** Duration (ms). */
  ms: number;
  /** Stream position (ms of all audio sent on the stream, ambience included) at the chunk's start. */
  pos: number;
  /** Clock ms at which it was due to start when sent: after everything sent before it (ambience included). */
  dueAt: number;
}

export class PlaybackTracker {
  private generation = 0;
  private prefix = 'g0-';
  private seq = 0;
  /** Marked chunks of the current generation not yet echoed, in send order (echoes come back in order). */
  private readonly queue: MarkedChunk[] = [];
  /** Ms of audio sent on the stream. */
  private pos = 0;
  /** At clock ms `syncAt` the carrier was at stream position `syncPos` (last echo or clear; none yet: -Infinity). */
  private syncAt = -Infinity;
  private syncPos = 0;
  /** Clock ms at which everything sent so far will have played (estimate). */
  private playheadEnd = -Infinity;
  private readonly sentMs = new Map<string, number>();
  private readonly playedMs = new Map<string, number>();
  /** The item whose audio was sent last. */
  currentItem?: string;

  /**
   * @param now the call's clock (ms); first read when audio is sent.
   * @param heldBack true while agent audio waits on our side of the carrier (a re-cut remainder, paced chunks).
   */
  constructor(
    private readonly now: () => number,
    private readonly heldBack: () => boolean = () => false,
  ) {}

  /** `ms` of agent audio of `itemId` went to the carrier; returns the name of the mark to send right after it. */
  sent(itemId: string | undefined, ms: number): string {
    const key = itemId ?? '';
    const from = this.sentMs.get(key) ?? 0;
    this.sentMs.set(key, from + ms);
    this.currentItem = itemId;
    const name = `${this.prefix}m${++this.seq}`;
    const now = this.now();
    this.queue.push({ name, itemId, itemFromMs: from, ms, pos: this.pos, dueAt: Math.max(now, this.playheadEnd) });
    this.advance(ms);
    return name;
  }

  /** `ms` of audio without agent speech (ambience filler, no mark) went to the carrier: it only moves the stream on. */
  filler(ms: number): void {
    this.advance(ms);
  }

  /** A mark came back. Returns true when it counts as played (the current generation's). */
  echoed(name: string): boolean {
    if (!name.startsWith(this.prefix)) return false;
    const i = this.queue.findIndex((c) => c.name === name);
    if (i < 0) return false;
    const now = this.now();
    for (const c of this.queue.splice(0, i + 1)) {
      const key = c.itemId ?? '';
      this.playedMs.set(key, Math.max(this.playedMs.get(key) ?? 0, c.itemFromMs + c.ms));
      this.syncPos = c.pos + c.ms;
    }
    this.syncAt = now;
    this.playheadEnd = now + (this.pos - this.syncPos);
    return true;
  }

  /** Marks of the current generation not yet echoed, plus one while agent audio is held back: agent audio still to be heard. */
  get pendingCount(): number {
    return this.queue.length + (this.heldBack() ? 1 : 0);
  }

  /** Ms of audio the carrier still has to play, as estimated from echoes and the clock. */
  get bufferedMs(): number {
    return Math.max(0, this.playheadEnd - this.now());
  }

  /**
   * Ms of `itemId` the caller has heard: up to the last echoed mark, plus the clock's time into the
   * chunk playing now, capped at that chunk's length. That chunk started at the later of: the last echo plus
   * whatever was sent between that mark and the chunk, and when it was due as it was sent (after all audio before it).
   */
  played(itemId: string | undefined): number {
    const key = itemId ?? '';
    const echoed = this.playedMs.get(key) ?? 0;
    const head = this.queue[0];
    if (!head || (head.itemId ?? '') !== key) return echoed;
    const startedAt = Math.max(head.dueAt, this.syncAt + (head.pos - this.syncPos));
    const into = Math.min(head.ms, Math.max(0, this.now() - startedAt));
    return Math.max(echoed, Math.round(head.itemFromMs + into));
  }

  /** Ms of `itemId` sent to the carrier. */
  sentFor(itemId: string | undefined): number {
    return this.sentMs.get(itemId ?? '') ?? 0;
  }

  /**
   * Barge-in, right after `clear`: start a new generation (echoes of older marks will not count as played) and
   * forget the queue. Returns the item sent last and the ms of it the caller heard (`played`), for truncation.
   */
  cut(): { itemId?: string; playedMs: number } {
    const itemId = this.currentItem;
    const playedMs = this.played(itemId);
    this.generation++;
    this.prefix = `g${this.generation}-`;
    this.queue.length = 0;
    this.syncAt = this.playheadEnd = this.now();
    this.syncPos = this.pos;
    return { itemId, playedMs };
  }

  private advance(ms: number): void {
    this.pos += ms;
    this.playheadEnd = Math.max(this.playheadEnd, this.now()) + ms;
  }
}

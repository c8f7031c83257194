/**
 * Ordered transcript of a call. Turns are kept in spoken order by `atMs` (ms since call start):
 * a caller turn is placed where the caller started speaking, an agent turn where its audio started,
 * because providers report transcripts later and in either order (OpenAI's input transcription is
 * asynchronous: docs/protocols/openai-realtime.md#event-order).
 */
export type TurnRole = 'user' | 'agent';

export interface TranscriptTurn {
  /** 1-based position in spoken order. */
  seq: number;
  role: TurnRole;
  text: string;
  /** True when the caller barged in and the agent was cut off. */
  interrupted: boolean;
  /** Ms since the call started when the turn started. */
  atMs: number;
}

/** A turn with its arrival number (1-based, never renumbered): what the store keeps as `seq`. */
export interface ArrivedTurn {
  arrival: number;
  role: TurnRole;
  text: string;
  interrupted: boolean;
  atMs: number;
}

interface Entry {
  arrival: number;
  role: TurnRole;
  text: string;
  interrupted: boolean;
  atMs: number;
  itemId?: string;
}

export class Transcript {
  private readonly entries: Entry[] = [];
  private arrivals = 0;

  /** @param onChange called with the turn each time one is added or changed (e.g. to store it). */
  constructor(private readonly onChange?: (turn: ArrivedTurn) => void) {}

  /** Insert a turn at its spoken position. Returns the turn as now numbered. */
  add(role: TurnRole, text: string, atMs: number, itemId?: string): TranscriptTurn {
    const e: Entry = { arrival: ++this.arrivals, role, text, interrupted: false, atMs, itemId };
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.atMs > atMs) i--;
    this.entries.splice(i, 0, e);
    this.onChange?.(arrived(e));
    return { seq: i + 1, role, text, interrupted: false, atMs };
  }

  /** The latest agent turn (by spoken order), or the one for `itemId` when given. */
  private agentTurn(itemId?: string): Entry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.role === 'agent' && (itemId === undefined || e.itemId === itemId)) return e;
    }
    return undefined;
  }

  /** Mark an agent turn as cut off by a barge-in; with `text`, replace it by what was heard. */
  markInterrupted(itemId?: string, text?: string): void {
    // Without a turn for `itemId` yet (OpenAI reports the agent transcript after its audio), the
    // session marks it when it arrives; only a correction falls back to the latest agent turn.
    const e = this.agentTurn(itemId) ?? (itemId !== undefined && text !== undefined ? this.agentTurn() : undefined);
    if (!e) return;
    e.interrupted = true;
    if (text !== undefined) e.text = text;
    this.onChange?.(arrived(e));
  }

  /** All turns in spoken order with their arrival numbers. */
  arrived(): ArrivedTurn[] {
    return this.entries.map(arrived);
  }

  /** All turns in spoken order, numbered from 1. */
  turns(): TranscriptTurn[] {
    return this.entries.map((e, i) => ({ seq: i + 1, role: e.role, text: e.text, interrupted: e.interrupted, atMs: e.atMs }));
  }
}

function arrived(e: Entry): ArrivedTurn {
  return { arrival: e.arrival, role: e.role, text: e.text, interrupted: e.interrupted, atMs: e.atMs };
}

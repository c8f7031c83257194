/**
 * Bookkeeping for function calls: answer every `call_id` of a response, then send one
 * `response.create`, only after that response's `response.done` (docs/protocols/openai-realtime.md#function-calls).
 */
import type { ConversationItemCreateEvent } from './wire';

/**
 * The `conversation.item.create` answering function call `callId`: `output` as it is, or for a failure
 * `output` if it is already JSON, else `{"error": output}` (docs/protocols/openai-realtime.md#function-calls).
 */
export function functionCallOutput(callId: string, output: string, isError: boolean): ConversationItemCreateEvent {
  return { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: isError ? asErrorJson(output) : output } };
}

function asErrorJson(output: string): string {
  try {
    JSON.parse(output);
    return output;
  } catch {
    return JSON.stringify({ error: output });
  }
}

interface Turn {
  calls: Set<string>;
  answered: Set<string>;
  done: boolean;
}

export class ToolTurns {
  private readonly turns = new Map<string, Turn>();
  private readonly responseOfCall = new Map<string, string>();

  private turn(responseId: string): Turn {
    let t = this.turns.get(responseId);
    if (!t) {
      t = { calls: new Set(), answered: new Set(), done: false };
      this.turns.set(responseId, t);
    }
    return t;
  }

  /** `response.function_call_arguments.done` announced `callId` within `responseId`. */
  called(responseId: string, callId: string): void {
    this.turn(responseId).calls.add(callId);
    this.responseOfCall.set(callId, responseId);
  }

  /** `response.done` arrived; `callIds` are the `function_call` items of its `output[]`. */
  responseDone(responseId: string, callIds: string[]): void {
    if (!callIds.length && !this.turns.has(responseId)) return;
    const t = this.turn(responseId);
    for (const id of callIds) this.called(responseId, id);
    t.done = true;
  }

  /** The bridge sent the output for `callId`. */
  answered(callId: string): void {
    const r = this.responseOfCall.get(callId);
    if (r !== undefined) this.turns.get(r)?.answered.add(callId);
  }

  /**
   * True once for each response whose calls are all answered and whose `response.done` arrived:
   * the caller then owes the server one `response.create`. Finished turns are forgotten.
   */
  takeDue(): boolean {
    let due = false;
    for (const [id, t] of this.turns) {
      if (!t.done || t.calls.size === 0) continue;
      if ([...t.calls].every((c) => t.answered.has(c))) {
        due = true;
        this.turns.delete(id);
        for (const c of t.calls) this.responseOfCall.delete(c);
      }
    }
    return due;
  }
}

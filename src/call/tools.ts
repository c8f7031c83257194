/**
 * The agent's tools: one registry for both providers (ElevenLabs client tools, OpenAI function
 * calls). Names and parameters: README.md "Appointments, emails and the post-call webhook". A failure is a sentence the
 * agent can say, never a throw. Business tools (calendar, leads) register here too.
 */
import type { ToolSpec } from '../providers/types';

/** What a tool may ask the session to do once its result has been spoken. */
export type ToolAfter = { kind: 'hangup'; reason: string } | { kind: 'transfer'; to: string; reason: string };

export interface ToolResult {
  /** A string for the provider: JSON or a sentence. */
  output: string;
  isError: boolean;
  after?: ToolAfter;
}

export interface ToolContext {
  callSid: string;
  /** The caller's number (E.164) when the carrier gave one: the default phone for leads. */
  from?: string;
  transferNumber?: string;
}

export interface Tool {
  spec: ToolSpec;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>;
}

const reasonParam = {
  type: 'object',
  properties: { reason: { type: 'string', description: 'Why, in a few words' } },
  required: ['reason'],
};

const endCall: Tool = {
  spec: { name: 'end_call', description: 'Hang up after saying goodbye, when the caller is done.', parameters: reasonParam },
  async execute(args) {
    const reason = typeof args.reason === 'string' ? args.reason : 'agent ended the call';
    return { output: JSON.stringify({ ok: true }), isError: false, after: { kind: 'hangup', reason } };
  },
};

const transferCall: Tool = {
  spec: { name: 'transfer_call', description: 'Transfer the caller to a human at the business.', parameters: reasonParam },
  async execute(args, ctx) {
    if (!ctx.transferNumber) return { output: 'Transfer is not available right now; offer to take a message instead.', isError: true };
    const reason = typeof args.reason === 'string' ? args.reason : 'caller asked for a human';
    return { output: JSON.stringify({ ok: true, transferring: true }), isError: false, after: { kind: 'transfer', to: ctx.transferNumber, reason } };
  },
};

export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: Tool[] = [endCall, transferCall]) {
    for (const t of tools) this.register(t);
  }

  register(tool: Tool): void {
    this.tools.set(tool.spec.name, tool);
  }

  specs(): ToolSpec[] {
    return [...this.tools.values()].map((t) => t.spec);
  }

  /** Run `name`; unknown tools and thrown errors become `isError` results. */
  async run(name: string, args: unknown, ctx: ToolContext): Promise<ToolResult> {
    const tool = this.tools.get(name);
    // Same wording as the official ElevenLabs client (https://github.com/elevenlabs/packages/blob/main/packages/client/src/BaseConversation.ts).
    if (!tool) return { output: `Client tool with name ${name} is not defined on client`, isError: true };
    const a = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
    try {
      return await tool.execute(a, ctx);
    } catch (err) {
      return { output: `The ${name} tool failed: ${(err as Error).message}`, isError: true };
    }
  }
}

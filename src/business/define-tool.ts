/**
 * A tool from one zod schema: the JSON Schema both providers receive (OpenAI function parameters;
 * the same shape configured on the ElevenLabs agent's client tools) and the validation of what the
 * model sends. Invalid arguments never reach `execute`: the agent gets a structured error it can
 * read and correct:
 * `{"error":"invalid_arguments","message":"…","fields":[{"field":"date","problem":"…"}]}`.
 */
import { z } from 'zod';
import type { Tool, ToolContext, ToolResult } from '../call/tools';

export interface ToolDefinition<S extends z.ZodObject> {
  name: string;
  description: string;
  parameters: S;
  execute(args: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
}

/** JSON Schema without keys the providers do not need (`$schema`, zod's long regex `pattern`s, ±2^53 bounds). */
function cleanSchema(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cleanSchema);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$schema' || k === 'pattern' || ((k === 'maximum' || k === 'minimum') && Math.abs(Number(x)) >= Number.MAX_SAFE_INTEGER)) continue;
    out[k] = cleanSchema(x);
  }
  return out;
}

/** A result the agent reads as "you got it wrong, here is how". */
export function invalidArguments(fields: { field: string; problem: string }[]): ToolResult {
  const message = `Some details are missing or invalid: ${fields.map((f) => `${f.field} (${f.problem})`).join('; ')}. Ask the caller and try again.`;
  return { isError: true, output: JSON.stringify({ error: 'invalid_arguments', message, fields }) };
}

/** Build a registry Tool whose arguments are checked against `d.parameters` first. */
export function defineTool<S extends z.ZodObject>(d: ToolDefinition<S>): Tool {
  const parameters = cleanSchema(z.toJSONSchema(d.parameters, { io: 'input' })) as Record<string, unknown>;
  return {
    spec: { name: d.name, description: d.description, parameters },
    async execute(raw: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
      // Models often send null for an optional field they do not know: treat it as absent.
      const args = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
      const parsed = d.parameters.safeParse(args);
      if (!parsed.success) {
        return invalidArguments(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(arguments)', problem: i.message })));
      }
      return d.execute(parsed.data, ctx);
    },
  };
}

/**
 * Provider failover (PROVIDER_FAILOVER=true): when the chosen provider cannot be reached at call
 * start, or fails mid-call, the session hands the same call to the other provider. The carrier leg
 * stays open throughout; caller audio that arrives meanwhile is buffered by the session (up to 5 s)
 * and flushed to the new provider, so what the caller said is not lost.
 *
 * The new provider gets the conversation so far in its prompt (ElevenLabs: the
 * `conversation_config_override.agent.prompt.prompt` of the initiation message, docs/protocols/elevenlabs.md#client-messages;
 * OpenAI: `session.instructions`, docs/protocols/openai-realtime.md#session-configuration) and, instead of the greeting, a
 * short "I'm back" line, so the caller hears a short gap and is not asked again.
 * One failover per call: if the second provider fails too, the session's apology path ends the call.
 */
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Connectors } from '../providers';
import { failoverTarget } from '../providers/routing';
import type { CallContext, ProviderEvent, ProviderLeg } from '../providers/types';
import type { CallRecord, ProviderSwitch } from './call-record';
import type { TranscriptTurn } from './transcript';
import type { ProviderName } from '../identity';

/** What the provider taking over says first. */
export const RESUME_MESSAGE = "Sorry about that, I'm back. You were saying?";
/** Turns of context passed on (the most recent ones); older turns are summarised by their count. */
const MAX_TURNS = 40;

/**
 * Whether a provider failure is worth handing the call to another provider: connectivity, server and
 * rate-limit failures (a dropped socket, a 1011 close, a 5xx, a 429) are; our own misconfiguration
 * (auth: a 401/403 or a missing key; bad_request: a rejected session) would fail the same way on every
 * call, so the call ends with the apology instead of looping through providers. An error without a
 * category (a bug) is treated as transient.
 */
export function worthFailover(err: Error): boolean {
  const category = (err as { category?: unknown }).category;
  return category === undefined || category === 'connectivity' || category === 'server' || category === 'rate_limit';
}

/**
 * The prompt for the provider taking over: the call's own prompt, then the transcript so far
 * ("Caller: …" / "Agent: …", interrupted agent turns marked), then how to continue.
 */
export function continuationPrompt(basePrompt: string, turns: TranscriptTurn[]): string {
  if (turns.length === 0) return basePrompt;
  const recent = turns.slice(-MAX_TURNS);
  const lines = recent.map((t) => `${t.role === 'user' ? 'Caller' : 'Agent'}: ${t.text}${t.interrupted ? ' [cut off by the caller]' : ''}`);
  const skipped = turns.length - recent.length;
  return [
    basePrompt,
    '',
    'This phone call is already in progress: the line dropped for a moment on our side and you are taking over.',
    `Conversation so far${skipped ? ` (the last ${recent.length} of ${turns.length} turns)` : ''}:`,
    ...lines,
    '',
    'Continue from there. Do not greet the caller again and do not ask again for anything they already told you; ' +
      'if their last request is unanswered, answer it.',
  ].join('\n');
}

export interface FailoverDeps {
  cfg: Config;
  connectors: Connectors;
  /** The provider taking over from `from` (default: the registry's failover order). */
  next?: (from: ProviderName) => ProviderName | undefined;
  metrics: Metrics;
  log: Logger;
  /** Times the switch (`connectMs` on the record). */
  clock: Clock;
}

export interface TakeOver {
  leg: ProviderLeg;
  provider: ProviderName;
}

/** One call's failover: at most one switch, to the other provider. */
export class ProviderFailover {
  private used = false;

  constructor(private readonly deps: FailoverDeps) {}

  /** True when PROVIDER_FAILOVER is on and this call has not failed over yet. */
  get available(): boolean {
    return this.deps.cfg.PROVIDER_FAILOVER && !this.used;
  }

  /**
   * Connect the provider after `from` in the failover order with the conversation so far. Resolves with
   * the live leg, or undefined (never throws) when the failure is not worth a failover (worthFailover),
   * there is no other provider, or it cannot be reached either.
   * @param ctx the call's context as the first provider got it (prompt override kept as the base).
   * @param atMs ms since call start when `from` failed (recorded on the call).
   */
  async takeOver(
    from: ProviderName,
    cause: Error,
    ctx: CallContext,
    turns: TranscriptTurn[],
    onEvent: (ev: ProviderEvent) => void,
    record: CallRecord,
    atMs: number,
  ): Promise<TakeOver | undefined> {
    const to = (this.deps.next ?? failoverTarget)(from);
    const connector = to === undefined ? undefined : this.deps.connectors[to];
    if (to === undefined || !connector || !worthFailover(cause)) return undefined;
    this.used = true;
    const log = this.deps.log.child({ from, to });
    const next: CallContext = {
      ...ctx,
      prompt: continuationPrompt(ctx.prompt ?? this.deps.cfg.SYSTEM_PROMPT, turns),
      firstMessage: turns.length ? RESUME_MESSAGE : ctx.firstMessage,
    };
    const category = (cause as { category?: string }).category ?? 'unknown';
    this.deps.metrics.providerErrorsTotal.inc({ provider: from, category });
    log.warn({ err: cause.message, category, turns: turns.length }, 'provider failed; failing over');
    const t = this.deps.clock.now();
    try {
      const prepared = await connector.prepare(next);
      const leg = await prepared.connect(next, onEvent);
      const sw: ProviderSwitch = { from, to, atMs, reason: cause.message, connectMs: Math.round(this.deps.clock.now() - t) };
      record.providerHistory = [...(record.providerHistory ?? []), sw];
      record.counters.failovers = (record.counters.failovers ?? 0) + 1;
      this.deps.metrics.providerFailoversTotal.inc();
      log.info({ ms: sw.connectMs }, 'failover: the other provider took the call');
      return { leg, provider: to };
    } catch (err) {
      log.error({ err: (err as Error).message }, 'failover failed: the other provider is unreachable too');
      return undefined;
    }
  }
}

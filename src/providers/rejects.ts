/**
 * Provider messages a leg rejects (not JSON, a type it does not know, a shape that fails its checks, audio that does not
 * fit the negotiated format): each is dropped, the call goes on. A leg logs the first of each reason on its per-call
 * logger and hands every one to the sink the session attached (`ProviderLeg.watchRejects`), which counts them in
 * `callbridge_bad_messages_total{source,reason}`; rejects before the sink was attached are handed over, summed, when it is.
 */
import type { Logger } from '../observability/logger';

/** The `reason` label of a rejected provider message. */
export type RejectReason = 'binary' | 'not_json' | 'unknown_type' | 'bad_shape' | 'bad_audio';

/** Gets `count` (≥ 1) more rejected messages of `reason`. */
export type RejectSink = (reason: RejectReason, count: number) => void;

/** One leg's rejected messages: logged once per reason, counted always. */
export class Rejects {
  private sink?: RejectSink;
  /** Counts per reason while no sink is attached. */
  private readonly held = new Map<RejectReason, number>();
  private readonly logged = new Set<RejectReason>();

  /** `provider` names the leg in the log line (`elevenlabs`, `openai`). */
  constructor(
    private readonly log: Logger,
    private readonly provider: string,
  ) {}

  /** One message dropped for `reason`; `detail` (a type name, a parse error: never audio or text) goes into the first log line of that reason. */
  reject(reason: RejectReason, detail: string): void {
    if (!this.logged.has(reason)) {
      this.logged.add(reason);
      this.log.warn({ reason, detail }, `${this.provider} message rejected (logged once per reason and call, every one counted)`);
    }
    if (this.sink) this.sink(reason, 1);
    else this.held.set(reason, (this.held.get(reason) ?? 0) + 1);
  }

  /** Attach the sink (the last one attached wins); rejects held so far are handed to it at once, one call per reason. */
  watch(sink: RejectSink): void {
    this.sink = sink;
    for (const [reason, n] of this.held) sink(reason, n);
    this.held.clear();
  }
}

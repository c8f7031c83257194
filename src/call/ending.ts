/**
 * How a call ends, for CallSession: transfer, goodbye message (drain), hang-up after the agent's
 * last words have played, the apology when the provider fails, and the once-only finish that fixes
 * the record's final status before the session tears its legs down.
 */
import type { CallControl } from '../carriers/types';
import type { Clock } from '../clock';
import type { Logger } from '../observability/logger';
import type { CallRecord } from './call-record';
import type { PlaybackTracker } from './playback';
import { APOLOGY } from '../spoken';

export { APOLOGY };

export type CallOutcome = 'completed' | 'failed' | 'transferred';

/** Longest wait for queued agent audio to finish playing before hanging up (ms). */
const PLAYOUT_WAIT_MS = 10_000;

export interface CallEndDeps {
  callSid: string;
  record: CallRecord;
  log: Logger;
  control: CallControl;
  playback: PlaybackTracker;
  /** The playout wait, the goodbye's grace period and `endedAt` run on this clock. */
  clock: Clock;
  /** Whether the carrier's media socket is still open. */
  carrierOpen(): boolean;
  /** Release the legs once the record is final (called once, from `finish`). */
  teardown(reason: string): Promise<void>;
}

export class CallEnd {
  /** We decided to end the call (or a transfer is under way). */
  ending = false;
  /** Torn down: no more events are handled. */
  ended = false;
  /** Set when we decide how the call ends, so a carrier `stop` caused by our own REST call keeps it. */
  private outcome?: CallOutcome;
  private playoutWaiter?: () => void;

  constructor(private readonly d: CallEndDeps) {}

  /** Nothing is left to play (last mark echoed, barge-in): release a pending playout wait. */
  playedOut(): void {
    this.playoutWaiter?.();
  }

  /** @see CallSession.transfer */
  async transfer(to: string, reason: string): Promise<void> {
    const { record } = this.d;
    if (this.ended || this.ending) throw new Error(`call ${this.d.callSid} is already ending`);
    record.status = 'transferred';
    record.endReason = `transfer: ${reason}`;
    this.ending = true;
    try {
      await this.d.control.transfer(this.d.callSid, to);
      this.d.log.info({ to }, 'transferred');
    } catch (err) {
      record.status = 'in-progress';
      record.endReason = undefined;
      this.ending = false;
      this.d.log.error({ err: (err as Error).message }, 'transfer failed');
      throw err;
    }
  }

  /** @see CallSession.endWithMessage */
  async endWithMessage(message: string, reason: string, graceMs: number): Promise<void> {
    if (this.ended || this.ending) return;
    this.ending = true;
    this.d.record.endReason = reason;
    this.d.record.status = 'ending';
    try {
      await this.d.control.sayAndHangup(this.d.callSid, message);
      this.d.clock.setTimeout(() => void this.finish(reason, 'completed'), graceMs).unref();
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'could not say goodbye; hanging up');
      await this.hangup(reason);
    }
  }

  /** Resolves when queued agent audio has played (or after PLAYOUT_WAIT_MS, or at once if none). */
  waitForPlayout(): Promise<void> {
    if (this.d.playback.pendingCount === 0 || !this.d.carrierOpen()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.d.clock.clearTimeout(timer);
        this.playoutWaiter = undefined;
        resolve();
      };
      const timer = this.d.clock.setTimeout(done, PLAYOUT_WAIT_MS);
      timer.unref();
      this.playoutWaiter = done;
    });
  }

  /** The agent is done: let its last words play, hang up on the carrier, then tear down. */
  async hangupAfterPlayout(reason: string): Promise<void> {
    if (this.ending || this.ended) return;
    this.ending = true;
    this.d.record.endReason = reason;
    this.d.record.status = 'ending';
    await this.waitForPlayout();
    await this.hangup(reason);
  }

  /** @see CallSession.hangup */
  async hangup(reason: string): Promise<void> {
    if (this.ended) return;
    this.ending = true;
    this.d.record.endReason ??= reason;
    try {
      await this.d.control.hangup(this.d.callSid);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'REST hang-up failed; closing the media socket');
    }
    await this.finish(reason, 'completed');
  }

  /** The provider is gone for good: say sorry through the carrier, then end the call as failed. */
  async apologise(endReason: string): Promise<void> {
    this.ending = true;
    this.d.record.endReason = endReason;
    this.outcome = 'failed';
    try {
      await this.d.control.sayAndHangup(this.d.callSid, APOLOGY);
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, 'could not play the apology; closing the media socket');
    }
    await this.finish(endReason, 'failed');
  }

  /** Fix the final status and tear down, once (idempotent). */
  async finish(reason: string, outcome: CallOutcome): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.playoutWaiter?.();
    const { record } = this.d;
    record.endReason ??= reason;
    record.status = record.status === 'transferred' ? 'transferred' : (this.outcome ?? outcome);
    record.endedAt = new Date(this.d.clock.wallMs()).toISOString();
    await this.d.teardown(reason);
  }
}

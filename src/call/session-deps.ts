/**
 * What a CallSession is given: the carrier leg, and everything else that touches the world (call
 * control, providers, store, clock and ticker), so a unit test hands it fakes (test/helpers/session-rig.ts).
 */
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { CallControl, CarrierCommand } from '../carriers/types';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Connectors } from '../providers';
import type { Store } from '../store/types';
import type { CallRecord } from './call-record';
import type { Ticker } from './ticker';
import type { ToolRegistry } from './tools';

/** The carrier leg as the session sees it (the media socket implements it). */
export interface CarrierPort {
  send(cmd: CarrierCommand): void;
  /** Close the media socket; with `<Hangup/>` after `<Connect>` this ends the call (https://www.twilio.com/docs/voice/twiml/connect). */
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
}

export interface SessionDeps {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  /** Control of this call's carrier. */
  control: CallControl;
  tools: ToolRegistry;
  /** Both providers' connectors: with PROVIDER_FAILOVER, the other one takes over a failed call. */
  connectors?: Connectors;
  /** Called once with the final record when the call is over. */
  onEnded: (record: CallRecord) => void;
  /** Where the call row and its turns are stored (src/call/persist.ts); none: not persisted. */
  store?: Store;
  /** Time and timers of the call, its ending and its failover. Default: the process clock. */
  clock?: Clock;
  /** Paces ambience and partial frames towards the carrier (./outbound-audio.ts). Default: the process-wide ticker. */
  ticker?: Ticker;
}

/**
 * The operator side of one server, built once per `buildServer`: limits (daily budget, per-address
 * media sockets), the call directory (this process, or every instance through Redis with REDIS_URL),
 * the options of placed outbound calls and of admitted calls, the ledger of used media tokens, and the
 * carriers' status-callback book.
 */
import type { CallRegistry } from '../call/registry';
import type { IpcPeer } from '../cluster/ipc';
import { LocalCallDirectory, MemoryOutboundOptions, MemorySharedValues, MemoryTokenLedger, newInstanceId } from '../cluster/local-directory';
import { WorkerDirectory } from '../cluster/worker-link';
import { RedisCallDirectory } from '../cluster/redis-directory';
import type { CallDirectory, OutboundOptionsStore, SharedValues, TokenLedger } from '../cluster/types';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { admissionLimits, type AdmissionLimits, type DailyBudget } from './limits';
import { AddressLimiter } from './limits-ip';
import { CarrierStatusBook } from './carrier-status';

export interface Operations {
  limits: AdmissionLimits & { budget: DailyBudget };
  directory: CallDirectory;
  /** Options of placed calls (by request id) and of admitted calls (by `call:<callSid>`), shared like the directory. */
  outbound: OutboundOptionsStore;
  /** Single use of media tokens, shared like the directory. */
  tokens: TokenLedger;
  /** Small values every process and instance sees (Exotel transfer destinations), shared like the directory. */
  shared: SharedValues;
  book: CarrierStatusBook;
  /** Concurrent media sockets per client address. */
  mediaSockets: AddressLimiter;
  close(): Promise<void>;
}

/** What the processes and instances of a deployment share: calls, placed-call options, used tokens, small values. */
type DeploymentState = Pick<Operations, 'directory' | 'outbound' | 'tokens' | 'shared'>;

/** Redis when REDIS_URL is set (every instance), else the primary of this instance's workers, else this process's memory. */
function deploymentState(cfg: Config, log: Logger, registry: CallRegistry, primary?: IpcPeer): DeploymentState {
  if (cfg.REDIS_URL) {
    const redis = new RedisCallDirectory(cfg.REDIS_URL, cfg.REDIS_KEY_PREFIX, registry, log);
    log.info({ instanceId: redis.instanceId, prefix: cfg.REDIS_KEY_PREFIX }, 'live calls shared through Redis');
    return { directory: redis, outbound: redis, tokens: redis, shared: redis };
  }
  if (primary) {
    const viaPrimary = new WorkerDirectory(primary, registry, newInstanceId());
    return { directory: viaPrimary, outbound: viaPrimary, tokens: viaPrimary, shared: viaPrimary };
  }
  return {
    directory: new LocalCallDirectory(registry),
    outbound: new MemoryOutboundOptions(),
    tokens: new MemoryTokenLedger(),
    shared: new MemorySharedValues(),
  };
}

/** @param primary a cluster worker's channel to its primary: without REDIS_URL, the instance's calls, tokens and options are kept there. */
export function createOperations(cfg: Config, log: Logger, metrics: Metrics, registry: CallRegistry, primary?: IpcPeer): Operations {
  const state = deploymentState(cfg, log, registry, primary);
  return {
    limits: admissionLimits(cfg, registry, metrics, log),
    ...state,
    book: new CarrierStatusBook(),
    mediaSockets: new AddressLimiter(cfg.MAX_MEDIA_SOCKETS_PER_IP),
    close: () => state.directory.close(),
  };
}

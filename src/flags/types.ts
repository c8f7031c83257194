/**
 * The provider flag as the router sees it: a per-call question ("does this call go to ElevenLabs?")
 * answered once at call start, with where the answer came from (recorded as the call's flag_source).
 */
import type { CallIdentity } from '../identity';

/** The Unleash toggle name, the same as the env var it replaces (README.md "Switching providers"). */
export const TOGGLE_NAME = 'USE_ELEVENLABS_CONVERSATIONAL_AI';

/** What a flag decision may depend on (Unleash context: stickiness on callSid, targeting on the rest). */
/** The call the flag is evaluated for (Unleash context: sessionId = callSid, properties from these fields). */
export type FlagContext = CallIdentity;

/**
 * Where the answer came from:
 * - `unleash`: the toggle, from a state fetched within the last few refresh periods;
 * - `unleash-stale`: the toggle, from the last known state while Unleash is unreachable;
 * - `unleash-backup`: the toggle, from the backup file (Unleash not reached since this process started).
 */
export type FlagSourceKind = 'unleash' | 'unleash-stale' | 'unleash-backup';

/** `undefined` from `evaluate` means "no opinion": the caller falls back to the env var. */
export interface FlagAnswer {
  elevenlabs: boolean;
  source: FlagSourceKind;
}

/** Health of a flag source, for logs and the flag CLI. */
export interface FlagSourceStatus {
  /** Toggles known (fetched or read from the backup file). */
  ready: boolean;
  /** Fetched from the server at least once since start. */
  synchronized: boolean;
  /** Ms since the last successful fetch (200 or 304), undefined before the first one. */
  sinceLastFetchMs?: number;
  /** Whether the toggle exists in the known state. */
  toggleKnown: boolean;
  /** The toggle as known: enabled, and the unconstrained flexibleRollout percent if any. */
  toggle?: { enabled: boolean; rollout?: number };
}

export interface FlagSource {
  /** Evaluate the toggle for one call; `undefined` when the source has no state or no such toggle. Never throws. */
  evaluate(ctx: FlagContext): FlagAnswer | undefined;
  status(): FlagSourceStatus;
  /** Stop polling; safe while a fetch is in flight. */
  close(): Promise<void>;
}

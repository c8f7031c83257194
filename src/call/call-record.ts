/**
 * The call as the admin API shows it: who, which carrier and provider, status, timings, transcript.
 */
import type { CarrierEvent } from '../carriers/types';

import type { PendingCall } from './pending';
import type { TranscriptTurn } from './transcript';
import type { CallIdentity, ProviderName } from '../identity';

export type CallStatus = 'connecting' | 'in-progress' | 'ending' | 'completed' | 'failed' | 'transferred';

/** A failover (src/call/failover.ts): the call moved from one provider to the other. */
export interface ProviderSwitch {
  from: ProviderName;
  to: ProviderName;
  /** Ms since call start when `from` failed. */
  atMs: number;
  reason: string;
  /** Ms to reach the new provider (set-up + socket). */
  connectMs: number;
}

export interface CallRecord extends CallIdentity {
  streamSid?: string;
  /** The provider chosen at call start (the flag's cohort); failovers are in `providerHistory`. */
  provider: ProviderName;
  /** Failovers of this call, in order (absent when none). */
  providerHistory?: ProviderSwitch[];
  /** Where the provider decision came from (`env` = USE_ELEVENLABS_CONVERSATIONAL_AI). */
  flagSource: string;
  status: CallStatus;
  conversationId?: string;
  /** ISO 8601 times. */
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
  endReason?: string;
  timings: {
    /** Ms from the carrier `start` to the provider being ready. */
    providerReadyMs?: number;
    /** Ms from the carrier `start` to the first agent audio frame sent to the carrier. */
    firstAgentAudioMs?: number;
  };
  counters: { bargeIns: number; dtmf: string[]; badFrames: number; framesIn: number; framesOut: number; failovers?: number };
  turns: TranscriptTurn[];
}

/** The record of a call whose media stream started at `wallMs` (ms since the epoch): connecting, nothing counted yet. */
export function newCallRecord(pending: PendingCall, start: Extract<CarrierEvent, { type: 'start' }>, wallMs: number): CallRecord {
  return {
    callSid: start.callSid,
    streamSid: start.streamSid,
    carrier: pending.carrier,
    direction: pending.direction,
    from: pending.from ?? start.from,
    to: pending.to ?? start.to,
    provider: pending.provider,
    flagSource: pending.flagSource,
    status: 'connecting',
    startedAt: new Date(wallMs).toISOString(),
    timings: {},
    counters: { bargeIns: 0, dtmf: [], badFrames: 0, framesIn: 0, framesOut: 0 },
    turns: [],
  };
}

/**
 * A CallSession with every outside part faked: the carrier port records commands, call control
 * records REST actions, each provider is a fake connector whose legs the test drives, and time is a
 * FakeClock (with the outbound ticker on it). Nothing listens, nothing waits in real time.
 */
import type { AudioFormat } from '../../src/audio/format';
import type { CallRecord } from '../../src/call/call-record';
import type { PendingCall } from '../../src/call/pending';
import { CallSession, type CarrierPort } from '../../src/call/session';
import { createTicker, TICK_MS } from '../../src/call/ticker';
import { ToolRegistry } from '../../src/call/tools';
import type { CallControl, CarrierCommand, CarrierEvent } from '../../src/carriers/types';
import { silentLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { CallContext, PreparedProvider, ProviderConnector, ProviderEvent, ProviderLeg } from '../../src/providers/types';
import { testConfig } from './config';
import { FakeClock, settle } from './fake-clock';

export const MULAW_8K: AudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
/** μ-law 8 kHz: 8 bytes a millisecond. */
const BYTES_PER_MS = 8;

/** A provider leg the test speaks for: `emit` is the provider talking, the arrays what it was sent. */
export class FakeLeg implements ProviderLeg {
  readonly caps: { truncate: boolean };
  readonly audio: Buffer[] = [];
  readonly toolResults: Array<{ callId: string; output: string; isError: boolean }> = [];
  readonly truncates: Array<{ itemId: string; playedMs: number }> = [];
  closedWith?: string;
  truncate?: (itemId: string, playedMs: number) => void;

  constructor(
    readonly name: string,
    truncate: boolean,
    readonly ctx: CallContext,
    private readonly onEvent: (ev: ProviderEvent) => void,
  ) {
    this.caps = { truncate };
    if (truncate) this.truncate = (itemId, playedMs) => void this.truncates.push({ itemId, playedMs });
  }

  sendAudio(payload: Buffer): void {
    this.audio.push(payload);
  }

  sendToolResult(callId: string, output: string, isError: boolean): void {
    this.toolResults.push({ callId, output, isError });
  }

  async close(reason: string): Promise<void> {
    this.closedWith ??= reason;
  }

  emit(ev: ProviderEvent): void {
    this.onEvent(ev);
  }

  /** Formats negotiated: μ-law 8 kHz both ways (no transcoding). */
  ready(conversationId = `conv-${this.name}`): void {
    this.emit({ type: 'ready', inputFormat: MULAW_8K, outputFormat: MULAW_8K, conversationId });
  }

  /** `ms` of agent audio of utterance `itemId`. */
  says(itemId: string, ms: number): void {
    this.emit({ type: 'audio', payload: Buffer.alloc(ms * BYTES_PER_MS, 0x55), itemId });
  }
}

/** A provider whose set-up and socket succeed, or fail with `refuse` when it is set. */
export class FakeConnector implements ProviderConnector {
  readonly legs: FakeLeg[] = [];
  /** The context of each `connect`, in order. */
  readonly contexts: CallContext[] = [];
  refuse?: Error;

  /** @param all every leg of the call, across connectors, in connect order. */
  constructor(
    readonly name: string,
    private readonly canTruncate: boolean,
    private readonly all: FakeLeg[] = [],
  ) {}

  async prepare(): Promise<PreparedProvider> {
    if (this.refuse) throw this.refuse;
    return {
      connect: async (ctx, onEvent) => {
        this.contexts.push(ctx);
        if (this.refuse) throw this.refuse;
        const leg = new FakeLeg(this.name, this.canTruncate, ctx, onEvent);
        this.legs.push(leg);
        this.all.push(leg);
        return leg;
      },
    };
  }

  get leg(): FakeLeg {
    const leg = this.legs.at(-1);
    if (!leg) throw new Error(`${this.name}: no leg connected`);
    return leg;
  }
}

export interface RigOptions {
  /** The provider the call starts on. Default elevenlabs (no truncate); openai truncates. */
  provider?: 'elevenlabs' | 'openai';
  /** Extra config, e.g. { PROVIDER_FAILOVER: 'true' }. */
  env?: Record<string, string>;
}

export type ControlAction = { op: 'hangup' } | { op: 'transfer'; to: string } | { op: 'sayAndHangup'; message: string };

export function sessionRig(o: RigOptions = {}) {
  const provider = o.provider ?? 'elevenlabs';
  const cfg = testConfig({ TRANSFER_NUMBER: '+14155550199', ...o.env });
  const clock = new FakeClock();
  const legs: FakeLeg[] = [];
  const connectors = { elevenlabs: new FakeConnector('elevenlabs', false, legs), openai: new FakeConnector('openai', true, legs) };
  const sent: CarrierCommand[] = [];
  const carrierCloses: Array<{ code: number; reason: string }> = [];
  const carrier: CarrierPort = {
    isOpen: true,
    send: (cmd) => void sent.push(cmd),
    close(code, reason) {
      (this as { isOpen: boolean }).isOpen = false;
      carrierCloses.push({ code, reason });
    },
  };
  const actions: ControlAction[] = [];
  const control: CallControl = {
    hangup: async () => (actions.push({ op: 'hangup' }), true),
    transfer: async (_sid, to) => void actions.push({ op: 'transfer', to }),
    sayAndHangup: async (_sid, message) => void actions.push({ op: 'sayAndHangup', message }),
    placeCall: async () => ({ callSid: 'CA-placed' }),
  };
  const pending: PendingCall = {
    callSid: 'CA-rig',
    carrier: 'twilio',
    direction: 'inbound',
    from: '+14155550123',
    to: '+14155550100',
    token: 'tok',
    provider,
    flagSource: 'env',
    prepared: connectors[provider].prepare().catch((err: Error) => err),
    createdAtMs: clock.wallMs(),
  };
  const start: Extract<CarrierEvent, { type: 'start' }> = {
    type: 'start',
    callSid: pending.callSid,
    streamSid: 'MZ-rig',
    direction: 'inbound',
    params: { token: 'tok' },
    format: MULAW_8K,
  };
  const ended: CallRecord[] = [];
  const metrics = createMetrics();
  const session = new CallSession(pending, start, carrier, {
    cfg,
    log: silentLogger,
    metrics,
    control,
    tools: new ToolRegistry(),
    connectors,
    onEnded: (r) => void ended.push(r),
    clock,
    ticker: createTicker(TICK_MS, clock),
  });
  let echoedMarks = 0;
  const marks = () => sent.flatMap((c) => (c.type === 'mark' ? [c.name] : []));

  return {
    session,
    clock,
    cfg,
    connectors,
    metrics,
    /** Every command sent to the carrier, in order. */
    sent,
    carrier,
    carrierCloses,
    /** REST call-control actions, in order. */
    actions,
    /** Final records handed to `onEnded` (one per call). */
    ended,
    /** The leg serving the call now (the last one connected). */
    get leg(): FakeLeg {
      const leg = legs.at(-1);
      if (!leg) throw new Error('no provider leg connected');
      return leg;
    },
    /** Every leg of the call, in connect order. */
    legs,
    /** Start the session and let its provider report ready. */
    async connect(): Promise<FakeLeg> {
      await session.start();
      const leg = connectors[provider].leg;
      leg.ready();
      await settle();
      return leg;
    },
    /** Carrier events, as the media socket hands them over. */
    carrierSays: (ev: CarrierEvent) => session.onCarrier(ev),
    /** Names of the marks sent so far. */
    marks,
    /** Marks sent and not yet echoed. */
    unechoed: () => marks().length - echoedMarks,
    /** Echo the next `n` marks sent (default all), as the carrier does once their audio has played. */
    echo(n = Infinity): void {
      const names = marks().slice(echoedMarks, echoedMarks + n);
      echoedMarks += names.length;
      for (const name of names) session.onCarrier({ type: 'mark', name });
    },
    /** Commands sent from index `from` on. */
    sentSince: (from: number) => sent.slice(from),
    record: () => session.snapshot(),
    /** Let queued promise work run. */
    settle,
  };
}

export type SessionRig = ReturnType<typeof sessionRig>;

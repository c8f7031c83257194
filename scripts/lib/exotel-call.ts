/**
 * An Exotel call for the call simulator (./simulate-call.ts): places it with the Exotel carrier
 * emulator (dynamic applet URL → stream, docs/protocols/exotel.md#emulator) and presents it with the same members as
 * a Twilio `EmulatedCall`, so one scenario drives both carriers. Audio reported by `played()` is
 * converted from the stream's PCM16 to μ-law 8 kHz (8 bytes per ms), the unit the scenario uses.
 */
import { EventEmitter } from 'node:events';
import { createConverter } from '../../src/audio/convert';
import { MULAW_8K } from '../../src/audio/format';
import { ExotelCarrierEmulator, type ExotelCallRecord, type ExotelPlaceCallOptions } from '../../test/emulators/exotel-carrier';
import type { CallEvents, ClearRecord, ClosedInfo, MarkRecord, Violation } from '../../test/emulators/twilio-carrier';
import type { SimCall } from './simulate-call';

/** Where and how to place the call: the carrier emulator's own options (`path` defaults to `/inbound?carrier=exotel`). */
export type ExotelSimOptions = { carrier: ExotelCarrierEmulator } & Pick<
  ExotelPlaceCallOptions,
  'serverBase' | 'publicUrl' | 'path' | 'streamUrl' | 'from' | 'to'
>;

/** The Twilio-shaped view of one Exotel call. */
class ExotelSimCall extends EventEmitter<CallEvents> implements SimCall {
  readonly errors: { code: number; message: string }[] = [];
  readonly clears: ClearRecord[] = [];
  readonly violations: Violation[] = [];
  endReason?: string;

  constructor(private readonly rec: ExotelCallRecord) {
    super();
    const c = rec.call;
    const toMulawBytes = (pcmBytes: number) => Math.round((pcmBytes / c.bytesPerMs) * 8);
    c.on('playout-start', (at, idle) => this.emit('playout-start', at, idle));
    c.on('message', (r) => this.emit('message', r as never));
    c.on('mark', (m) => this.emit('mark', m));
    c.on('clear', (x) => {
      const cr: ClearRecord = { atMs: x.atMs, discardedBytes: toMulawBytes(x.discardedBytes), marks: [] };
      this.clears.push(cr);
      this.emit('clear', cr);
    });
    c.on('violation', (v) => {
      if (v.severity !== 'error') return;
      const tv: Violation = { code: 31951, reason: `Exotel: ${v.reason}`, dropped: true, atMs: v.atMs, raw: v.raw };
      this.violations.push(tv);
      this.emit('violation', tv);
    });
    c.on('closed', (info) => {
      this.endReason = info.by === 'carrier' ? 'hangup' : 'server-close';
      if (info.code === 0) this.errors.push({ code: 0, message: info.reason });
    });
  }

  get callSid() {
    return this.rec.call.callSid;
  }
  get streamSid() {
    return this.rec.call.streamSid;
  }
  get webhook() {
    const a = this.rec.applets[0];
    return { url: a?.url ?? '(static applet URL)', status: a?.status ?? 200, latencyMs: a?.latencyMs ?? 0, params: {} };
  }
  get notes() {
    return this.rec.call.notes;
  }
  get marks(): MarkRecord[] {
    return this.rec.call.marks;
  }
  get firstMediaAtMs() {
    return this.rec.call.firstMediaAtMs;
  }
  get isClosed() {
    return this.rec.call.isClosed;
  }
  get closed(): Promise<ClosedInfo> {
    return this.rec.call.closed;
  }
  get bufferedBytes() {
    return this.rec.call.bufferedBytes;
  }
  get callerIdle() {
    return this.rec.call.callerIdle;
  }
  get playoutLog() {
    return this.rec.call.playoutLog;
  }
  nowMs() {
    return this.rec.call.nowMs();
  }
  sendAudio(samples8k: Int16Array) {
    this.rec.call.sendAudio(samples8k);
  }
  hangup(): Promise<ClosedInfo> {
    return this.rec.call.hangup('callended');
  }
  played(withGaps = false): Buffer {
    const pcm = this.rec.call.played(withGaps);
    return createConverter({ encoding: 'pcm16le', sampleRate: this.rec.call.setup.rate }, MULAW_8K)(pcm);
  }
}

/**
 * A `placeCall` for `runSimulatedCall`: places an inbound Exotel call; `attach` runs before the
 * stream starts so no event is missed.
 */
export function exotelPlacer(o: ExotelSimOptions): (callSid: string, attach: (c: SimCall) => void) => Promise<SimCall> {
  return async (callSid, attach) => {
    let sim: ExotelSimCall | undefined;
    const onCall = (rec: ExotelCallRecord) => {
      if (rec.call.callSid !== callSid) return;
      o.carrier.off('call', onCall);
      sim = new ExotelSimCall(rec);
      attach(sim);
    };
    o.carrier.on('call', onCall);
    await o.carrier.placeCall({ serverBase: o.serverBase, publicUrl: o.publicUrl, path: o.path, streamUrl: o.streamUrl, callSid, from: o.from, to: o.to });
    o.carrier.off('call', onCall);
    return sim!;
  };
}

/** 32 lower-case hex, Exotel's call id form. */
export { exotelId } from '../../test/emulators/exotel-carrier';

/**
 * Shared by the fault-injection tests (faults-*.test.ts): what the caller heard on the carrier side,
 * and the leak check (the server forgot the call, and the process holds no more timers or sockets
 * than before it).
 */
import type { EmulatedConversation } from '../emulators/elevenlabs-conversation';
import type { EmulatedCall } from '../emulators/twilio-carrier';
import { until, type Bridge } from '../helpers/bridge';

/** Active handles and requests per resource type (`process.getActiveResourcesInfo()`), e.g. `{ Timeout: 3, TCPSocketWrap: 2 }`. */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Types whose count is above `baseline`, as `type: now > before`; empty when none. */
export function overBaseline(baseline: Record<string, number>): string[] {
  return Object.entries(resources())
    .filter(([type, n]) => n > (baseline[type] ?? 0))
    .map(([type, n]) => `${type}: ${n} > ${baseline[type] ?? 0}`);
}

/**
 * Waits (up to `timeoutMs`) until the server has no live call and every resource type is back at or
 * below `baseline`, then returns what is still over (an empty list, or the leak for the assertion).
 */
export async function settledLeaks(b: Bridge, baseline: Record<string, number>, timeoutMs = 10_000): Promise<string[]> {
  await b.waitIdle(timeoutMs);
  try {
    await until('resources back to the baseline', () => overBaseline(baseline).length === 0, timeoutMs);
  } catch {
    // reported below
  }
  return overBaseline(baseline);
}

/** Carrier-side timeline: wall time of each playout start with the idle gap before it (ms), and of each media frame. */
export function carrierTimeline(call: EmulatedCall): { playouts: Array<{ wall: number; idleMs: number }>; media: number[] } {
  const playouts: Array<{ wall: number; idleMs: number }> = [];
  const media: number[] = [];
  call.on('playout-start', (_at, idleMs) => playouts.push({ wall: Date.now(), idleMs }));
  call.on('message', (r) => r.msg.event === 'media' && media.push(Date.now()));
  return { playouts, media };
}

/** The polite-apology TwiML the bridge sent through the Twilio REST API, if any. */
export function apology(b: Bridge): string | undefined {
  const r = b.rest.requests.find((q) => typeof q.form.Twiml === 'string');
  return r ? String(r.form.Twiml) : undefined;
}

/** Waits for the apology TwiML; resolves with it and the ms from `sinceWall` (Date.now()) to its arrival (±25 ms polling). */
export async function waitApology(b: Bridge, sinceWall: number, timeoutMs = 20_000): Promise<{ twiml: string; afterMs: number }> {
  const twiml = await until('the apology TwiML', () => apology(b), timeoutMs);
  return { twiml, afterMs: Date.now() - sinceWall };
}

/** One line for the closing note: fault, outcome, the silence the caller heard. */
export function report(fault: string, outcome: string, silenceMs: number | string): void {
  console.log(`fault: ${fault} → ${outcome}; caller silence ${typeof silenceMs === 'number' ? `${Math.round(silenceMs)} ms` : silenceMs}`);
}

/** Place a call through the bridge's ElevenLabs emulator and wait until its greeting has been sent in full. */
export async function greetedElevenLabsCall(b: Bridge): Promise<{ call: EmulatedCall; conv: EmulatedConversation }> {
  const call = await b.call();
  const conv = await b.el!.waitForConversation(5000);
  await call.waitFor('media', 5000);
  await conv.playout();
  return { call, conv };
}

/**
 * Timestamps carried inside 160-byte μ-law bench frames, so latency is measured across processes
 * without a side channel. μ-law passes the bridge untouched on the Twilio ⇄ ElevenLabs `ulaw_8000`
 * path, so the bytes survive. Clock: `process.hrtime.bigint()` (CLOCK_MONOTONIC, one clock for every
 * process on the machine). Layout: bytes 0–3 tag, 4–11 carrier send (ns), 12–19 provider send (ns).
 */

export const MEDIA_TAG = 0x43424d44; // "CBMD"
export const GREETING_TAG = 0x43424752; // "CBGR"

export const nowNs = (): bigint => process.hrtime.bigint();

/** Write a tag and two times (ns) into the first 20 bytes of `frame` (≥ 20 bytes). */
export function stampFrame(frame: Buffer, tag: number, carrierNs: bigint, providerNs: bigint): void {
  frame.writeUInt32BE(tag, 0);
  frame.writeBigUInt64BE(carrierNs, 4);
  frame.writeBigUInt64BE(providerNs, 12);
}

/** The stamp of a frame, or undefined when it carries none. */
export function readStamp(frame: Buffer): { tag: number; carrierNs: bigint; providerNs: bigint } | undefined {
  if (frame.length < 20) return undefined;
  const tag = frame.readUInt32BE(0);
  if (tag !== MEDIA_TAG && tag !== GREETING_TAG) return undefined;
  return { tag, carrierNs: frame.readBigUInt64BE(4), providerNs: frame.readBigUInt64BE(12) };
}

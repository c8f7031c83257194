/**
 * A real call (Twilio carrier emulator → WS /media-stream → ElevenLabs emulator) that receives 300
 * generated bad frames interleaved with its audio keeps talking: caller audio still reaches the
 * provider, the agent still answers after the last bad frame, the call ends normally, and
 * `callbridge_bad_frames_total` rose by exactly the number of bad frames sent, reason by reason.
 * The frames come from the fuzz arbitraries with a fixed seed (reproducible), filtered to frames the
 * Twilio codec refuses (binary, not_json, unknown_event, bad_shape) so none is a valid `stop` or `mark`,
 * plus frames over MAX_FRAME_BYTES (oversized) and repeated `start`s (duplicate_start). Text frames that are
 * not UTF-8 are among them (the media socket skips `ws`'s UTF-8 check, so they reach the codec as not_json).
 */
import fc from 'fast-check';
import type { CallRecord } from '../../src/call/call-record';
import { twilioCodec } from '../../src/carriers/twilio/codec';
import { fixture, startBridge, until, type Bridge } from '../helpers/bridge';
import { parsePrometheusText } from '../helpers/metrics-parser';
import { rawFrames, type RawFrame } from './arbitraries';

const BAD_FRAMES = 300;
const SEED = 20261204;

/** Frames of the kinds the carrier sends, to mutate (a `stop` or `mark` that survives mutation would be valid, so the filter drops those). */
const VALID = [
  {
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '5', payload: Buffer.alloc(160, 0xff).toString('base64') },
    streamSid: 'MZ1',
  },
  { event: 'mark', sequenceNumber: '4', streamSid: 'MZ1', mark: { name: 'agent-1' } },
  { event: 'dtmf', streamSid: 'MZ1', sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } },
  { event: 'stop', sequenceNumber: '6', streamSid: 'MZ1', stop: { callSid: 'CA1' } },
];

/** `count` frames, each with the bad-frame reason the media socket will count it under. */
function badFrames(count: number, maxFrameBytes: number, start: string): Array<{ frame: RawFrame; reason: string }> {
  const out: Array<{ frame: RawFrame; reason: string }> = [];
  const pool = fc.sample(rawFrames(VALID), { seed: SEED, numRuns: count * 4 });
  for (const frame of pool) {
    if (out.length >= count - 20) break;
    const size = Buffer.byteLength(frame[0]);
    if (size > maxFrameBytes) {
      out.push({ frame, reason: 'oversized' });
      continue;
    }
    const r = twilioCodec.parse(frame[0], frame[1]);
    if (!r.ok) out.push({ frame, reason: r.reason });
  }
  for (let i = 0; out.length < count; i++) {
    out.push(i % 2 ? { frame: [start, false], reason: 'duplicate_start' } : { frame: ['x'.repeat(maxFrameBytes + 1), false], reason: 'oversized' });
  }
  return out;
}

const badFrameCounts = (text: string): Record<string, number> => {
  const fam = parsePrometheusText(text).get('callbridge_bad_frames_total');
  const out: Record<string, number> = {};
  for (const s of fam?.samples ?? []) if (s.labels.carrier === 'twilio') out[s.labels.reason!] = s.value;
  return out;
};

describe('fuzz: a live call under bad frames', () => {
  let b: Bridge;
  afterEach(async () => {
    await b?.close();
  }, 60_000);

  it(`keeps talking through ${BAD_FRAMES} bad frames interleaved with its audio, and counts each one once`, async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: 4 });
    const el = b.el!;
    const call = await b.call();
    await el.waitForConversation(5000);
    await call.waitFor('media', 10_000); // the greeting

    const start = JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: call.accountSid,
        streamSid: call.streamSid,
        callSid: call.callSid,
        tracks: ['inbound'],
        customParameters: { token: 'f'.repeat(32) },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: call.streamSid,
    });
    const frames = badFrames(BAD_FRAMES, b.cfg.MAX_FRAME_BYTES, start);
    expect(frames).toHaveLength(BAD_FRAMES);
    const want: Record<string, number> = {};
    for (const f of frames) want[f.reason] = (want[f.reason] ?? 0) + 1;
    expect(Object.keys(want).sort()).toEqual(['bad_shape', 'binary', 'duplicate_start', 'not_json', 'oversized', 'unknown_event']);
    const notUtf8 = frames.filter(({ frame: [d, bin] }) => !bin && Buffer.isBuffer(d) && !Buffer.from(d.toString('utf8')).equals(d));
    expect(notUtf8.length).toBeGreaterThan(0);
    const before = badFrameCounts(await b.metricsText());

    // The caller speaks while the bad frames go out, 10 at a time between paced audio frames.
    call.sendAudio(fixture('caller-booking-8k.wav'));
    const chunksBefore = el.seen.chunks;
    for (let i = 0; i < frames.length; i += 10) {
      for (const { frame } of frames.slice(i, i + 10)) call.sendRaw(frame[0], frame[1]);
      await new Promise((r) => setTimeout(r, 5));
    }
    const lastBadAt = call.nowMs();
    expect(call.isClosed).toBe(false);

    // Counted exactly once each, by reason.
    await until(
      'every bad frame counted',
      async () => {
        const live = await b.admin<CallRecord>(`/api/calls/${call.callSid}`);
        return live.body.counters?.badFrames === BAD_FRAMES ? true : undefined;
      },
      10_000,
    );
    const after = badFrameCounts(await b.metricsText());
    const rose: Record<string, number> = {};
    for (const [reason, v] of Object.entries(after)) if (v - (before[reason] ?? 0)) rose[reason] = v - (before[reason] ?? 0);
    expect(rose).toEqual(want);

    // Caller audio still reaches the agent, and the agent still answers after the last bad frame.
    await until('caller audio after the bad frames', () => (el.seen.chunks > chunksBefore + 5 ? true : undefined), 10_000);
    await call.waitFor((r) => r.msg.event === 'media' && r.atMs > lastBadAt && el.seen.agentResponses.length >= 2, 20_000);

    await call.hangup();
    const ended = await b.ended(call.callSid, 15_000);
    expect(ended.status).toBe('completed');
    expect(ended.counters.badFrames).toBe(BAD_FRAMES);
    await b.waitIdle();
  }, 90_000);
});

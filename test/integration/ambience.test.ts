/**
 * Background ambience end to end: a real-time call (speed 1) through the server with
 * BACKGROUND_AUDIO set, to the ElevenLabs emulator, checked at the emulated Twilio end.
 */
import { join } from 'node:path';
import { ambienceLoop, loadAmbience } from '../../src/audio/ambience';
import { mulawToSamples, samplesToMulaw } from '../../src/audio/g711';
import { ConfigError } from '../../src/config';
import { defaultScript } from '../emulators/agent-script';
import type { Received } from '../emulators/twilio/call';
import { fixture, startBridge, type Bridge } from '../helpers/bridge';
import { testConfig } from '../helpers/config';

const ASSET = join(__dirname, '../../assets/ambience/office-murmur-16k.wav');
const GAIN_DB = -6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rmsOf = (s: Int16Array) => Math.sqrt(s.reduce((a, v) => a + v * v, 0) / Math.max(1, s.length));

/** Media payloads in order, each flagged agent (followed by a mark) or ambience-only. */
function frames(received: Received[]): { bytes: Buffer; agent: boolean; atMs: number }[] {
  const out: { bytes: Buffer; agent: boolean; atMs: number }[] = [];
  received.forEach((r, i) => {
    if (r.msg.event !== 'media') return;
    out.push({ bytes: Buffer.from(r.msg.media.payload, 'base64'), agent: received[i + 1]?.msg.event === 'mark', atMs: r.atMs });
  });
  return out;
}

describe('background ambience', () => {
  let b: Bridge | undefined;
  afterEach(async () => {
    await b?.close();
    b = undefined;
  });

  it('stops start-up with a line naming BACKGROUND_AUDIO when the file is missing', () => {
    expect(() => testConfig({ BACKGROUND_AUDIO: '/nonexistent/murmur.wav' })).toThrow(ConfigError);
    expect(() => testConfig({ BACKGROUND_AUDIO: '/nonexistent/murmur.wav' })).toThrow(/^BACKGROUND_AUDIO: cannot use \/nonexistent\/murmur.wav/m);
  });

  it('plays under the agent at the configured gain, fills the silence without gaps, stops on clear and resumes', async () => {
    b = await startBridge({ provider: 'elevenlabs', speed: 1, env: { BACKGROUND_AUDIO: ASSET, BACKGROUND_GAIN_DB: String(GAIN_DB) } });
    const loop = ambienceLoop(loadAmbience(ASSET, GAIN_DB), 8000);
    const loopRms = rmsOf(loop);
    const call = await b.call();
    const conv = await b.el!.waitForConversation(5000);
    await call.waitFor('media', 5000);
    await conv.playout();
    const greetingFrames = Math.ceil(defaultScript().greeting.samples.length / 160);
    await call.waitFor(() => call.marks.filter((m) => m.echoedAtMs !== undefined).length >= greetingFrames, 15_000);
    await sleep(800);

    // Under the agent: what was sent minus the greeting itself is the ambience, at the configured level.
    const f = frames(call.received);
    const greeting = mulawToSamples(samplesToMulaw(defaultScript().greeting.samples));
    const agentFrames = f.filter((x) => x.agent);
    const firstAgent = f.findIndex((x) => x.agent);
    const mixed = mulawToSamples(Buffer.concat(agentFrames.map((x) => x.bytes))).subarray(0, greeting.length);
    const residual = mixed.map((v, i) => v - greeting[i]!);
    expect(rmsOf(residual) / loopRms).toBeGreaterThan(0.85);
    expect(rmsOf(residual) / loopRms).toBeLessThan(1.15);

    // While idle: ambience-only frames, exactly the loop continuing where the previous frame left off.
    const idle = f.slice(f.length - 30);
    expect(idle.every((x) => !x.agent)).toBe(true);
    const before = f.slice(0, f.length - 30).reduce((n, x) => n + x.bytes.length, 0);
    const got = Buffer.concat(idle.map((x) => x.bytes));
    const want = Buffer.alloc(got.length);
    for (let i = 0; i < got.length; i++) want[i] = samplesToMulaw(loop.subarray((before + i) % loop.length, ((before + i) % loop.length) + 1))[0]!;
    expect(got.equals(want)).toBe(true);
    expect(rmsOf(mulawToSamples(got)) / loopRms).toBeGreaterThan(0.9);
    expect(firstAgent).toBeGreaterThan(0); // ambience started before the greeting arrived
    // The carrier's playout never ran dry for long: gaps add up to under 10% of the call so far.
    const segs = call.playoutLog;
    let gaps = 0;
    for (let i = 1; i < segs.length; i++) gaps += Math.max(0, segs[i]!.startMs - (segs[i - 1]!.endMs ?? segs[i]!.startMs));
    expect(gaps).toBeLessThan(0.1 * call.nowMs());

    // Barge-in: clear discards agent audio and ambience alike, then ambience alone resumes.
    call.sendAudio(fixture('caller-booking-8k.wav'));
    await call.waitFor((r) => r.msg.event === 'mark' && b!.el!.seen.agentResponses.length >= 2, 20_000);
    await sleep(1200);
    call.sendAudio(fixture('caller-bargein-8k.wav'));
    const clear = await call.waitFor('clear', 10_000);
    expect(call.clears[0]!.discardedBytes).toBeGreaterThan(0);
    await sleep(400);
    const after = frames(call.received.filter((r) => r.atMs > clear.atMs));
    expect(after.length).toBeGreaterThan(5);
    expect(after.slice(0, 5).every((x) => !x.agent)).toBe(true);
    expect(call.violations).toEqual([]);
    await call.hangup();
    await b.waitIdle();
  }, 60_000);
});

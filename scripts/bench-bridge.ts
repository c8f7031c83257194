/**
 * Bridge latency benchmark: places sequential Twilio calls through the real server to each provider
 * emulator and prints (never asserts) the time from the carrier `start` to the first agent audio
 * frame sent to Twilio, the provider-ready time, and the bridge-added time per forwarded frame
 * (`callbridge_frame_forward_seconds`). Run: `npm run bench` (or `npx tsx scripts/bench-bridge.ts [calls]`).
 */
import { startBridge } from '../test/helpers/bridge';

const CALLS = Number(process.argv[2] ?? 10);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function benchProvider(provider: 'elevenlabs' | 'openai'): Promise<void> {
  const b = await startBridge({ provider, speed: 4 });
  const firstAudio: number[] = [];
  const ready: number[] = [];
  try {
    for (let i = 0; i < CALLS; i++) {
      const call = await b.call();
      await call.waitFor('media', 10_000);
      await new Promise((r) => setTimeout(r, 200));
      await call.hangup();
      const rec = await b.ended(call.callSid);
      if (rec.timings.firstAgentAudioMs !== undefined) firstAudio.push(rec.timings.firstAgentAudioMs);
      if (rec.timings.providerReadyMs !== undefined) ready.push(rec.timings.providerReadyMs);
    }
    await b.waitIdle();
    const m = await b.srv.metrics.registry.getSingleMetricAsString('callbridge_frame_forward_seconds');
    const sum = Number(/_sum (\S+)/.exec(m)?.[1] ?? NaN);
    const count = Number(/_count (\S+)/.exec(m)?.[1] ?? NaN);
    const under100us = Number(/le="0.0001"\} (\S+)/.exec(m)?.[1] ?? NaN);
    console.log(
      `${provider.padEnd(10)} calls ${CALLS}  start→first agent audio p50 ${pct(firstAudio, 50)} ms, p95 ${pct(firstAudio, 95)} ms` +
        `  | provider ready p50 ${pct(ready, 50)} ms  | frame forward mean ${((sum / count) * 1e6).toFixed(1)} µs over ${count} frames, ${((under100us / count) * 100).toFixed(1)} % ≤ 100 µs`,
    );
  } finally {
    await b.close();
  }
}

async function main(): Promise<void> {
  console.log('bridge latency (loopback emulators, audio at 4× real time):');
  await benchProvider('elevenlabs');
  await benchProvider('openai');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

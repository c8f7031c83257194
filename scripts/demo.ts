/**
 * `npm run demo [-- --provider elevenlabs|openai] [--carrier twilio|exotel] [--fast] [--speed N]`
 *
 * The main job on embedded defaults (README.md "Set-up: two commands"): starts callbridge, an emulated
 * Twilio (carrier + REST) and an emulated provider with a scripted agent, all on loopback, then places
 * a call that streams real speech: greeting, the caller's request, the agent's answer, a barge-in
 * during the next answer, and a final answer. Prints the live transcript with timings and the call
 * record, saves the agent's audio to out/demo-agent.wav, exits 0 when the call went as expected.
 * With real keys in `.env` (and no *_API_BASE / *_URL override) the provider leg is the real service.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { buildServer } from '../src/app/build-server';
import { ConfigError, loadConfig, loadDotEnv } from '../src/config';
import { createLogger } from '../src/observability/logger';
import { FIXTURES } from '../test/emulators/agent-script';
import { startElevenLabsEmulator } from '../test/emulators/elevenlabs';
import { startOpenAiEmulator } from '../test/emulators/openai-realtime';
import { TwilioCarrierEmulator } from '../test/emulators/twilio-carrier';
import { startTwilioRestMock } from '../test/emulators/twilio-rest';
import { startExotelDemo } from './lib/exotel-demo';
import { exitFlushed } from './lib/exit-flushed';
import { bookDuringCall, businessReport, storeReady } from './lib/demo-booking';
import { loadCallerWav, runSimulatedCall } from './lib/simulate-call';

const AUTH_TOKEN = 'demo-auth-token-0123456789abcdef';
const ACCOUNT_SID = 'AC' + 'd'.repeat(32);
const ADMIN_KEY = 'demo-admin-key-0123456789';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: 'elevenlabs' },
      carrier: { type: 'string', default: 'twilio' },
      fast: { type: 'boolean', default: false },
      speed: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const provider = values.provider === 'openai' ? 'openai' : values.provider === 'elevenlabs' ? 'elevenlabs' : undefined;
  if (!provider) {
    console.error(`--provider ${values.provider}: expected elevenlabs or openai`);
    return 2;
  }
  if (values.carrier !== 'twilio' && values.carrier !== 'exotel') {
    console.error(`--carrier ${values.carrier}: expected twilio or exotel`);
    return 2;
  }
  const speed = Number(values.speed ?? (values.fast ? 4 : 1));
  loadDotEnv();
  const env = process.env;
  const realEleven =
    provider === 'elevenlabs' && !!(env.ELEVENLABS_API_KEY ?? env.ELEVENLABS_CONVERSATIONAL_API_KEY) && !!env.ELEVENLABS_AGENT_ID && !env.ELEVENLABS_API_BASE;
  const realOpenAi = provider === 'openai' && !!env.OPENAI_API_KEY && !env.OPENAI_REALTIME_URL;
  const real = realEleven || realOpenAi;

  const el = provider === 'elevenlabs' && !real ? await startElevenLabsEmulator({ speed, replyAfterTool: false }) : undefined;
  const oa = provider === 'openai' && !real ? await startOpenAiEmulator({ speed }) : undefined;
  const carrier = new TwilioCarrierEmulator({ authToken: AUTH_TOKEN, accountSid: ACCOUNT_SID, speed });
  const rest = await startTwilioRestMock({ carrier, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const exotel =
    values.carrier === 'exotel'
      ? await startExotelDemo({ speed, publicUrl: 'https://demo.callbridge.test', rate: env.EXOTEL_SAMPLE_RATE ?? '8000' })
      : undefined;

  let cfg;
  try {
    cfg = loadConfig({
      ...env,
      PUBLIC_URL: 'https://demo.callbridge.test',
      ADMIN_API_KEY: ADMIN_KEY,
      CALL_TOKEN_SECRET: 'demo-call-token-secret-0123456789',
      LOG_LEVEL: values.verbose ? 'info' : 'warn',
      USE_ELEVENLABS_CONVERSATIONAL_AI: String(provider === 'elevenlabs'),
      PROVIDER_FAILOVER: 'false',
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_SKIP_SIGNATURE: 'false',
      TWILIO_API_BASE: rest.url,
      ...(el ? { ELEVENLABS_API_KEY: 'xi-test-key', ELEVENLABS_AGENT_ID: 'agent_test', ELEVENLABS_API_BASE: el.httpUrl } : {}),
      ...(oa ? { OPENAI_API_KEY: 'sk-test', OPENAI_REALTIME_URL: oa.url } : {}),
      ...exotel?.env,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) console.error(`config error: ${p}`);
      return 1;
    }
    throw err;
  }
  const srv = buildServer(cfg, createLogger(cfg.LOG_LEVEL));
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;

  const carrierLabel = exotel ? `Exotel (emulated, ${cfg.EXOTEL_SAMPLE_RATE} Hz PCM)` : 'Twilio (emulated)';
  const providerLabel = `${provider} (${real ? 'REAL service from .env' : 'emulated, scripted agent'})`;
  console.log(`callbridge demo: ${carrierLabel} ⇄ callbridge ${base} ⇄ ${providerLabel}, audio at ${speed}× real time\n`);
  const t0 = Date.now();
  const stamp = () => `${String(((Date.now() - t0) / 1000).toFixed(2)).padStart(6)} s`;

  // Live transcript: print each new turn as the server records it.
  let callSid: string | undefined;
  carrier.on('call', (c) => (callSid ??= c.callSid));
  exotel?.carrier.on('call', (c) => (callSid ??= c.call.callSid));
  // The scripted agent books through the tools once the caller has asked (a real agent decides itself).
  const callTool = el
    ? async (n: string, a: Record<string, unknown>) => el.callTool(n, a).then((r) => ({ output: r.result, isError: r.is_error }))
    : oa
      ? async (n: string, a: Record<string, unknown>) => oa.callTool(n, a).then((r) => ({ output: r.output, isError: /"error"/.test(r.output) }))
      : undefined;
  const booking = callTool
    ? bookDuringCall(
        srv,
        cfg,
        () => callSid,
        callTool,
        (l) => console.log(`${stamp()}  ·       ${l}`),
      ).catch((err: Error) => ({ ok: false, lines: [`booking failed: ${err.message}`] }))
    : undefined;
  await storeReady(srv);
  const printed = new Map<string, string>();
  const poll = setInterval(() => {
    const rec = callSid ? srv.registry.find(callSid) : undefined;
    for (const t of rec?.turns ?? []) {
      const key = `${t.role}|${t.atMs}`;
      const shown = printed.get(key);
      if (shown === `${t.interrupted}|${t.text}`) continue;
      printed.set(key, `${t.interrupted}|${t.text}`);
      const who = t.role === 'agent' ? 'AGENT ' : 'CALLER';
      console.log(`${stamp()}  ${who}  ${shown !== undefined || t.interrupted ? `(cut off, heard: "${t.text}")` : t.text}`);
    }
  }, 100);

  const result = await runSimulatedCall({
    url: base,
    publicUrl: cfg.PUBLIC_URL,
    authToken: AUTH_TOKEN,
    accountSid: ACCOUNT_SID,
    carrier,
    speed,
    audio: loadCallerWav(`${FIXTURES}/caller-booking-8k.wav`),
    bargeIn: loadCallerWav(`${FIXTURES}/caller-bargein-8k.wav`),
    bargeInDelayMs: 1500,
    quietMs: 3000,
    maxCallMs: 90_000,
    outPath: 'out/demo-agent.wav',
    ...exotel?.simOptions(base),
    log: (line) => {
      if (!line.startsWith('mark ')) console.log(`${stamp()}  ·       ${line}`);
    },
  });
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(poll);
  const rec = srv.registry.find(result.callSid);

  console.log('\n--- call record (GET /api/calls/:callSid) ---');
  if (rec) {
    console.log(`call ${rec.callSid}  ${rec.carrier} → ${rec.provider} (${rec.flagSource})  status ${rec.status}  end ${rec.endReason}`);
    console.log(
      `provider ready ${rec.timings.providerReadyMs} ms, first agent audio ${rec.timings.firstAgentAudioMs} ms after start; ` +
        `barge-ins ${rec.counters.bargeIns}; frames in ${rec.counters.framesIn}, out ${rec.counters.framesOut}`,
    );
    for (const t of rec.turns)
      console.log(
        `  ${String(t.seq).padStart(2)}. [${(t.atMs / 1000).toFixed(2).padStart(6)} s] ${t.role.padEnd(5)} ${t.interrupted ? '(interrupted) ' : ''}${t.text}`,
      );
  }
  console.log(
    `\nagent audio: ${Math.round(result.playedMs)} ms played, saved to ${result.outPath ?? '(not saved)'}; ` +
      `webhook ${Math.round(result.webhookLatencyMs)} ms; clears ${result.clears.length}; protocol violations ${result.violations.length}`,
  );

  const biz = booking ? await booking : undefined;
  const report = await businessReport(srv, result.callSid);
  console.log(`\n--- business ---\n${[...(biz?.lines ?? ['booking: left to the real agent']), ...report.lines].join('\n')}`);

  await carrier.close();
  await exotel?.close();
  await srv.close();
  await rest.close();
  await el?.close();
  await oa?.close();

  const ok =
    !!rec &&
    (!biz || (biz.ok && report.ok)) &&
    result.errors.length === 0 &&
    rec.turns.length >= 3 &&
    (real || (rec.counters.bargeIns >= 1 && result.clears.length >= 1)) &&
    result.violations.length === 0;
  console.log(ok ? '\ndemo: OK' : '\ndemo: FAILED (see above)');
  return ok ? 0 : 1;
}

main().then(exitFlushed, (err) => {
  console.error(err);
  exitFlushed(1);
});

/**
 * `npm run call -- --url <http(s) base> [--audio file.wav] [--bargein file.wav] [--to …] [--from …]
 *   [--speed 1] [--out out/agent.wav] [--public-url …] [--quiet-ms 4000] [--speak-at-once]`
 *
 * Call simulator (README.md "Trying a call without a phone"): places a signed Twilio call (or, with
 * `--carrier exotel`, an Exotel Voicebot call through `/inbound?carrier=exotel`) against a running
 * callbridge server, streams the WAV in real time, saves what the agent said to a WAV and prints
 * timings (and the transcript when ADMIN_API_KEY is set). Signs with TWILIO_AUTH_TOKEN from the
 * environment or `.env`; Exotel applet URLs get `token=` EXOTEL_WEBHOOK_TOKEN from there when it is set. The work is in ./lib/simulate-call.ts.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ExotelCarrierEmulator } from '../test/emulators/exotel-carrier';
import { exotelId, exotelPlacer } from './lib/exotel-call';
import { exitFlushed } from './lib/exit-flushed';
import { loadCallerWav, runSimulatedCall } from './lib/simulate-call';

const USAGE = `usage: npm run call -- --url <http(s) base> [--carrier twilio|exotel] [--audio caller.wav] [--bargein clip.wav]
  [--to +14155550100] [--from +14155550123] [--speed 1] [--out out/agent.wav] [--public-url https://…]
  [--quiet-ms 4000] [--max-ms 180000] [--speak-at-once] [--stream-url wss://…  (exotel: static applet URL)]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      carrier: { type: 'string', default: 'twilio' },
      audio: { type: 'string' },
      bargein: { type: 'string' },
      to: { type: 'string', default: '+14155550100' },
      from: { type: 'string', default: '+14155550123' },
      speed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'out/agent.wav' },
      'public-url': { type: 'string' },
      'quiet-ms': { type: 'string', default: '4000' },
      'max-ms': { type: 'string', default: '180000' },
      'speak-at-once': { type: 'boolean', default: false },
      'stream-url': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.carrier !== 'twilio' && values.carrier !== 'exotel') {
    console.error(`--carrier ${values.carrier}: expected twilio or exotel`);
    return 2;
  }
  if (!values.url) {
    console.error(USAGE);
    return 2;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const speed = Number(values.speed);
  if (!(speed > 0)) {
    console.error('--speed must be a positive number');
    return 2;
  }
  let authToken = process.env.TWILIO_AUTH_TOKEN ?? '';
  if (!authToken) {
    console.warn('TWILIO_AUTH_TOKEN is not set: signing with a placeholder (only a server with TWILIO_SKIP_SIGNATURE=true will accept it)');
    authToken = 'unset-auth-token';
  }
  const accountSid = /^AC[0-9a-f]{32}$/i.test(process.env.TWILIO_ACCOUNT_SID ?? '') ? process.env.TWILIO_ACCOUNT_SID : undefined;
  const audio = values.audio ? loadCallerWav(values.audio) : undefined;
  const bargeIn = values.bargein ? loadCallerWav(values.bargein) : undefined;
  if (!audio) console.log('no --audio: the caller stays silent');

  // Exotel signs nothing: the call goes through the Voicebot applet's dynamic URL (or --stream-url, a static applet URL).
  const exotel =
    values.carrier === 'exotel'
      ? new ExotelCarrierEmulator({
          speed,
          connectUrl: `${(values['public-url'] ?? values.url).replace(/\/+$/, '')}/webhooks/exotel/connect`,
          webhookToken: process.env.EXOTEL_WEBHOOK_TOKEN || undefined,
        })
      : undefined;
  const exotelOpts = exotel
    ? {
        callSid: exotelId(),
        placeCall: exotelPlacer({
          carrier: exotel,
          serverBase: values.url,
          publicUrl: values['public-url'] ?? values.url,
          streamUrl: values['stream-url'],
          from: values.from,
          to: values.to,
        }),
      }
    : {};
  const t0 = Date.now();
  const r = await runSimulatedCall({
    ...exotelOpts,
    url: values.url,
    publicUrl: values['public-url'],
    authToken,
    accountSid,
    audio,
    bargeIn,
    from: values.from,
    to: values.to,
    speed,
    outPath: values.out,
    quietMs: Number(values['quiet-ms']),
    maxCallMs: Number(values['max-ms']),
    speakAfterGreeting: !values['speak-at-once'],
    adminApiKey: process.env.ADMIN_API_KEY,
    log: (line) => console.log(`  [${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`),
  });

  const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} ms`);
  console.log(`\ncall ${r.callSid}  stream ${r.streamSid}${speed !== 1 ? `  (speed ×${speed}: times are wall clock)` : ''}`);
  console.log(`  webhook:             ${r.webhookStatus} in ${ms(r.webhookLatencyMs)}`);
  console.log(`  first agent audio:   ${ms(r.firstAgentAudioMs)} after start`);
  console.log(`  agent replies at:    ${r.replyStartsMs.map((v) => ms(v)).join(', ') || '—'}`);
  if (r.bargeInAtMs !== undefined) console.log(`  barge-in at:         ${ms(r.bargeInAtMs)}`);
  console.log(`  marks:               ${r.marks.length} (${r.marks.filter((m) => m.cleared).length} cleared)`);
  for (const m of r.marks) console.log(`    ${m.name}: sent ${ms(m.sentAtMs)}, echoed ${ms(m.echoedAtMs)}${m.cleared ? ' (cleared)' : ''}`);
  console.log(`  clears:              ${r.clears.map((c) => `${ms(c.atMs)} (dropped ${Math.round(c.discardedBytes / 8)} ms)`).join(', ') || '—'}`);
  console.log(`  agent audio played:  ${(r.playedMs / 1000).toFixed(1)} s`);
  console.log(`  ended:               by ${r.closed.by} (${r.closed.code} ${r.closed.reason}) after ${ms(r.durationMs)}`);
  for (const e of r.errors) console.log(`  ERROR ${e.code}: ${e.message}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
  if (r.violations.length) console.log(`  protocol violations: ${r.violations.map((v) => `${v.code} ${v.reason}`).join('; ')}`);
  if (r.outPath) console.log(`  agent audio saved:   ${r.outPath}`);
  if (r.transcript) {
    console.log('\ntranscript:');
    for (const t of r.transcript) console.log(`  ${String(t.seq).padStart(2)} ${t.role.padEnd(5)} ${t.interrupted ? '(interrupted) ' : ''}${t.text}`);
  } else if (r.transcriptError) console.log(`\ntranscript unavailable: ${r.transcriptError}`);
  await exotel?.close();
  return r.errors.length ? 1 : 0;
}

main().then(exitFlushed, (err) => {
  console.error(err instanceof Error ? err.message : err);
  exitFlushed(1);
});

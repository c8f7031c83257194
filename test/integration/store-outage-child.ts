/**
 * Child process of store-outage.test.ts (run with `node --import tsx`), so the test can kill a real
 * server process. Configuration comes from the environment (SUPABASE_URL, DATA_DIR, …).
 *
 * - `call`: the server plus the Twilio and ElevenLabs emulators (test/helpers/bridge.ts); places a
 *   call, prints `GREETED`, waits for `talk` on stdin, then the caller speaks twice; prints
 *   `TURNS <json>` whenever the transcript changes and `QUIET` when it has settled. Meant to be killed.
 * - `serve`: the server alone (its store replays the journal at start); prints `UP`; SIGTERM closes
 *   it (which flushes the store) and exits.
 */
import { createInterface } from 'node:readline';
import { buildServer } from '../../src/app/build-server';
import { silentLogger } from '../../src/observability/logger';
import { fixture, startBridge } from '../helpers/bridge';
import { testConfig } from '../helpers/config';

const env = {
  SUPABASE_URL: process.env.SUPABASE_URL,
  SUPABASE_SERVICE_ROLE_KEY: process.env.SUPABASE_SERVICE_ROLE_KEY,
  DATA_DIR: process.env.DATA_DIR,
  LOGS_DIR: process.env.LOGS_DIR,
  // The killed call's row stays as its process left it (this test is about its turns); completing lost
  // rows is test/integration/load-balancer.test.ts's.
  LOST_CALL_GRACE_S: '3600',
} as Record<string, string>;
const say = (line: string) => process.stdout.write(line + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(): Promise<void> {
  const b = await startBridge({ provider: 'elevenlabs', speed: 4, env });
  const c = await b.call();
  const conv = await b.el!.waitForConversation(10_000);
  await c.waitFor('media', 10_000);
  await conv.playout();
  let last = '';
  setInterval(() => {
    const turns = JSON.stringify(b.srv.registry.find(c.callSid)?.turns ?? []);
    if (turns !== last) say(`TURNS ${(last = turns)}`);
  }, 100);
  await sleep(500);
  say(`GREETED ${c.callSid}`);
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).on('line', (l) => l === 'talk' && resolve()));
  c.sendAudio(fixture('caller-booking-8k.wav'));
  await c.waitFor((r) => r.msg.event === 'media' && b.el!.seen.agentResponses.length >= 2, 30_000);
  await conv.playout();
  c.sendAudio(fixture('caller-bargein-8k.wav'));
  await c.waitFor(() => b.el!.seen.agentResponses.length >= 3, 30_000);
  await conv.playout();
  await sleep(2000); // transcripts arrive after audio; let them land and be journaled
  say('QUIET');
}

async function serve(): Promise<void> {
  const srv = buildServer(testConfig(env), silentLogger);
  await new Promise<void>((resolve) => srv.server.listen(0, '127.0.0.1', resolve));
  say('UP');
  process.once('SIGTERM', () => void srv.close().then(() => process.exit(0)));
}

(process.argv[2] === 'call' ? call() : serve()).catch((err: Error) => {
  process.stderr.write(`store-outage-child: ${err.stack ?? err.message}\n`);
  process.exit(1);
});

/**
 * `npm run tunnel`: a public https URL for a laptop, to test with a real phone.
 *
 * Opens an ngrok tunnel to PORT (default 3000) with `@ngrok/ngrok` (NGROK_AUTHTOKEN; free token at
 * https://dashboard.ngrok.com/get-started/your-authtoken), starts the server (`node --import tsx src/index.ts`)
 * with PUBLIC_URL set to the tunnel's URL, and prints the exact webhook URLs for the Twilio and Exotel
 * consoles. Ctrl-C drains the server, closes the tunnel and exits with the server's code.
 * API: `forward({addr, authtoken_from_env})`, `listener.url()`, `listener.close()`
 * (https://ngrok.github.io/ngrok-javascript/). Exits 2 with a one-line reason when the token or
 * the package is missing, 1 on a config error.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from '../src/config';

type Listener = { url(): string | null; close(): Promise<void> };
type Ngrok = { forward(cfg: { addr: number; authtoken_from_env: boolean }): Promise<Listener> };

const fail = (code: number, line: string): never => {
  process.stderr.write(`npm run tunnel: ${line}\n`);
  process.exit(code);
};

/**
 * The lines to paste into the carriers' consoles for a server reachable at `url`. With `exotelToken`
 * (EXOTEL_WEBHOOK_TOKEN) every Exotel URL carries `token=`, which the server then requires.
 */
export function webhookLines(url: string, exotelToken?: string): string {
  const u = url.replace(/\/+$/, '');
  const t = exotelToken ? `token=${encodeURIComponent(exotelToken)}` : '';
  return [
    '',
    `Public URL: ${u}  (PUBLIC_URL for this session)`,
    '',
    'Twilio console → Phone Numbers → your number → Voice configuration:',
    `  A call comes in:        Webhook  POST  ${u}/inbound`,
    `  Call status changes:    POST  ${u}/webhooks/twilio/status`,
    `  (outbound calls placed by POST /api/calls use ${u}/outbound automatically)`,
    '',
    'Exotel App Bazaar flow:',
    `  Voicebot applet URL:    ${u}/inbound?carrier=exotel${t && `&${t}`}   (outbound flows: ${u}/outbound?carrier=exotel${t && `&${t}`})`,
    `  Connect applet URL:     ${u}/webhooks/exotel/connect${t && `?${t}`}`,
    `  Status callback:        ${u}/webhooks/exotel/status${t && `?${t}`}`,
    ...(t ? [] : ['  (set EXOTEL_WEBHOOK_TOKEN first: without it anyone can reach these routes)']),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  loadDotEnv();
  let cfg;
  try {
    // PUBLIC_URL comes from the tunnel; check everything else before opening it.
    cfg = loadConfig({ ...process.env, PUBLIC_URL: process.env.PUBLIC_URL || 'https://tunnel.invalid' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`npm run tunnel: config error: ${p}\n`);
    process.exit(1);
  }
  if (!cfg.NGROK_AUTHTOKEN)
    fail(2, 'NGROK_AUTHTOKEN is not set. Get a token at https://dashboard.ngrok.com/get-started/your-authtoken and put it in .env or the environment.');
  let ngrok: Ngrok;
  try {
    ngrok = (await import('@ngrok/ngrok')) as unknown as Ngrok;
  } catch (err) {
    return fail(2, `the optional package @ngrok/ngrok is not installed (${(err as Error).message.split('\n')[0]}); run npm install.`);
  }
  let listener: Listener;
  try {
    listener = await ngrok.forward({ addr: cfg.PORT, authtoken_from_env: true });
  } catch (err) {
    return fail(2, `could not open the ngrok tunnel: ${(err as Error).message}`);
  }
  const url = listener.url();
  if (!url) return fail(2, 'ngrok opened a tunnel without a URL');
  process.stdout.write(webhookLines(url, cfg.EXOTEL_WEBHOOK_TOKEN) + '\n');

  // One node process (no tsx CLI wrapper), so Ctrl-C reaches the server's drain handler.
  const server = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../src/index.ts')], {
    cwd: join(__dirname, '..'),
    stdio: 'inherit',
    env: { ...process.env, PUBLIC_URL: url, PORT: String(cfg.PORT) },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.kill(sig));
  const code = await new Promise<number>((r) => server.once('exit', (c) => r(c ?? 1)));
  await listener.close().catch(() => undefined);
  process.exit(code);
}

void main();

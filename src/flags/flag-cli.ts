/**
 * `npm run flag -- on|off|rollout <percent>|status [--env <environment>] [--project <id>]`: moves new
 * calls between providers through the Unleash Admin API (unleash-admin.ts), or, without Unleash,
 * explains how to flip the env var on Railway (https://docs.railway.com/cli/variable,
 * https://docs.railway.com/cli/redeploy).
 *
 * - `on`            every new call to ElevenLabs (flexibleRollout 100 %, environment on)
 * - `off`           every new call to OpenAI Realtime (environment off): the fast rollback
 * - `rollout <p>`   p % of new calls to ElevenLabs, sticky on callSid
 * - `status`        the toggle as the server has it
 * Live calls never move. Instances see a change within one UNLEASH_REFRESH_INTERVAL_MS plus a fetch.
 *
 * Reads UNLEASH_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_PROJECT (default `default`), UNLEASH_ENVIRONMENT
 * (default `production`), UNLEASH_REFRESH_INTERVAL_MS (for the message only).
 * Exit codes: 0 done, 1 the Unleash API failed, 2 bad usage or nothing changed (no Unleash).
 */
import { parseArgs } from 'node:util';
import { TOGGLE_NAME } from './types';
import { UnleashAdmin, UnleashAdminError, type ToggleStatus } from './unleash-admin';

export const FLAG_USAGE = 'usage: npm run flag -- on | off | rollout <percent 0-100> | status [--env <environment>] [--project <id>]';

type Command = { kind: 'on' | 'off' | 'status' } | { kind: 'rollout'; percent: number };

/** What to check after an Admin API failure, by its category (a change may have been half applied: `status` shows it). */
const FAILURE_HINTS: Partial<Record<UnleashAdminError['category'], string>> = {
  auth: 'UNLEASH_ADMIN_TOKEN was refused: it must be an admin API token or a personal access token of this Unleash instance.',
  connectivity: 'No answer from Unleash: check UNLEASH_URL and that the server is up, then run: npm run flag -- status',
  rate_limit: 'Unleash is limiting Admin API requests: wait a minute, then run: npm run flag -- status',
  server: 'Unleash failed on its side; the change may be half applied: run npm run flag -- status',
};

/** Parse the arguments; returns the problem as a string on bad usage. */
export function parseFlagArgs(args: string[]): { cmd: Command; env?: string; project?: string } | string {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { env: { type: 'string' }, project: { type: 'string' } } });
  } catch (err) {
    return (err as Error).message;
  }
  const [verb, arg, extra] = parsed.positionals;
  const opts = { env: parsed.values.env, project: parsed.values.project };
  if ((verb === 'on' || verb === 'off' || verb === 'status') && arg === undefined) return { cmd: { kind: verb }, ...opts };
  if (verb === 'rollout' && arg !== undefined && extra === undefined) {
    const percent = Number(arg.replace(/%$/, ''));
    if (!/^\d{1,3}%?$/.test(arg) || percent > 100) return `rollout: expected a whole percent 0-100, got ${arg}`;
    return { cmd: { kind: 'rollout', percent }, ...opts };
  }
  return verb === undefined ? 'missing command' : `unknown or incomplete command: ${parsed.positionals.join(' ')}`;
}

/** What to do without Unleash: the env var on Railway. */
export function railwayHelp(cmd: Command): string {
  const value = cmd.kind === 'off' ? 'false' : 'true';
  const lines = [
    'Unleash is not configured (UNLEASH_URL and UNLEASH_ADMIN_TOKEN), so the env var decides for every call.',
    cmd.kind === 'rollout' ? `A gradual rollout (${cmd.percent} %) needs Unleash; without it the choice is all or nothing.` : '',
    cmd.kind === 'status'
      ? 'Read the current value with: railway variables --kv | grep USE_ELEVENLABS_CONVERSATIONAL_AI'
      : `To send every new call to ${value === 'true' ? 'ElevenLabs' : 'OpenAI Realtime'} on Railway:`,
    cmd.kind === 'status' ? '' : `  railway variables --set ${TOGGLE_NAME}=${value}`,
    cmd.kind === 'status' ? '' : 'Railway redeploys the service after a variable change; if it was set with --skip-deploys, run: railway redeploy --yes',
    'Calls in progress keep their provider; new calls take the new value once the new deployment is live.',
  ];
  return lines.filter(Boolean).join('\n');
}

function describe(s: ToggleStatus, refreshMs: string | undefined): string {
  if (!s.exists) return `${TOGGLE_NAME} does not exist yet: every instance uses its USE_ELEVENLABS_CONVERSATIONAL_AI env var.`;
  const share = !s.enabled
    ? 'off: every new call takes OpenAI Realtime'
    : s.rollout !== undefined
      ? `on: ${s.rollout} % of new calls to ElevenLabs (sticky on callSid)`
      : 'on (strategies below decide)';
  const strategies = s.strategies.map((x) => `  - ${x.name} ${JSON.stringify(x.parameters)}${x.constraints ? ` (${x.constraints} constraints)` : ''}`);
  const refresh = refreshMs ?? '1000';
  return [
    `${TOGGLE_NAME} in ${s.environment}: ${share}`,
    ...strategies,
    `Instances pick a change up within ~${Number(refresh) + 100} ms (UNLEASH_REFRESH_INTERVAL_MS=${refresh} + one fetch); live calls never move.`,
  ].join('\n');
}

/**
 * Run one command. `out` receives the text to print. Never throws.
 * @returns the exit code (0 done, 1 Unleash API failure, 2 usage / nothing changed).
 */
export async function runFlagCommand(args: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<number> {
  const p = parseFlagArgs(args);
  if (typeof p === 'string') {
    out(`${p}\n${FLAG_USAGE}`);
    return 2;
  }
  if (!env.UNLEASH_URL || !env.UNLEASH_ADMIN_TOKEN) {
    out(railwayHelp(p.cmd));
    return 2;
  }
  const admin = new UnleashAdmin({
    url: env.UNLEASH_URL,
    token: env.UNLEASH_ADMIN_TOKEN,
    project: p.project ?? env.UNLEASH_PROJECT ?? 'default',
    environment: p.env ?? env.UNLEASH_ENVIRONMENT ?? 'production',
  });
  try {
    if (p.cmd.kind === 'on') await admin.setRollout(100);
    else if (p.cmd.kind === 'off') await admin.setEnabled(false);
    else if (p.cmd.kind === 'rollout') await admin.setRollout(p.cmd.percent);
    out(describe(await admin.status(), env.UNLEASH_REFRESH_INTERVAL_MS));
    return 0;
  } catch (err) {
    out(`flag: ${(err as Error).message}`);
    const hint = err instanceof UnleashAdminError ? FAILURE_HINTS[err.category] : undefined;
    if (hint) out(hint);
    return 1;
  }
}

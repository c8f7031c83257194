/**
 * `npm run flag -- on|off|rollout <percent>|status`: see src/flags/flag-cli.ts. Reads `.env` when present.
 */
import { loadDotEnv } from '../src/config';
import { runFlagCommand } from '../src/flags/flag-cli';

loadDotEnv();
void runFlagCommand(process.argv.slice(2), process.env, (line) => console.log(line)).then((code) => {
  process.exitCode = code;
});

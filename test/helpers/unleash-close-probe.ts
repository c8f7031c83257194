/**
 * Run as a child process by test/unit/flags-unleash-source.test.ts: builds the Unleash FlagSource
 * against a port nobody listens on and closes it while its first fetch is still in flight. Exits 0
 * when the process survives the fetch's failure (the SDK's known crash after destroy()).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnleashFlagSource } from '../../src/flags/unleash-source';
import { silentLogger } from '../../src/observability/logger';

const source = new UnleashFlagSource({
  url: 'http://127.0.0.1:9/api/',
  token: 'default:development.none',
  appName: 'close-probe',
  refreshIntervalMs: 1000,
  backupDir: mkdtempSync(join(tmpdir(), 'cb-probe-')),
  log: silentLogger,
});
setTimeout(() => {
  void source
    .close()
    .then(() =>
      process.stdout.write(`closed; evaluate after close → ${String(source.evaluate({ callSid: 'CA1', carrier: 'twilio', direction: 'inbound' }))}\n`),
    );
}, 20);
process.on('exit', (code) => process.stdout.write(`exit ${code}\n`));

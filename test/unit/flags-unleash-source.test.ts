/**
 * The Unleash FlagSource's shutdown: closing it while the SDK's first fetch is in flight must not end
 * the process (unleash-client 6.12.1 strips its repository's listeners in destroy(); the failed
 * fetch then emits `error` with no listener). Run in a child process so a crash is an exit code.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('Unleash FlagSource shutdown', () => {
  it('survives close() during the first fetch to an unreachable server, and answers "no opinion" afterwards', () => {
    const root = join(__dirname, '..', '..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test', 'helpers', 'unleash-close-probe.ts')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).not.toMatch(/ECONNREFUSED|Unhandled/);
    expect(r.stdout).toContain('closed; evaluate after close → undefined');
    expect(r.stdout).toContain('exit 0');
    expect(r.status).toBe(0);
  }, 90_000);
});

/**
 * A real HAProxy (Debian's `haproxy` package) in front of several server instances, for the
 * scale-out tests: HTTP and WebSocket round-robin, a `/ready` health check every 500 ms (an instance
 * that fails two in a row, 503 or no answer within 2 s, is out; one success brings it back), and an
 * admin socket to read the servers' state. Config keywords: https://docs.haproxy.org/2.6/configuration.html
 * (`balance roundrobin`, `option httpchk`, `http-check expect`, `timeout tunnel` for WebSockets,
 * `option http-server-close` so each request is balanced on its own, `option forwardfor`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Need } from './needs';

/** True when an `haproxy` binary is on PATH. */
export function haproxyAvailable(): boolean {
  return spawnSync('haproxy', ['-v'], { timeout: 5000 }).status === 0;
}

/** HAProxy as a suite's need (./needs.ts); `.ci/run` installs it with apt-get. */
export const HAPROXY: Need = { what: 'HAProxy', missing: () => (haproxyAvailable() ? undefined : 'haproxy is not installed (apt-get install -y haproxy)') };

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export interface Haproxy {
  /** `http://127.0.0.1:<port>`: where carriers and the admin client send everything. */
  base: string;
  /** `show servers state`-style answer of the admin socket: server name → `UP` / `DOWN` / `MAINT`. */
  states(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Ask the admin socket `cmd` (https://docs.haproxy.org/2.6/management.html#9.3). */
function adminCommand(socketPath: string, cmd: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const c = connect(socketPath, () => c.end(`${cmd}\n`));
    c.on('data', (d: Buffer) => (text += d.toString()));
    c.on('close', () => resolve(text));
    c.on('error', () => resolve(text));
  });
}

/**
 * Start HAProxy round-robining over `backends` (ports on 127.0.0.1, named s1, s2, …).
 * @throws when it does not answer on its port within 10 s.
 */
export async function startHaproxy(backends: number[]): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-haproxy-'));
  const port = await freePort();
  const sock = join(dir, 'admin.sock');
  const cfg = [
    'global',
    `  stats socket ${sock} mode 600 level admin`,
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    '  option http-server-close',
    '  option forwardfor',
    '  retries 2',
    '  option redispatch',
    'frontend calls',
    `  bind 127.0.0.1:${port}`,
    '  default_backend callbridge',
    'backend callbridge',
    '  balance roundrobin',
    '  option httpchk GET /ready',
    '  http-check expect status 200',
    '  timeout check 2s',
    '  default-server inter 500 fall 2 rise 1',
    ...backends.map((p, i) => `  server s${i + 1} 127.0.0.1:${p} check`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, cfg);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${base}/health`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async states() {
      const text = await adminCommand(sock, 'show stat');
      const out: Record<string, string> = {};
      for (const line of text.split('\n')) {
        const f = line.split(',');
        if (f[0] === 'callbridge' && f[1] && f[1] !== 'BACKEND') out[f[1]] = f[17] ?? '';
      }
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Loopback HTTP stubs for failure tests: a server whose answers a test sets, one that never answers
 * (for timeouts), and the URL of a port nobody listens on (for "connection refused").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly url: string;
  /** Requests seen, in order. */
  readonly seen: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Start a stub. `handle` answers each request; when it is omitted the stub reads the request and
 * never answers, so the client's timeout is what ends it.
 */
export async function startStubServer(handle?: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> {
  const seen: StubServer['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    if (handle) req.on('end', () => handle(req, res));
  });
  const url = await listen(server);
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A loopback URL whose port was just closed: requests to it are refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return url;
}

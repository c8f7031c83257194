/**
 * Admin API requests over real HTTP (Bearer ADMIN_API_KEY) and polling, shared by the operations tests.
 */
import { TEST_ADMIN_KEY } from './config';

/** A JSON object as the admin API answers it; narrow its fields where a test reads them. */
export type JsonObject = Record<string, unknown>;

export interface JsonAnswer<T = JsonObject> {
  status: number;
  body: T;
}

/** `method path` on `base` with the admin key (or `key`, or none when null) and an optional JSON body. */
export async function adminRequest<T = JsonObject>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = TEST_ADMIN_KEY,
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T };
}

/** Poll `fn` every 50 ms until it returns a value other than undefined. @throws after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

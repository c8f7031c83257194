/**
 * A PostgREST-compatible test server over a real PostgreSQL (through `pg`), answering exactly the
 * requests supabase-js 2.109.0 sends for callbridge's store (docs/protocols/postgrest.md#requests-supabase-js-sends):
 *
 * | supabase-js | request | answer |
 * |---|---|---|
 * | `select(...).eq().lt().order().limit()` | `GET /rest/v1/<t>?select=&<col>=<op>.<v>&order=&limit=` | 200 JSON array, `Content-Range: 0-N/*` |
 * | `select(..., { head: true })` | `HEAD` (same query; `Prefer: count=exact` counts) | 200 no body, `Content-Range` |
 * | `insert(row)` / `upsert(rows, { onConflict })` | `POST /rest/v1/<t>?columns=&on_conflict=`, `Prefer` ¹ | 201, body only with `return=representation` |
 * | `.select('id').single()` | `Accept: application/vnd.pgrst.object+json` | one object, else 406 PGRST116 |
 * | `update(patch).eq()` | `PATCH /rest/v1/<t>?<filters>` | 204 (200 with representation) |
 * | `rpc(fn, args)` | `POST /rest/v1/rpc/<fn>` | 200 JSON |
 *
 * ¹ `Prefer: resolution=merge-duplicates` (upsert) or `resolution=ignore-duplicates` (`ignoreDuplicates: true`), and `return=…`.
 *
 * Errors are PostgREST's `{ code, details, hint, message }` with its SQLSTATE → HTTP mapping
 * (errors.ts). Every request must carry `apikey` and `Authorization: Bearer` equal to the service
 * key; only the `public` schema is exposed. `stop()` closes the port (clients get ECONNREFUSED, as
 * with a PostgREST outage) and `start()` opens it again on the same port.
 * Sources: https://docs.postgrest.org/en/latest/references/api/tables_views.html,
 * https://docs.postgrest.org/en/latest/references/api/preferences.html.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { fromPg, pgrst, type PgrstError } from './errors';
import { ident, parsePrefer, parseQuery, QueryError } from './query';

export interface PostgrestServer {
  /** Base URL to give supabase-js (`/rest/v1` is appended by the client). */
  url: string;
  port: number;
  /** Requests answered so far. */
  requests: number;
  /** Close the port (in-flight requests are cut); the database stays up. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  /** Stop and end the database pool. */
  close(): Promise<void>;
}

export interface PostgrestOptions {
  databaseUrl: string;
  /** Key every request must carry in `apikey` and `Authorization: Bearer`. */
  serviceKey: string;
  port?: number;
}

const OBJECT = 'application/vnd.pgrst.object+json';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * Start the server on 127.0.0.1 (`port` 0 = any free port) over the database at `databaseUrl`.
 * @throws when the port cannot be bound. Database errors become PostgREST answers, never throws.
 */
export async function startPostgrest(opts: PostgrestOptions): Promise<PostgrestServer> {
  const pool = new Pool({ connectionString: opts.databaseUrl, max: 8 });
  pool.on('error', () => undefined); // idle client errors: the next query reports them
  const columnsCache = new Map<string, { cols: Set<string>; pk: string[] }>();

  async function tableInfo(table: string) {
    let info = columnsCache.get(table);
    if (!info) {
      const cols = await pool.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1`,
        [table],
      );
      if (!cols.rows.length) throw new QueryError(pgrst(404, 'PGRST205', `Could not find the table 'public.${table}' in the schema cache`));
      const pk = await pool.query<{ attname: string }>(
        'select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) ' +
          'where i.indrelid = $1::regclass and i.indisprimary',
        [`public.${ident(table)}`],
      );
      info = { cols: new Set(cols.rows.map((r) => r.column_name)), pk: pk.rows.map((r) => r.attname) };
      columnsCache.set(table, info);
    }
    return info;
  }

  /** Rows as PostgreSQL's own JSON (what PostgREST sends): `coalesce(json_agg(t), '[]')`. */
  async function rows(sql: string, params: unknown[]): Promise<unknown[]> {
    const r = await pool.query<{ body: unknown[] }>(`select coalesce(json_agg(pgrst_t), '[]'::json) as body from (${sql}) pgrst_t`, params);
    return r.rows[0]!.body;
  }

  /** Rows returned by a data-modifying statement, which PostgreSQL allows only in a top-level WITH. */
  async function written(modify: string, params: unknown[]): Promise<unknown[]> {
    const r = await pool.query<{ body: unknown[] }>(
      `with pgrst_source as (${modify}) select coalesce(json_agg(pgrst_source), '[]'::json) as body from pgrst_source`,
      params,
    );
    return r.rows[0]!.body;
  }

  function shape(found: unknown[], single: boolean, status: number, headers: Record<string, string>, withBody: boolean): Reply {
    if (single && found.length !== 1) {
      throw new QueryError(pgrst(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${found.length} rows`));
    }
    return new Reply(status, withBody ? (single ? found[0] : found) : undefined, headers);
  }

  async function select(table: string, url: URL, single: boolean, prefer: Record<string, string>, head: boolean): Promise<Reply> {
    await tableInfo(table);
    const q = parseQuery(url.searchParams);
    const found = await rows(`select ${q.select} from public.${ident(table)}${q.where}${q.order}${q.limit}`, q.params);
    let total = '*';
    if (prefer.count === 'exact') {
      total = String((await pool.query<{ n: string }>(`select count(*) as n from public.${ident(table)}${q.where}`, q.params)).rows[0]!.n);
    }
    const from = Number(url.searchParams.get('offset') ?? 0);
    const range = found.length ? `${from}-${from + found.length - 1}/${total}` : `*/${total}`;
    return shape(found, single, 200, { 'Content-Range': range }, !head);
  }

  async function insert(table: string, url: URL, body: unknown, single: boolean, prefer: Record<string, string>): Promise<Reply> {
    const info = await tableInfo(table);
    const list = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
    if (list.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) throw new QueryError(pgrst(400, 'PGRST102', 'All object keys must match'));
    const q = parseQuery(url.searchParams, 1);
    const cols = q.columns ?? [...new Set(list.flatMap((r) => Object.keys(r)))];
    for (const c of cols) {
      if (!NAME.test(c) || !info.cols.has(c))
        throw new QueryError(pgrst(400, 'PGRST204', `Could not find the '${c}' column of '${table}' in the schema cache`));
    }
    const colSql = cols.map(ident).join(', ');
    let conflict = '';
    if (prefer.resolution) {
      const keys = q.onConflict ?? info.pk;
      const upd = cols.filter((c) => !keys.includes(c));
      const action =
        prefer.resolution === 'ignore-duplicates'
          ? 'do nothing'
          : `do update set ${(upd.length ? upd : keys).map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}`;
      conflict = ` on conflict (${keys.map(ident).join(', ')}) ${action}`;
    }
    const rows = `json_populate_recordset(null::public.${ident(table)}, $1::json)`;
    const sql = `insert into public.${ident(table)} (${colSql}) select ${colSql} from ${rows}${conflict} returning ${q.select}`;
    const found = await written(sql, [JSON.stringify(list)]);
    return shape(found, single && prefer.return === 'representation', 201, { 'Content-Range': '*/*' }, prefer.return === 'representation');
  }

  async function update(table: string, url: URL, body: unknown, single: boolean, prefer: Record<string, string>): Promise<Reply> {
    const info = await tableInfo(table);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new QueryError(pgrst(400, 'PGRST102', 'Empty or invalid json'));
    const cols = Object.keys(body);
    for (const c of cols)
      if (!info.cols.has(c)) throw new QueryError(pgrst(400, 'PGRST204', `Could not find the '${c}' column of '${table}' in the schema cache`));
    const q = parseQuery(url.searchParams, 1);
    const list = cols.map(ident).join(', ');
    const row = `json_populate_record(null::public.${ident(table)}, $1::json)`;
    const sql = `update public.${ident(table)} set (${list}) = (select ${list} from ${row})${q.where} returning ${q.select}`;
    const found = await written(sql, [JSON.stringify(body), ...q.params]);
    const repr = prefer.return === 'representation';
    return shape(found, single && repr, repr ? 200 : 204, { 'Content-Range': found.length ? `0-${found.length - 1}/*` : '*/*' }, repr);
  }

  async function rpc(fn: string, body: unknown): Promise<Reply> {
    const proc = await pool.query<{ proretset: boolean }>(`select proretset from pg_proc where proname = $1 and pronamespace = 'public'::regnamespace`, [fn]);
    const args = (body ?? {}) as Record<string, unknown>;
    if (!proc.rows.length)
      throw new QueryError(pgrst(404, 'PGRST202', `Could not find the function public.${fn}(${Object.keys(args).join(', ')}) in the schema cache`));
    const names = Object.keys(args);
    for (const n of names) if (!NAME.test(n)) throw new QueryError(pgrst(400, 'PGRST100', `bad argument name ${n}`));
    const call = `public.${ident(fn)}(${names.map((n, i) => `${ident(n)} => $${i + 1}`).join(', ')})`;
    const params = names.map((n) => (args[n] !== null && typeof args[n] === 'object' ? JSON.stringify(args[n]) : args[n]));
    if (proc.rows[0]!.proretset) return new Reply(200, await rows(`select * from ${call}`, params));
    const r = await pool.query<{ body: unknown }>(`select to_json(${call}) as body`, params);
    return new Reply(200, r.rows[0]!.body);
  }

  async function route(req: IncomingMessage, raw: string): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://postgrest.local');
    const m = /^\/rest\/v1\/(rpc\/)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(url.pathname);
    if (!m) throw new QueryError(pgrst(404, 'PGRST125', 'Invalid path specified in request URL'));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.headers.apikey !== opts.serviceKey || bearer !== opts.serviceKey) throw new QueryError(pgrst(401, 'PGRST301', 'No suitable key or wrong key type'));
    const profile = (req.headers['accept-profile'] ?? req.headers['content-profile'] ?? 'public') as string;
    if (profile !== 'public')
      throw new QueryError(pgrst(406, 'PGRST106', `Invalid schema: ${profile}`, null, 'Only the following schemas are exposed: public'));
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        throw new QueryError(pgrst(400, 'PGRST102', 'Empty or invalid json'));
      }
    }
    const single = (req.headers.accept ?? '').includes(OBJECT);
    const prefer = parsePrefer(req.headers.prefer as string | undefined);
    const [isRpc, name] = [Boolean(m[1]), m[2]!];
    if (isRpc && req.method === 'POST') return rpc(name, body);
    if (!isRpc && (req.method === 'GET' || req.method === 'HEAD')) return select(name, url, single, prefer, req.method === 'HEAD');
    if (!isRpc && req.method === 'POST') return insert(name, url, body, single, prefer);
    if (!isRpc && req.method === 'PATCH') return update(name, url, body, single, prefer);
    throw new QueryError(pgrst(405, 'PGRST117', `Unsupported HTTP method: ${req.method}`));
  }

  const state = { requests: 0 };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      state.requests++;
      route(req, raw)
        .catch((err: unknown): Reply => {
          const e: PgrstError = err instanceof QueryError ? err.answer : fromPg(err);
          return new Reply(e.status, e.body);
        })
        .then((r) => {
          const json = r.body === undefined ? '' : JSON.stringify(r.body);
          const single = (req.headers.accept ?? '').includes(OBJECT) && r.status < 300;
          res.writeHead(r.status, { ...r.headers, ...(json ? { 'Content-Type': `${single ? OBJECT : 'application/json'}; charset=utf-8` } : {}) });
          res.end(req.method === 'HEAD' ? undefined : json);
        });
    });
  };

  let server: Server | undefined;
  let port = opts.port ?? 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(handler);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get requests() {
      return state.requests;
    },
    start,
    stop,
    async close() {
      await stop();
      await pool.end();
    },
  };
}

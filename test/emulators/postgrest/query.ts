/**
 * The query-string grammar of the PostgREST requests supabase-js sends for callbridge's store:
 * `select=a,b` (or `*`), horizontal filters `col=op.value` (eq, neq, gt, gte, lt, lte, is, in),
 * `order=a.asc,b.desc[.nullsfirst|.nullslast]`, `limit`, `offset`, `on_conflict=a,b`,
 * `columns="a","b"` (https://docs.postgrest.org/en/latest/references/api/tables_views.html).
 * Anything else is refused with PostgREST's PGRST100 parse error.
 */
import { pgrst, type PgrstError } from './errors';

export const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);
const OPS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class QueryError extends Error {
  constructor(readonly answer: PgrstError) {
    super(answer.body.message);
  }
}

const bad = (message: string, details: string | null = null) => new QueryError(pgrst(400, 'PGRST100', message, details));

function name(s: string, where: string): string {
  if (!NAME.test(s)) throw bad(`"failed to parse ${where} (${s})"`, `unexpected "${s}"`);
  return ident(s);
}

export interface ParsedQuery {
  select: string;
  where: string;
  params: unknown[];
  order: string;
  limit: string;
  onConflict?: string[];
  columns?: string[];
}

/** Parse `search` into SQL fragments; values become `$n` parameters starting after `firstParam`. */
export function parseQuery(search: URLSearchParams, firstParam = 0): ParsedQuery {
  const params: unknown[] = [];
  const conds: string[] = [];
  for (const [key, raw] of search) {
    if (RESERVED.has(key)) continue;
    const col = name(key, 'filter');
    const dot = raw.indexOf('.');
    const op = dot > 0 ? raw.slice(0, dot) : '';
    const val = raw.slice(dot + 1);
    if (OPS[op]) {
      params.push(val);
      conds.push(`${col} ${OPS[op]} $${firstParam + params.length}`);
    } else if (op === 'is' && /^(null|true|false)$/i.test(val)) {
      conds.push(`${col} is ${val.toLowerCase()}`);
    } else if (op === 'in' && /^\(.*\)$/.test(val)) {
      params.push(
        val
          .slice(1, -1)
          .split(',')
          .map((v) => v.replace(/^"(.*)"$/, '$1')),
      );
      conds.push(`${col}::text = any($${firstParam + params.length}::text[])`);
    } else throw bad(`"failed to parse filter (${raw})" (line 1, column 1)`, `unexpected "${raw}"`);
  }
  const sel = search.get('select') ?? '*';
  const select =
    sel === '*'
      ? '*'
      : sel
          .split(',')
          .map((c) => name(c.trim(), 'select'))
          .join(', ');
  const order = (search.get('order') ?? '')
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const [c, ...mods] = term.split('.');
      const dir = mods.find((m) => m === 'asc' || m === 'desc') ?? 'asc';
      const nulls = mods.find((m) => m === 'nullsfirst' || m === 'nullslast');
      return `${name(c!, 'order')} ${dir}${nulls ? (nulls === 'nullsfirst' ? ' nulls first' : ' nulls last') : ''}`;
    })
    .join(', ');
  const lim = search.get('limit');
  const off = search.get('offset');
  if ((lim && !/^\d+$/.test(lim)) || (off && !/^\d+$/.test(off))) throw bad('"failed to parse limit/offset"');
  const onConflict = search
    .get('on_conflict')
    ?.split(',')
    .map((c) => c.trim());
  onConflict?.forEach((c) => name(c, 'on_conflict'));
  const columns = search
    .get('columns')
    ?.split(',')
    .map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  columns?.forEach((c) => name(c, 'columns'));
  return {
    select,
    where: conds.length ? ` where ${conds.join(' and ')}` : '',
    params,
    order: order ? ` order by ${order}` : '',
    limit: `${lim ? ` limit ${lim}` : ''}${off ? ` offset ${off}` : ''}`,
    onConflict,
    columns,
  };
}

/** `Prefer` header as a map (`return=representation, resolution=merge-duplicates`). */
export function parsePrefer(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const [k, v] = part.trim().split('=');
    if (k) out[k] = v ?? '';
  }
  return out;
}

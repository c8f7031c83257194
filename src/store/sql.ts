/**
 * SQL shared by the pg-speaking paths (embedded PGlite store): bulk upsert from a JSON array with
 * `json_populate_recordset`, which is how PostgREST itself turns a JSON body into rows
 * (https://docs.postgrest.org/en/latest/references/api/tables_views.html#bulk-insert).
 */
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * `insert into <table> (<cols>) select <cols> from json_populate_recordset(null::<table>, $1::json)
 * on conflict (<key>) do update set <col> = excluded.<col>` (or `do nothing` when `update` is empty).
 * Parameter $1 is the JSON text of the rows array.
 */
export function upsertSql(
  table: string,
  cols: readonly string[],
  key: readonly string[],
  update: readonly string[] = cols.filter((c) => !key.includes(c)),
): string {
  const list = cols.map(ident).join(', ');
  const action = update.length ? `do update set ${update.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}` : 'do nothing';
  const rows = `select ${list} from json_populate_recordset(null::${ident(table)}, $1::json)`;
  return `insert into ${ident(table)} (${list}) ${rows} on conflict (${key.map(ident).join(', ')}) ${action}`;
}

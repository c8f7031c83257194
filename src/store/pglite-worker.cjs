/**
 * Worker thread hosting PGlite for the embedded store (embedded-store.ts). PGlite runs PostgreSQL
 * compiled to WebAssembly on the thread that calls it: in a worker, a slow query never stalls the
 * call sessions' audio on the main thread. It also loads its own files with dynamic import(),
 * which jest's module sandbox refuses; a worker thread is plain Node. Plain CommonJS so it runs
 * without a TypeScript loader.
 *
 * workerData: { dataDir, template? }. Messages in: { id, op: 'query' | 'exec' | 'write' | 'dump' | 'close',
 * sql? (the target file for dump), params? }; 'write' is a query whose rows are not wanted, run as a named
 * prepared statement (see `write`), with string or null params only. Messages are handled one at a time, in order.
 * Messages out: { id, rows } or { id, error: { message, code } } (code = SQLSTATE when PostgreSQL
 * reported one).
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite, protocol } = require('@electric-sql/pglite');

const fs = require('node:fs');
const path = require('node:path');

/**
 * PostgreSQL settings on top of PGlite's own start parameters (`PGlite.defaultStartParams`, passed as
 * `postgres -c name=value`, https://www.postgresql.org/docs/current/app-postgres.html). initdb writes
 * `shared_buffers = 128MB`, all of it in PGlite's WebAssembly memory, which never shrinks: ~120 MiB of RSS
 * for a cache the call store (small rows, written more than read) does not need. 16 MB holds its hot
 * pages; writes and reads measured no slower. Given on the command line, so postgresql.conf stays as initdb
 * wrote it.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * A new directory starts from the template (a dump of a freshly migrated database, see
 * embedded-store.ts) when one exists: loading it takes a fraction of PostgreSQL's initdb.
 */
function open() {
  const fresh = !fs.existsSync(path.join(workerData.dataDir, 'PG_VERSION'));
  if (fresh && workerData.template && fs.existsSync(workerData.template)) {
    return PGlite.create({ dataDir: workerData.dataDir, startParams: START_PARAMS, loadDataDir: new Blob([fs.readFileSync(workerData.template)]) });
  }
  return PGlite.create({ dataDir: workerData.dataDir, startParams: START_PARAMS });
}
const ready = open();

/** Write the database as a tar file to `file` (temp file + rename, so readers never see half). */
async function dump(db, file) {
  const blob = await db.dumpDataDir('none');
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
  fs.renameSync(tmp, file);
}

/** Statement names by SQL text, for `write`: parsed once per database session. */
const prepared = new Map();

/**
 * Run `sql` (a write; result rows are dropped) as a named prepared statement over PGlite's wire-protocol API
 * (`execProtocol` with the `protocol.serialize` messages, https://pglite.dev/docs/api): Parse once,
 * then Bind + Execute + Sync per call, as a PostgreSQL client library does with prepared statements
 * (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY). `db.query` parses and plans
 * every call: for the bulk upserts that is ~2 of its ~3 ms of CPU. An error (a DatabaseError with its SQLSTATE as
 * `code`) is thrown after the Sync, so the session is ready for the next message.
 * @param params strings or null, sent as text.
 */
async function write(db, sql, params) {
  const { serialize } = protocol;
  const raw = { syncToFs: false };
  try {
    let name = prepared.get(sql);
    if (!name) {
      name = `cb_write_${prepared.size + 1}`;
      await db.execProtocol(serialize.parse({ name, text: sql }), raw);
      prepared.set(sql, name);
    }
    await db.execProtocol(serialize.bind({ statement: name, values: params }), raw);
    await db.execProtocol(serialize.execute({}), raw);
  } finally {
    await db.execProtocol(serialize.sync(), raw);
  }
  await db.syncToFs();
}

async function handle(msg) {
  try {
    const db = await ready;
    if (msg.op === 'dump') {
      await dump(db, msg.sql);
      parentPort.postMessage({ id: msg.id, rows: [] });
      return;
    }
    if (msg.op === 'close') {
      await db.close();
      parentPort.postMessage({ id: msg.id, rows: [] });
      return;
    }
    if (msg.op === 'write') {
      await write(db, msg.sql, msg.params || []);
      parentPort.postMessage({ id: msg.id, rows: [] });
      return;
    }
    const res = msg.op === 'exec' ? await db.exec(msg.sql) : await db.query(msg.sql, msg.params || []);
    parentPort.postMessage({ id: msg.id, rows: msg.op === 'exec' ? [] : res.rows });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: { message: err && err.message ? err.message : String(err), code: err && err.code } });
  }
}

// One message at a time: `write` is several protocol messages, which must not interleave with another query's.
let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(() => handle(msg));
});

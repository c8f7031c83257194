/**
 * Worker thread hosting PGlite for the embedded store (embedded-store.ts). PGlite runs PostgreSQL
 * compiled to WebAssembly on the thread that calls it: in a worker, a slow query never stalls the
 * call sessions' audio on the main thread. It also loads its own files with dynamic import(),
 * which jest's module sandbox refuses; a worker thread is plain Node. Plain CommonJS so it runs
 * without a TypeScript loader.
 *
 * workerData: { dataDir }. Messages in: { id, op: 'query' | 'exec' | 'close', sql?, params? }.
 * Messages out: { id, rows } or { id, error: { message, code } } (code = SQLSTATE when PostgreSQL
 * reported one).
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');

const ready = PGlite.create({ dataDir: workerData.dataDir });

parentPort.on('message', async (msg) => {
  try {
    const db = await ready;
    if (msg.op === 'close') {
      await db.close();
      parentPort.postMessage({ id: msg.id, rows: [] });
      return;
    }
    const res = msg.op === 'exec' ? await db.exec(msg.sql) : await db.query(msg.sql, msg.params || []);
    parentPort.postMessage({ id: msg.id, rows: msg.op === 'exec' ? [] : res.rows });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: { message: err && err.message ? err.message : String(err), code: err && err.code } });
  }
});

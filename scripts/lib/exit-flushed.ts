/**
 * End a CLI with `code` once stdout and stderr have handed everything to the OS. `process.exit()`
 * does not wait for writes still queued on a stream (https://nodejs.org/api/process.html#processexitcode),
 * and when stdout is a pipe or socket its reader has not drained (`npm run call | tee call.log`, a CI
 * runner, a test reading the output) the queue can be long: a call's mark log is over 64 KiB, and
 * 5,000 lines printed before `process.exit(0)` arrived as about 80 KB of 254 KB on Node 20.
 * An empty write's callback runs after every write queued before it.
 */
export function exitFlushed(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/**
 * Suites that need a real service on this machine (PostgreSQL, Redis, HAProxy). When one is missing,
 * the suite is skipped with the reason on one line of stderr; under CI=true it fails instead (a CI run
 * must not pass without them: `.ci/run` installs HAProxy, the machine runs PostgreSQL and Redis).
 */

/** A service a suite needs: `missing()` is undefined when it is there, else why not (one line). */
export interface Need {
  what: string;
  missing(): string | undefined;
}

/** `describe(name, fn)` when every need is met; else skipped with the reasons, or failing under CI=true. */
export function describeNeeding(needs: Need[], name: string, fn: () => void): void {
  const absent = needs.flatMap((n) => {
    const why = n.missing();
    return why ? [{ what: n.what, why }] : [];
  });
  if (absent.length && process.env.CI === 'true') {
    describe(name, () =>
      it(`needs ${absent.map((a) => a.what).join(' and ')}`, () => {
        throw new Error(`${absent.map((a) => a.why).join('; ')} (CI=true: required)`);
      }),
    );
    return;
  }
  if (absent.length) process.stderr.write(`skipping "${name}": ${absent.map((a) => a.why).join('; ')}\n`);
  // Skipped only when a need above is missing, with the reason just written.
  (absent.length ? describe.skip : describe)(name, fn);
}

/**
 * jest 29 + ts-jest in transpile-only mode (isolatedModules): fast, and `npm test` type-checks with
 * `tsc --noEmit` first. jest 30 and @swc/jest are avoided: their platform-specific optional
 * binaries (unrs-resolver, @swc/core-*) are not all on the registry mirror, so `npm ci` rejects the
 * lockfile.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        isolatedModules: true,
        tsconfig: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', esModuleInterop: true, target: 'es2022' },
      },
    ],
  },
  testTimeout: 30000,
};

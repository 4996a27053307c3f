/** @type {import('jest').Config} */
module.exports = {
  displayName: 'embedded-mongo',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Transpile only; types are checked by the root `npm run typecheck`.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  // Also when run as a project of the root config, which ignores a project's testTimeout.
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
};

/**
 * `npm test` runs every package's tests: the API's own and the embedded server's conformance
 * suite (packages/embedded-mongo/jest.config.js).
 * @type {import('jest').Config}
 */
module.exports = {
  // A global option (projects ignore their own): the suites start servers and hash passwords.
  testTimeout: 30000,
  projects: [
    {
      displayName: 'api',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // Transpile only (types are checked by `npm run typecheck`); decorator metadata is emitted
      // from tsconfig.json, which type-graphql needs.
      transform: { '^.+\\.ts$': 'ts-jest' },
      // The embedded server from its TypeScript source, so tests need no build step.
      moduleNameMapper: {
        '^@graphql-auth-api/embedded-mongo$': '<rootDir>/packages/embedded-mongo/src/index.ts',
      },
      setupFiles: ['reflect-metadata'],
    },
    '<rootDir>/packages/embedded-mongo',
  ],
};

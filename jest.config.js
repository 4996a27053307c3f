/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpile only (types are checked by `npm run typecheck`); decorator metadata is emitted
    // from tsconfig.json, which type-graphql needs.
    '^.+\\.ts$': 'ts-jest',
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 30000,
};

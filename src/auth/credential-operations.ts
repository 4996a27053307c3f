/**
 * Mutations that check a password or mint tokens. A request may hold at most one of them
 * (graphql/limits.ts): aliases (`a: login … b: login …`) must not turn one request into many
 * guesses or many sessions. A test fails when a mutation that takes a password or returns
 * `AuthPayload` is missing here.
 */
export const CREDENTIAL_OPERATIONS: ReadonlySet<string> = new Set([
  'login',
  'register',
  'refreshToken',
  'changePassword',
  'signUp',
  'resetPassword',
  'changeEmail',
]);

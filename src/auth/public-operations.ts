import { Kind, type OperationDefinitionNode } from 'graphql';

/**
 * Mutations anyone may call, signed in or not. An operation made only of these does not look
 * at the Authorization header at all (contract, second version): a client whose access token
 * has expired must still be able to refresh, log out or sign in again, and a token presented
 * there must not grant anything either. Some of these are added by other features; a name
 * that is not in the schema simply never matches.
 */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  'register',
  'signUp',
  'login',
  'refreshToken',
  'logout',
  'requestPasswordReset',
  'resetPassword',
  'verifyEmail',
]);

/**
 * True when every root field of the operation is public. Only plain root fields count: a
 * fragment at the root is treated as not public, so the header is then checked as usual.
 * Queries and subscriptions are never public (every public field is a mutation), which keeps
 * this a single comparison for the requests that carry a token.
 */
export function isPublicOperation(operation: OperationDefinitionNode | undefined): boolean {
  if (operation?.operation !== 'mutation') return false;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return false;
    const name = selection.name.value;
    if (name !== '__typename' && !PUBLIC_OPERATIONS.has(name)) return false;
  }
  return true;
}

// The code between the README markers is quoted verbatim in README.md ("Clients"); the test in
// test/clients/readme-snippets.test.ts fails when the two drift apart.
// README: apollo
import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  ServerError,
} from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { relayStylePagination } from '@apollo/client/utilities';
import { from, switchMap } from 'rxjs';

/** Where the app keeps its tokens (memory; the refresh token may go to localStorage). */
export interface TokenStore {
  accessToken?: string;
  refreshToken?: string;
}

const REFRESH = `mutation Refresh($token: String) {
  refreshToken(refreshToken: $token) { accessToken refreshToken }
}`;

export function createApolloClient(uri: string, tokens: TokenStore, onSignedOut = () => {}) {
  // Single flight: operations that fail together wait for one refresh.
  let refreshing: Promise<void> | undefined;
  const refresh = () =>
    (refreshing ??= (async () => {
      const response = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: REFRESH, variables: { token: tokens.refreshToken } }),
      });
      const { data } = (await response.json()) as { data?: { refreshToken?: TokenStore } };
      if (!data?.refreshToken) {
        tokens.accessToken = tokens.refreshToken = undefined;
        onSignedOut();
        throw new Error('Session ended: sign in again');
      }
      Object.assign(tokens, data.refreshToken);
    })().finally(() => (refreshing = undefined)));

  // The usual setup: the access token on every operation. Public ones (login, refreshToken,
  // logout …) ignore it, so a stale token there does no harm.
  const authLink = new SetContextLink(({ headers }) => ({
    headers: tokens.accessToken
      ? { ...headers, authorization: `Bearer ${tokens.accessToken}` }
      : headers,
  }));

  // An expired token refuses the whole request (401, reason TOKEN_EXPIRED): refresh once, retry.
  const refreshLink = new ErrorLink(({ error, operation, forward }) => {
    const expired =
      (CombinedGraphQLErrors.is(error) &&
        error.errors.some((e) => e.extensions?.reason === 'TOKEN_EXPIRED')) ||
      (ServerError.is(error) && error.statusCode === 401) ||
      operation.getContext().response?.status === 401;
    const context = operation.getContext();
    if (!expired || context.retried || !tokens.refreshToken) return;
    operation.setContext({ retried: true });
    // Another operation may have refreshed since this one was sent: then just retry.
    const stale = context.headers?.authorization === `Bearer ${tokens.accessToken}`;
    return from(stale ? refresh() : Promise.resolve()).pipe(switchMap(() => forward(operation)));
  });

  return new ApolloClient({
    link: ApolloLink.from([refreshLink, authLink, new HttpLink({ uri })]),
    cache: new InMemoryCache({
      typePolicies: { Query: { fields: { myTodos: relayStylePagination(['completed']) } } },
    }),
  });
}
// README end

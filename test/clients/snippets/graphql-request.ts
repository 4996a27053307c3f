// Quoted verbatim in README.md ("Clients"); see test/clients/readme-snippets.test.ts.
// README: graphql-request
import { GraphQLClient } from 'graphql-request';

export const createRequestClient = (url: string, getToken: () => string | undefined) =>
  new GraphQLClient(url, {
    // Read on every request, so a refreshed token is picked up.
    headers: (): Record<string, string> => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
// README end

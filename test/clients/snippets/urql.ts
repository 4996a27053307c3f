// Quoted verbatim in README.md ("Clients"); see test/clients/readme-snippets.test.ts.
// README: urql
import { Client, fetchExchange } from '@urql/core';

export const createUrqlClient = (url: string, getToken: () => string | undefined) =>
  new Client({
    url,
    exchanges: [fetchExchange],
    // urql sends queries as GET without a content type, which CSRF prevention refuses (400).
    // POST them as JSON, or keep GET and add the header `apollo-require-preflight: true`.
    preferGetMethod: false,
    fetchOptions: () => {
      const token = getToken();
      return token ? { headers: { authorization: `Bearer ${token}` } } : {};
    },
  });
// README end

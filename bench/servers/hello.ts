import { createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createExpressServer } from '../../src/http/server';
import { serveChild } from './child';

/**
 * The baseline R0: the smallest Apollo Server 5 app on Express 5, as Apollo's own
 * "get started" guide builds it. Default plugins only; NODE_ENV=production (set by the parent)
 * gives Apollo's production defaults, as the product runs with. With BENCH_HELLO_SERVER=product
 * the same app is served the way the product serves its own (`createExpressServer`: Node builds
 * requests and responses with Express's prototypes), the `hello_protos` baseline.
 */
serveChild(async () => {
  const apollo = new ApolloServer({
    typeDefs: 'type Query { hello: String }',
    resolvers: { Query: { hello: () => 'world' } },
  });
  await apollo.start();
  const app = express();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const productServer = process.env.BENCH_HELLO_SERVER === 'product';
  return { server: productServer ? createExpressServer(app) : createServer(app) };
});

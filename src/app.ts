import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import mongoose from 'mongoose';
import { type Logger } from 'pino';
import { type Config } from './config';
import { publicJwks } from './auth/keys';
import { type Context, createContextFunction } from './context';
import { createFormatError, errorReportingPlugin } from './graphql/errors';
import { queryLimits } from './graphql/limits';
import { requestLogging } from './http/request-logging';
import { createLogger } from './logger';
import { buildAppSchema } from './schema';
import { type Services, createServices } from './services';

export interface App {
  express: Express;
  apollo: ApolloServer<Context>;
  services: Services;
  /** Stops Apollo (the HTTP server and the database belong to the caller). */
  stop(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Defaults to mongoose's default connection, which must be open. */
  connection?: mongoose.Connection;
}

/** Answers body-parser failures (too large, malformed JSON) in the GraphQL error shape. */
const httpErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const status = typeof error?.status === 'number' ? error.status : undefined;
  if (status === undefined || status >= 500 || res.headersSent) return next(error);
  const message = status === 413 ? 'Request body too large' : 'Malformed request body';
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
};

/**
 * Express 5 leaves `req.body` unset for a non-JSON content type, which Apollo's middleware
 * answers with a 500. Defining it lets Apollo decide: 400 from CSRF prevention or its own
 * body checks.
 */
const ensureBody: RequestHandler = (req, _res, next) => {
  if (!Object.hasOwn(req, 'body')) req.body = undefined;
  next();
};

/**
 * Runs middleware one after the other as one router layer. Express 5's router matches the
 * path again for every layer it dispatches; middleware that always runs together need not
 * pay that on every request.
 */
function inSequence(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (error?: unknown): void => {
      const handler = handlers[index++];
      if (error !== undefined || !handler) return next(error);
      const result: unknown = handler(req, res, step);
      if (result instanceof Promise) result.catch(next);
    };
    step();
  };
}

/** Express + Apollo, wired the same way for `src/index.ts` and for the tests. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const services = createServices(config, logger, options.connection ?? mongoose.connection);
  const schema = await buildAppSchema();
  const limits = queryLimits(schema, config.graphql);

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    // src/index.ts owns shutdown (drain HTTP, then Apollo, then the database).
    stopOnTerminationSignals: false,
    // Stacks go to the log, never to clients (not even in development, where they are noise).
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: config.graphql.maxTokens },
    validationRules: limits.validationRules,
    formatError: createFormatError(config.isProduction),
    plugins: [
      ...limits.plugins,
      errorReportingPlugin(logger),
      // Per-field cache hints are unused here and would add a hook to every field.
      ApolloServerPluginCacheControlDisabled(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: true }),
    ],
  });
  await apollo.start();
  await services.passwords.warmUp();

  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers are POST responses nobody revalidates; hashing each body for an ETag is waste.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  // A JSON API: only the headers that matter to one (helmet's defaults target HTML pages, and
  // each extra header is paid on every response). Sandbox (development) needs Apollo's CDN.
  const securityHeaders = helmet({
    contentSecurityPolicy: config.isProduction
      ? { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }
      : false,
    strictTransportSecurity: config.isProduction,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  app.use(inSequence(requestLogging(logger), securityHeaders));

  // The API first: every other route is checked only after it, on the rare other paths.
  const corsOrigins = config.graphql.corsOrigins;
  app.use(
    '/graphql',
    inSequence(
      // Without allowed origins there is nothing for cors to add; skip it rather than run it.
      ...(corsOrigins.length > 0
        ? [cors({ origin: corsOrigins, credentials: true, maxAge: 600 })]
        : []),
      express.json({ limit: config.graphql.bodyLimit }),
      ensureBody,
      expressMiddleware(apollo, { context: createContextFunction(services) }),
    ),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await databaseReachable(options.connection ?? mongoose.connection);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable' });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(publicJwks(services.keys));
  });

  app.use(httpErrors);

  return { express: app, apollo, services, stop: () => apollo.stop() };
}

async function databaseReachable(connection: mongoose.Connection): Promise<boolean> {
  if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
  try {
    await connection.db.admin().command({ ping: 1 }, { timeoutMS: 1000 });
    return true;
  } catch {
    return false;
  }
}

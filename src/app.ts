import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Express } from 'express';
import { type Server } from 'node:http';
import helmet from 'helmet';
import { type Logger } from 'pino';
import proxyaddr from 'proxy-addr';
import { type Config } from './config';
import { type Context, authenticationPlugin, createContextFunction } from './context';
import { createFormatError, errorReportingPlugin } from './graphql/errors';
import { queryLimits } from './graphql/limits';
import { AddressConcurrency } from './http/address-concurrency';
import { bodyErrors, boundedDepth, ensureBody, inSequence } from './http/body';
import { operationalRoutes } from './http/health';
import { requestLogging } from './http/request-logging';
import { createExpressServer } from './http/server';
import { createLogger } from './logger';
import { buildAppSchema } from './schema';
import { type Services, createServices } from './services';
import { SubscriptionServer } from './subscriptions/websocket';

export interface App {
  express: Express;
  apollo: ApolloServer<Context>;
  services: Services;
  /** Subscriptions over WebSocket, once `createServer` has given them an HTTP server. */
  subscriptions: SubscriptionServer;
  /**
   * The HTTP server for the app (not yet listening), serving subscriptions too (path /graphql);
   * `stop` drains it: in-flight requests finish, sockets close with 1001.
   */
  createServer(): Server;
  /**
   * Drains the server `createServer` made, stops Apollo, then the mail queue: `mailDrainMs` lets the
   * mails of the last requests (and their retries) go out first (the database belongs to the
   * caller).
   */
  stop(options?: { mailDrainMs?: number }): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
}

/** Express + Apollo, wired the same way for `src/index.ts` and for the tests. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const services = createServices(config, logger);
  const schema = await buildAppSchema();
  const limits = queryLimits(schema, config.graphql);
  const subscriptions = new SubscriptionServer(schema, services, limits, config, logger);

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.isProduction,
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    // src/index.ts owns shutdown (stop: drain HTTP and sockets, then Apollo; then the database).
    stopOnTerminationSignals: false,
    // Stacks go to the log, never to clients (not even in development, where they are noise).
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: config.graphql.maxTokens },
    validationRules: limits.validationRules,
    formatError: createFormatError(config.isProduction),
    plugins: [
      authenticationPlugin,
      ...limits.plugins,
      errorReportingPlugin(logger),
      // Per-field cache hints are unused here and would add a hook to every field.
      ApolloServerPluginCacheControlDisabled(),
      subscriptions.drainPlugin(),
      config.isProduction
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: true }),
    ],
  });
  await apollo.start();
  await services.passwords.warmUp();
  await services.adminGuard.init();
  await services.passwordPolicy.warmUp();

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
        ? [
            cors({
              origin: corsOrigins,
              credentials: true,
              maxAge: 600,
              // Browser code may read these: when to retry, why a token was refused, and the
              // id that finds a request in the log.
              exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
            }),
          ]
        : []),
      new AddressConcurrency(config.addressConcurrency).middleware,
      express.json({ limit: config.graphql.bodyLimit }),
      ensureBody,
      boundedDepth,
      expressMiddleware(apollo, { context: createContextFunction(services) }),
    ),
  );

  app.use(operationalRoutes(services.keys));
  app.use(bodyErrors);

  const stop = async (options: { mailDrainMs?: number } = {}) => {
    await apollo.stop();
    if (options.mailDrainMs) await services.outbox.drain(options.mailDrainMs);
    await services.outbox.close();
  };
  return {
    express: app,
    apollo,
    services,
    subscriptions,
    createServer: () => {
      const server = createExpressServer(app);
      // A socket's client address by the same rule as `req.ip` (Express's TRUST_PROXY).
      const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
      subscriptions.attach(server, (request) => proxyaddr(request, trust));
      return server;
    },
    stop,
  };
}

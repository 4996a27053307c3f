import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { type Logger } from 'pino';
import { type Config } from './config';
import { type Context, createContextFunction } from './context';
import { createFormatError, errorReportingPlugin } from './graphql/errors';
import { queryLimits } from './graphql/limits';
import { bodyErrors, ensureBody, inSequence } from './http/body';
import { operationalRoutes } from './http/health';
import { requestLogging } from './http/request-logging';
import { createLogger } from './logger';
import { buildAppSchema } from './schema';
import { type Services, createServices } from './services';

export interface App {
  express: Express;
  apollo: ApolloServer<Context>;
  services: Services;
  /**
   * Stops Apollo and the mail queue without waiting for retries (the HTTP server and the
   * database belong to the caller; `src/index.ts` drains the queue first).
   */
  stop(): Promise<void>;
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
  services.passwordPolicy.warmUp();

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

  app.use(operationalRoutes(services.keys));
  app.use(bodyErrors);

  const stop = async () => {
    await apollo.stop();
    await services.outbox.close();
  };
  return { express: app, apollo, services, stop };
}

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { type Logger } from 'pino';
import { createApp } from './app';
import { withPersistedDevelopmentSecret } from './auth/dev-secret';
import { ConfigError, loadConfig } from './config';
import { connectDatabase, disconnectDatabase } from './db/connect';
import { type SpawnedEmbeddedServer, spawnEmbeddedDatabase } from './db/embedded';
import { createLogger } from './logger';
import { lowerThreadPoolPriority, threadPoolWarnings } from './common/thread-pool';
import { bootstrapAdmin } from './users/admin-bootstrap';

const EMBEDDED_DB_NAME = 'graphql-auth-api';

/** Bootstrap only: read config, connect, createApp(), listen, shut down. */
async function main(): Promise<void> {
  // A local .env (never committed) fills in what the environment leaves unset.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const loaded = loadConfig();
  const config = { ...loaded, jwt: withPersistedDevelopmentSecret(loaded.jwt) };
  // First, before the logger and the database connection use libuv's pool.
  const pool = await lowerThreadPoolPriority(config.threadPoolNice, config.threadPoolIdle);
  const logger = createLogger(config);
  for (const warning of config.warnings) logger.warn(warning);
  for (const warning of threadPoolWarnings(pool)) logger.warn(warning);

  let embedded: SpawnedEmbeddedServer | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await spawnEmbeddedDatabase(config.embeddedDbPath);
    uri = embedded.uri;
    logger.warn(
      { uri: `${embedded.uri}${EMBEDDED_DB_NAME}`, dbpath: config.embeddedDbPath },
      config.embeddedDbPath
        ? `MONGODB_URI is not set: using the embedded MongoDB-compatible server; data is kept in ${config.embeddedDbPath}`
        : 'MONGODB_URI is not set: using the embedded MongoDB-compatible server; data is in memory and goes away on exit',
    );
  }
  await connectDatabase(uri, embedded ? { dbName: EMBEDDED_DB_NAME } : {});
  const app = await createApp(config, { logger });
  await bootstrapAdmin(config, app.services, logger);

  const server = app.createServer();
  // Longer than a typical load balancer's idle timeout, so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, `GraphQL API ready at http://localhost:${port}/graphql`);
  // Whoever waits for this line (an orchestrator, a test) gets it now, not with the next batch.
  logger.flush();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000);
    deadline.unref();
    try {
      // Apollo's drain: in-flight requests finish and sockets close (1001); then the mails
      // queued by the last requests, and their retries, within most of the deadline.
      await app.stop({ mailDrainMs: config.shutdownTimeoutSeconds * 1000 * 0.6 });
      await disconnectDatabase();
      await embedded?.stop();
      logger.info('stopped');
      await flushLogger(logger);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      await flushLogger(logger);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Log lines are written asynchronously; wait for them before the process ends. */
function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { type Logger } from 'pino';
import { createServer } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { connectDatabase, disconnectDatabase } from './db/connect';
import { type SpawnedEmbeddedServer, spawnEmbeddedDatabase } from './db/embedded';
import { createLogger } from './logger';
import { bootstrapAdmin } from './users/admin-bootstrap';

const EMBEDDED_DB_NAME = 'graphql-auth-api';

/** Bootstrap only: read config, connect, createApp(), listen, shut down. */
async function main(): Promise<void> {
  // A local .env (never committed) fills in what the environment leaves unset.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const logger = createLogger(config);
  for (const warning of config.warnings) logger.warn(warning);

  let embedded: SpawnedEmbeddedServer | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await spawnEmbeddedDatabase();
    uri = embedded.uri;
    logger.warn(
      { uri: `${embedded.uri}${EMBEDDED_DB_NAME}` },
      'MONGODB_URI is not set: using the embedded MongoDB-compatible server; data is in memory and goes away on exit',
    );
  }
  await connectDatabase(uri, embedded ? { dbName: EMBEDDED_DB_NAME } : {});
  const app = await createApp(config, { logger });
  await bootstrapAdmin(config, app.services, logger);

  const server = createServer(app.express);
  // Longer than a typical load balancer's idle timeout, so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, `GraphQL API ready at http://localhost:${port}/graphql`);

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
      await closeServer(server);
      // Mails queued by the last requests, and their retries, within most of the deadline.
      await app.services.outbox.drain(config.shutdownTimeoutSeconds * 1000 * 0.6);
      await app.stop();
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

/** Stops accepting connections and waits for in-flight requests; idle keep-alives close now. */
function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
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

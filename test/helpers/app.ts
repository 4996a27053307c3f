import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import { type App, createApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import { connectDatabase, disconnectDatabase } from '../../src/db/connect';
import { createLogger } from '../../src/logger';
import { startTestDatabase } from './database';

export interface TestApp {
  url: string;
  config: Config;
  app: App;
  /** Every database command the app sent since the last `commands.reset()`. */
  commands: { list: CommandStartedEvent[]; reset(): void };
  /** Log lines the app wrote (JSON objects), for assertions on logging. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Settings that make the app run as in production. MONGODB_URI only satisfies the production
 * rule that one is set: the harness hands the app its own test database regardless.
 */
export const productionEnv = (): Record<string, string> => ({
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://set-by-the-harness',
  JWT_SECRET: randomBytes(32).toString('hex'),
  // Production needs both; nothing listens on port 9 (discard), so a mail fails and is logged.
  SMTP_URL: 'smtp://127.0.0.1:9',
  APP_URL: 'https://app.example.com',
});

/** Starts the real app (createApp) on a random port over the harness database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await startTestDatabase();
  await connectDatabase(database.uri, { dbName: database.dbName, monitorCommands: true });

  const commands: CommandStartedEvent[] = [];
  mongoose.connection.getClient().on('commandStarted', (event) => commands.push(event));

  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    AUTH_REVALIDATE_SECONDS: '0',
    // Every test client is 127.0.0.1: suites register far more accounts than one real address
    // would. Suites about these limits set their own.
    RATE_LIMIT_REGISTER_PER_IP: '10000/1h',
    RATE_LIMIT_SIGN_UP_PER_IP: '10000/1h',
    RATE_LIMIT_REQUEST_PASSWORD_RESET_PER_IP: '10000/1h',
    RATE_LIMIT_RESEND_VERIFICATION_EMAIL_PER_IP: '10000/1h',
    RATE_LIMIT_RESET_PASSWORD_PER_IP: '10000/1h',
    RATE_LIMIT_CHANGE_EMAIL_PER_IP: '10000/1h',
    // Suites try many passwords on one address (the password rule).
    RATE_LIMIT_REGISTER_PER_ACCOUNT: '10000/1h',
    RATE_LIMIT_SIGN_UP_PER_ACCOUNT: '10000/1h',
    ARGON2_QUEUE_PER_CLIENT: '64',
    // Suites send dozens of requests at once from 127.0.0.1, and many are answered 429 on
    // purpose; test/security/address-concurrency.test.ts sets these to their real size.
    MAX_CONCURRENT_REQUESTS_PER_IP: '1000',
    MAX_CONCURRENT_REQUESTS_PER_REFUSED_IP: '1000',
    MAX_QUEUED_REQUESTS_PER_IP: '1000',
    ...env,
  });
  // The production logger (same redaction), writing into memory at level info or finer.
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger(
    { env: config.env, logLevel: env.LOG_LEVEL ?? 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const app = await createApp(config, { logger });
  const server: Server = app.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    config,
    app,
    commands: { list: commands, reset: () => void commands.splice(0) },
    logs,
    async stop() {
      server.closeAllConnections();
      // Closes the HTTP server too (attach), once its sockets have closed.
      await app.stop();
      await disconnectDatabase();
      await database.stop();
    },
  };
}

/**
 * How long setup and teardown hooks may take: starting a database and the app, or creating many
 * accounts (argon2 on purpose costs CPU), takes far longer than usual on a loaded machine.
 */
export const HOOK_TIMEOUT_MS = 60_000;

/**
 * Registers hooks that start the real app for this file (or describe block) before its first
 * test and stop it after its last. The returned object is filled in before the first test runs,
 * so hooks declared after this call may already use it.
 */
export function useTestApp(env: Record<string, string> = {}): TestApp {
  const handle = {} as TestApp;
  beforeAll(async () => {
    Object.assign(handle, await startTestApp(env));
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await handle.stop?.();
  }, HOOK_TIMEOUT_MS);
  return handle;
}

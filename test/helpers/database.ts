import { randomBytes } from 'node:crypto';

import { MongoClient } from 'mongodb';

import { startEmbeddedServer } from '../../src/db/embedded';

export interface TestDatabase {
  /** Connection string: use with `mongoose.createConnection(uri, { dbName })` or `new MongoClient(uri)`. */
  uri: string;
  /** A database name of its own for this test file. */
  dbName: string;
  /** True when running against the in-process embedded server rather than MONGODB_URI. */
  embedded: boolean;
  stop(): Promise<void>;
}

/** TTL monitor period of the embedded server in tests, so expiry is observable quickly. */
export const TEST_TTL_MONITOR_INTERVAL_MS = 200;

/**
 * The database every integration test uses: the server at MONGODB_URI when set (with a fresh
 * database, dropped afterwards), otherwise a fresh in-process embedded server.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const dbName = `test_${randomBytes(6).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  if (external) {
    return {
      uri: external,
      dbName,
      embedded: false,
      stop: async () => {
        const client = new MongoClient(external);
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  }
  const server = await startEmbeddedServer({
    port: 0,
    ttlMonitorIntervalMs: TEST_TTL_MONITOR_INTERVAL_MS,
  });
  return { uri: server.uri, dbName, embedded: true, stop: () => server.stop() };
}

/**
 * Registers a block only against the embedded server, for what a shared real MongoDB cannot
 * do in a test (be stopped and restarted, say). Against MONGODB_URI the block does not exist,
 * rather than showing up as skipped.
 */
export function describeEmbeddedOnly(name: string, fn: () => void): void {
  if (!process.env.MONGODB_URI) describe(name, fn);
}

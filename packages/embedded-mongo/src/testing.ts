import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startEmbeddedServer } from './index';

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
 * The database a test file uses: the server at MONGODB_URI when set (with a fresh database,
 * dropped afterwards), otherwise a fresh in-process embedded server. The one harness of this
 * package's conformance suite and of the API's tests, so both run against a real MongoDB the
 * same way.
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

/** Jest's `describe`, declared here so this file compiles without the test runner's types. */
declare const describe: (name: string, fn: () => void) => void;

/**
 * Registers a block only against the embedded server, for what a shared real MongoDB cannot
 * do in a test (be stopped and restarted, refuse what MongoDB supports). Against MONGODB_URI
 * the block does not exist, rather than showing up as skipped.
 */
export function describeEmbeddedOnly(name: string, fn: () => void): void {
  if (!process.env.MONGODB_URI) describe(name, fn);
}

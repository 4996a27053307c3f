import { type Db, MongoClient, type ObjectId } from 'mongodb';

import { startTestDatabase, type TestDatabase } from '../src/testing';

export { describeEmbeddedOnly } from '../src/testing';

export interface DriverHandle {
  database: TestDatabase;
  client: MongoClient;
  db: Db;
}

/**
 * Documents of any shape (and any `_id` type): the suite stores numbers, strings and ObjectIds
 * as `_id` side by side, which the driver's default ObjectId-typed schema would not allow.
 */
export type AnyDoc = {
  _id?: string | number | ObjectId | Record<string, unknown>;
  [key: string]: any;
};

/** True unless MONGODB_URI points the suite at a real MongoDB. */
export const isEmbedded = !process.env.MONGODB_URI;

/**
 * Registers hooks that connect the official driver to a fresh test database for this file.
 * The returned object is filled in before the first test runs.
 */
export function useDriver(): DriverHandle {
  const handle = {} as DriverHandle;
  beforeAll(async () => {
    handle.database = await startTestDatabase();
    handle.client = new MongoClient(handle.database.uri);
    await handle.client.connect();
    handle.db = handle.client.db(handle.database.dbName);
  });
  afterAll(async () => {
    await handle.client?.close();
    await handle.database?.stop();
  });
  return handle;
}

/** The MongoServerError fields a test asserts on. */
export async function serverError(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the operation to fail');
}

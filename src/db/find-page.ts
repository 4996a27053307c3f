import { type Model, mongo } from 'mongoose';

export interface PageQuery {
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
  /** At most PAGE_SIZE_MAX + 1: a page of small documents always fits one reply. */
  limit: number;
  projection?: Record<string, 0 | 1>;
}

/**
 * The documents of one page, read with one `find` command (`db.command`) rather than through
 * the driver's cursor (`find().toArray()`). Both make the same single round trip, but the
 * cursor's machinery (cursor object, on-demand reply, per-document decoding, cleanup) cost
 * about 300 µs more of CPU per page of 21 and left about 2.5 times the garbage (`npm run
 * bench:profile -- my_todos`). A cursor the server left open (its reply stopped short of
 * `limit` for size) is closed again and the page read through the cursor, as is a page whose
 * command failed (other than for want of a server): that path brings the driver's retryable
 * reads. The command takes the database's read preference, as the cursor would.
 */
export async function findPage<T>(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  query: PageQuery,
): Promise<T[]> {
  const db = model.db.db;
  const name = model.collection.collectionName;
  if (db) {
    try {
      const reply = await db.command(
        {
          find: name,
          filter: query.filter,
          sort: query.sort,
          limit: query.limit,
          batchSize: query.limit,
          ...(query.projection ? { projection: query.projection } : {}),
        },
        { readPreference: db.readPreference },
      );
      const { id, firstBatch } = reply.cursor as { id: number | mongo.Long; firstBatch: T[] };
      if (Number(id) === 0) return firstBatch;
      // The reply turns an id that fits a number into one; killCursors takes a long.
      const open = typeof id === 'number' ? mongo.Long.fromNumber(id) : id;
      void db.command({ killCursors: name, cursors: [open] }).catch(() => undefined);
    } catch (error) {
      // No server to send to: the cursor would wait the whole selection timeout again.
      if (error instanceof mongo.MongoServerSelectionError) throw error;
      // Otherwise read again below, through the driver's cursor and its retry rules.
    }
  }
  const rows = await model.collection
    .find(query.filter, { sort: query.sort, limit: query.limit, projection: query.projection })
    .toArray();
  return rows as T[];
}

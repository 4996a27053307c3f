import { Long, MongoClient } from 'mongodb';

import { serverError, useDriver, type AnyDoc } from './harness';

describe('cursors: find, getMore and killCursors', () => {
  const h = useDriver();
  const name = 'many';
  const total = 250;

  beforeAll(async () => {
    await h.db
      .collection<AnyDoc>(name)
      .insertMany(Array.from({ length: total }, (_, i) => ({ _id: i, even: i % 2 === 0 })));
  });

  const find = (cmd: object) =>
    h.db.command({ find: name, ...cmd }, { promoteLongs: false }) as Promise<{
      cursor: { firstBatch: { _id: number }[]; id: Long; ns: string };
      ok: number;
    }>;
  const getMore = (id: Long, batchSize?: number) =>
    h.db.command(
      { getMore: id, collection: name, ...(batchSize ? { batchSize } : {}) },
      { promoteLongs: false },
    ) as Promise<{ cursor: { nextBatch: { _id: number }[]; id: Long; ns: string }; ok: number }>;

  it('answers a first batch of 101 documents and an open cursor', async () => {
    const reply = await find({ filter: {}, sort: { _id: 1 } });
    expect(reply.ok).toBe(1);
    expect(reply.cursor.ns).toBe(`${h.database.dbName}.${name}`);
    expect(reply.cursor.firstBatch).toHaveLength(101);
    expect(Long.isLong(reply.cursor.id)).toBe(true);
    expect(reply.cursor.id.isZero()).toBe(false);
    await h.db.command({ killCursors: name, cursors: [reply.cursor.id] });
  });

  it('pages through the rest with getMore until the cursor id is 0', async () => {
    const first = await find({ filter: {}, sort: { _id: 1 }, batchSize: 100 });
    const seen = first.cursor.firstBatch.map((d) => d._id);
    let id = first.cursor.id;
    let rounds = 0;
    while (!id.isZero()) {
      const next = await getMore(id, 60);
      expect(next.cursor.ns).toBe(`${h.database.dbName}.${name}`);
      expect(next.cursor.nextBatch.length).toBeLessThanOrEqual(60);
      seen.push(...next.cursor.nextBatch.map((d) => d._id));
      id = next.cursor.id;
      rounds++;
    }
    expect(rounds).toBe(3);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('drains the cursor through the driver with a small batchSize', async () => {
    const docs = await h.db.collection<AnyDoc>(name).find({ even: true }).batchSize(7).toArray();
    expect(docs).toHaveLength(125);
  });

  it('honours limit across batches and closes the cursor when the limit is reached', async () => {
    const first = await find({ filter: {}, sort: { _id: -1 }, limit: 15, batchSize: 10 });
    expect(first.cursor.firstBatch).toHaveLength(10);
    const next = await getMore(first.cursor.id);
    expect(next.cursor.nextBatch.map((d) => d._id)).toEqual([239, 238, 237, 236, 235]);
    expect(next.cursor.id.isZero()).toBe(true);
  });

  it('returns a single batch for a negative limit or singleBatch', async () => {
    const negative = await find({ filter: {}, sort: { _id: 1 }, limit: -3 });
    expect(negative.cursor.firstBatch.map((d) => d._id)).toEqual([0, 1, 2]);
    expect(negative.cursor.id.isZero()).toBe(true);
    const single = await find({ filter: {}, sort: { _id: 1 }, limit: 5, singleBatch: true });
    expect(single.cursor.firstBatch).toHaveLength(5);
    expect(single.cursor.id.isZero()).toBe(true);
  });

  it('kills a cursor so that getMore on it answers CursorNotFound', async () => {
    const first = await find({ filter: {}, batchSize: 2 });
    const killed = await h.db.command(
      { killCursors: name, cursors: [first.cursor.id] },
      { promoteLongs: false },
    );
    expect(killed.ok).toBe(1);
    expect(killed.cursorsKilled.map((id: Long) => id.toString())).toEqual([
      first.cursor.id.toString(),
    ]);
    expect(killed.cursorsNotFound).toEqual([]);
    const err = await serverError(getMore(first.cursor.id));
    expect(err).toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  });

  it('is killed by the driver when a cursor is closed early', async () => {
    const client = new MongoClient(h.database.uri, { monitorCommands: true });
    const killed: unknown[] = [];
    client.on('commandSucceeded', (e) => {
      if (e.commandName === 'killCursors') killed.push(e.reply);
    });
    try {
      const cursor = client.db(h.database.dbName).collection<AnyDoc>(name).find({}).batchSize(5);
      await cursor.next();
      await cursor.close();
      expect(killed).toHaveLength(1);
      expect(killed[0]).toMatchObject({ cursorsKilled: [expect.anything()], ok: 1 });
    } finally {
      await client.close();
    }
  });
});

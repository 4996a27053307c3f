import { MongoClient } from 'mongodb';

import { describeEmbeddedOnly, serverError, useDriver, type AnyDoc } from './harness';

describe('error replies', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  it('answers an unknown command with CommandNotFound in the { ok: 0, errmsg, code, codeName } shape', async () => {
    const err = await serverError(h.db.command({ frobnicate: 1 }));
    expect(err.errorResponse).toMatchObject({
      ok: 0,
      errmsg: "no such command: 'frobnicate'",
      code: 59,
      codeName: 'CommandNotFound',
    });
  });

  it('matches command names case-sensitively, except the hello aliases', async () => {
    expect((await serverError(h.db.command({ PING: 1 }))).code).toBe(59);
    expect(await h.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await h.db.admin().command({ isMaster: 1 })).toMatchObject({ ismaster: true, ok: 1 });
    expect(await h.db.admin().command({ ismaster: 1 })).toMatchObject({ ismaster: true, ok: 1 });
    expect(await h.db.admin().command({ hello: 1 })).toMatchObject({
      isWritablePrimary: true,
      ok: 1,
    });
  });

  it('answers an unknown update operator with FailedToParse', async () => {
    const coll = fresh('modifier');
    await coll.insertOne({ _id: 1 });
    const err = await serverError(coll.updateOne({ _id: 1 }, { $foo: { a: 1 } } as never));
    expect(err).toMatchObject({
      code: 9,
      message:
        'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array',
    });
  });

  it('reports update errors as writeErrors entries with the statement index', async () => {
    const coll = fresh('write_errors');
    await coll.insertOne({ _id: 1 });
    const reply = await h.db.command({
      update: coll.collectionName,
      updates: [
        { q: { _id: 1 }, u: { $set: { a: 1 } } },
        { q: { _id: 1 }, u: { $foo: { a: 1 } } },
      ],
      ordered: false,
    });
    expect(reply).toMatchObject({ n: 1, nModified: 1, ok: 1 });
    expect(reply.writeErrors).toEqual([
      expect.objectContaining({ index: 1, code: 9, errmsg: expect.any(String) }),
    ]);
  });

  it('answers an unknown query operator with BadValue', async () => {
    const err = await serverError(
      fresh('query_op')
        .find({ a: { $foo: 1 } })
        .toArray(),
    );
    expect(err).toMatchObject({ code: 2, codeName: 'BadValue', message: 'unknown operator: $foo' });
  });

  it('answers an unknown top-level operator with BadValue', async () => {
    const err = await serverError(
      fresh('top_op')
        .find({ $foo: [{ a: 1 }] })
        .toArray(),
    );
    expect(err).toMatchObject({ code: 2, codeName: 'BadValue' });
  });

  it('refuses to change _id with ImmutableField', async () => {
    const coll = fresh('immutable');
    await coll.insertOne({ _id: 1, a: 1 });
    const viaSet = await serverError(coll.updateOne({ _id: 1 }, { $set: { _id: 2 } }));
    expect(viaSet).toMatchObject({ code: 66 });
    const viaReplace = await serverError(coll.replaceOne({ _id: 1 }, { _id: 2, a: 2 }));
    expect(viaReplace).toMatchObject({ code: 66 });
    const viaFam = await serverError(
      h.db.command({
        findAndModify: coll.collectionName,
        query: { _id: 1 },
        update: { $set: { _id: 3 } },
      }),
    );
    expect(viaFam).toMatchObject({ code: 66, codeName: 'ImmutableField' });
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 1 });
  });

  it('accepts setting _id to the value it already has', async () => {
    const coll = fresh('same_id');
    await coll.insertOne({ _id: 1, a: 1 });
    await coll.updateOne({ _id: 1 }, { $set: { _id: 1, a: 2 } });
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 2 });
  });

  it('refuses to create an existing collection with NamespaceExists', async () => {
    const coll = fresh('exists');
    await h.db.createCollection(coll.collectionName);
    const err = await serverError(h.db.command({ create: coll.collectionName }));
    expect(err).toMatchObject({ code: 48, codeName: 'NamespaceExists' });
  });

  it('refuses $inc on a non-numeric field with TypeMismatch and changes nothing', async () => {
    const coll = fresh('inc_string');
    await coll.insertOne({ _id: 1, a: 'text', b: 1 });
    const err = await serverError(coll.updateOne({ _id: 1 }, { $inc: { a: 1, b: 1 } }));
    expect(err).toMatchObject({ code: 14 });
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 'text', b: 1 });
  });

  it('refuses two operators on the same path with ConflictingUpdateOperators', async () => {
    const coll = fresh('conflict');
    await coll.insertOne({ _id: 1 });
    const err = await serverError(coll.updateOne({ _id: 1 }, { $set: { a: 1 }, $inc: { a: 1 } }));
    expect(err).toMatchObject({ code: 40 });
  });

  it('ignores the generic envelope fields drivers send', async () => {
    const coll = fresh('envelope');
    await coll.insertOne({ a: 1 });
    const reply = await h.db.command({
      find: coll.collectionName,
      filter: {},
      comment: 'tracing',
      maxTimeMS: 5000,
      readConcern: { level: 'local' },
    });
    expect(reply.cursor.firstBatch).toHaveLength(1);
    await coll.insertOne({ a: 2 }, { writeConcern: { w: 1 }, comment: 'x' });
    expect(await coll.countDocuments()).toBe(2);
  });
});

describeEmbeddedOnly('refusals of the embedded server', () => {
  const h = useDriver();
  const coll = () => h.db.collection<AnyDoc>('refusals');

  beforeAll(async () => {
    await coll().insertOne({ a: 'x' });
  });

  it('refuses multi-document transactions as a standalone mongod does', async () => {
    const session = h.client.startSession();
    try {
      session.startTransaction();
      const read = await serverError(coll().findOne({}, { session }));
      expect(read).toMatchObject({ code: 20, codeName: 'IllegalOperation' });
      // For writes the driver rewraps code 20 (as it does for a real standalone).
      const write = await serverError(coll().insertOne({ a: 1 }, { session }));
      expect(write.originalError).toMatchObject({ code: 20, codeName: 'IllegalOperation' });
    } finally {
      await session.endSession();
    }
    const raw = await serverError(
      h.db.command({ find: 'refusals', filter: {}, txnNumber: 1, autocommit: false }),
    );
    expect(raw).toMatchObject({
      code: 20,
      codeName: 'IllegalOperation',
      message: 'Transaction numbers are only allowed on a replica set member or mongos',
    });
    expect(await coll().countDocuments({ a: 1 })).toBe(0);
  });

  it('refuses collation', async () => {
    const err = await serverError(
      coll()
        .find({ a: 'X' }, { collation: { locale: 'en', strength: 2 } })
        .toArray(),
    );
    expect(err).toMatchObject({ code: 115, codeName: 'CommandNotSupported' });
  });

  it('refuses $out and $merge', async () => {
    const out = await serverError(
      coll()
        .aggregate([{ $out: 'copy' }])
        .toArray(),
    );
    expect(out).toMatchObject({ code: 115 });
    const merge = await serverError(
      coll()
        .aggregate([{ $merge: { into: 'copy' } }])
        .toArray(),
    );
    expect(merge).toMatchObject({ code: 115 });
  });

  it('refuses server-side JavaScript and text search', async () => {
    expect(await serverError(coll().find({ $where: 'this.a' }).toArray())).toMatchObject({
      code: 115,
    });
    expect(
      await serverError(
        coll()
          .find({ $text: { $search: 'x' } })
          .toArray(),
      ),
    ).toMatchObject({
      code: 115,
    });
    expect(await serverError(coll().createIndex({ a: 'text' }))).toMatchObject({ code: 115 });
  });

  it('refuses collection kinds it cannot provide', async () => {
    const err = await serverError(h.db.createCollection('capped', { capped: true, size: 1024 }));
    expect(err).toMatchObject({ code: 115 });
  });

  it('refuses authentication', async () => {
    const url = new URL(h.database.uri);
    url.username = 'user';
    url.password = 'secret';
    const client = new MongoClient(url.toString(), { serverSelectionTimeoutMS: 2000 });
    try {
      const err = await serverError(client.connect());
      expect(String(err.message)).toMatch(/Authentication is not supported/);
    } finally {
      await client.close();
    }
  });

  it('serves clients that ask for compression, without compressing', async () => {
    const client = new MongoClient(h.database.uri, { compressors: ['zlib'] });
    try {
      await client.connect();
      expect(
        await client.db(h.database.dbName).collection<AnyDoc>('refusals').countDocuments(),
      ).toBe(1);
    } finally {
      await client.close();
    }
  });
});

import { type Filter, ObjectId, type Sort } from 'mongodb';

import { describeEmbeddedOnly, isEmbedded, serverError, useDriver, type AnyDoc } from './harness';

describe('indexes', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  describe('listIndexes, createIndexes and dropIndexes', () => {
    it('always has the _id_ index', async () => {
      const coll = fresh('ids');
      await h.db.createCollection(coll.collectionName);
      expect(await coll.indexes()).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }]);
    });

    it('answers index counts and creates the collection implicitly', async () => {
      const coll = fresh('create');
      const reply = await h.db.command({
        createIndexes: coll.collectionName,
        indexes: [{ key: { a: 1 }, name: 'a_1' }],
      });
      expect(reply).toMatchObject({
        numIndexesBefore: 1,
        numIndexesAfter: 2,
        createdCollectionAutomatically: true,
        ok: 1,
      });
      const again = await h.db.command({
        createIndexes: coll.collectionName,
        indexes: [{ key: { a: 1 }, name: 'a_1' }],
      });
      expect(again).toMatchObject({
        numIndexesBefore: 2,
        numIndexesAfter: 2,
        note: 'all indexes already exist',
        ok: 1,
      });
    });

    it('lists the options of each index', async () => {
      const coll = fresh('list');
      await coll.createIndex({ email: 1 }, { unique: true });
      await coll.createIndex({ owner: 1, createdAt: -1 });
      await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 3600 });
      await coll.createIndex({ nick: 1 }, { unique: true, sparse: true, name: 'nick_sparse' });
      const byName = Object.fromEntries((await coll.indexes()).map((i) => [i.name, i]));
      expect(byName.email_1).toMatchObject({ key: { email: 1 }, unique: true });
      expect(byName['owner_1_createdAt_-1']).toMatchObject({ key: { owner: 1, createdAt: -1 } });
      expect(byName.expiresAt_1).toMatchObject({ expireAfterSeconds: 3600 });
      expect(byName.nick_sparse).toMatchObject({ key: { nick: 1 }, unique: true, sparse: true });
    });

    it('refuses the same key pattern under another name (IndexOptionsConflict)', async () => {
      const coll = fresh('conflict85');
      await coll.createIndex({ a: 1 }, { name: 'first' });
      const err = await serverError(coll.createIndex({ a: 1 }, { name: 'second' }));
      expect(err).toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    });

    it('refuses another key pattern under an existing name (IndexKeySpecsConflict)', async () => {
      const coll = fresh('conflict86');
      await coll.createIndex({ a: 1 }, { name: 'idx' });
      const err = await serverError(coll.createIndex({ b: 1 }, { name: 'idx' }));
      expect(err).toMatchObject({ code: 86, codeName: 'IndexKeySpecsConflict' });
    });

    it('refuses to change expireAfterSeconds by re-creating the index', async () => {
      const coll = fresh('conflictttl');
      await coll.createIndex({ t: 1 }, { expireAfterSeconds: 60 });
      const err = await serverError(coll.createIndex({ t: 1 }, { expireAfterSeconds: 120 }));
      expect(err).toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    });

    it('drops an index by name or key, and answers IndexNotFound for a missing one', async () => {
      const coll = fresh('drop');
      await coll.createIndex({ a: 1 });
      await coll.createIndex({ b: 1 });
      const reply = await h.db.command({ dropIndexes: coll.collectionName, index: 'a_1' });
      expect(reply).toMatchObject({ nIndexesWas: 3, ok: 1 });
      await h.db.command({ dropIndexes: coll.collectionName, index: { b: 1 } });
      expect((await coll.indexes()).map((i) => i.name)).toEqual(['_id_']);
      const err = await serverError(coll.dropIndex('nope_1'));
      expect(err).toMatchObject({ code: 27, codeName: 'IndexNotFound' });
    });

    it('keeps _id_ when dropping all indexes and refuses to drop it by name', async () => {
      const coll = fresh('dropall');
      await coll.createIndex({ a: 1 });
      await coll.dropIndexes();
      expect((await coll.indexes()).map((i) => i.name)).toEqual(['_id_']);
      const err = await serverError(coll.dropIndex('_id_'));
      expect(err).toMatchObject({ code: 72, codeName: 'InvalidOptions' });
    });

    it('answers NamespaceNotFound when listing the indexes of a missing collection', async () => {
      const err = await serverError(h.db.command({ listIndexes: 'no_such_collection' }));
      expect(err).toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
    });
  });

  describe('unique indexes', () => {
    it('a duplicate email answers E11000 with keyPattern and keyValue', async () => {
      const users = fresh('users');
      await users.createIndex({ email: 1 }, { unique: true });
      await users.insertOne({ email: 'a@b.c' });
      const err = await serverError(users.insertOne({ email: 'a@b.c' }));
      expect(err.code).toBe(11000);
      expect(err.message).toBe(
        `E11000 duplicate key error collection: ${h.database.dbName}.${users.collectionName} index: email_1 dup key: { email: "a@b.c" }`,
      );
      expect(err.keyPattern).toEqual({ email: 1 });
      expect(err.keyValue).toEqual({ email: 'a@b.c' });
      expect(await users.countDocuments()).toBe(1);
    });

    it('answers DuplicateKey as a command error from findAndModify', async () => {
      const users = fresh('users_fam');
      await users.createIndex({ email: 1 }, { unique: true });
      await users.insertMany([
        { _id: 1, email: 'a' },
        { _id: 2, email: 'b' },
      ]);
      const err = await serverError(
        h.db.command({
          findAndModify: users.collectionName,
          query: { _id: 2 },
          update: { $set: { email: 'a' } },
        }),
      );
      expect(err).toMatchObject({
        code: 11000,
        codeName: 'DuplicateKey',
        keyPattern: { email: 1 },
        keyValue: { email: 'a' },
      });
      expect(await users.findOne({ _id: 2 })).toEqual({ _id: 2, email: 'b' });
    });

    it('a duplicate _id answers E11000 on the _id_ index', async () => {
      const coll = fresh('dup_id');
      await coll.insertOne({ _id: 'same' });
      const err = await serverError(coll.insertOne({ _id: 'same' }));
      expect(err).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 'same' } });
      expect(String(err.message)).toContain('index: _id_ dup key: { _id: "same" }');
    });

    it('counts a missing field as null', async () => {
      const coll = fresh('missing_null');
      await coll.createIndex({ email: 1 }, { unique: true });
      await coll.insertOne({ name: 'no email' });
      const err = await serverError(coll.insertOne({ name: 'no email either' }));
      expect(err).toMatchObject({ code: 11000, keyValue: { email: null } });
    });

    it('lets a sparse unique index hold many documents without the field', async () => {
      const coll = fresh('sparse');
      await coll.createIndex({ nick: 1 }, { unique: true, sparse: true });
      await coll.insertMany([{ a: 1 }, { a: 2 }, { nick: 'x' }]);
      const err = await serverError(coll.insertOne({ nick: 'x' }));
      expect(err.code).toBe(11000);
      expect(await coll.countDocuments()).toBe(3);
    });

    it('enforces uniqueness only inside a partial filter', async () => {
      const coll = fresh('partial');
      await coll.createIndex(
        { email: 1 },
        { unique: true, partialFilterExpression: { active: true } },
      );
      await coll.insertMany([
        { email: 'a', active: false },
        { email: 'a', active: false },
        { email: 'a', active: true },
      ]);
      const err = await serverError(coll.insertOne({ email: 'a', active: true }));
      expect(err.code).toBe(11000);
    });

    it('enforces a compound unique index on the combination of fields', async () => {
      const coll = fresh('compound');
      await coll.createIndex({ owner: 1, name: 1 }, { unique: true });
      const alice = new ObjectId();
      const bob = new ObjectId();
      await coll.insertMany([
        { owner: alice, name: 'list' },
        { owner: bob, name: 'list' },
        { owner: alice, name: 'other' },
      ]);
      const err = await serverError(coll.insertOne({ owner: alice, name: 'list' }));
      expect(err).toMatchObject({
        code: 11000,
        keyPattern: { owner: 1, name: 1 },
        keyValue: { owner: alice, name: 'list' },
      });
      expect(String(err.message)).toContain(
        `dup key: { owner: ObjectId('${alice.toHexString()}'), name: "list" }`,
      );
    });

    it('treats each element of an array as a key', async () => {
      const coll = fresh('multikey');
      await coll.createIndex({ tags: 1 }, { unique: true });
      await coll.insertOne({ tags: ['a', 'b'] });
      const err = await serverError(coll.insertOne({ tags: ['c', 'b'] }));
      expect(err).toMatchObject({ code: 11000, keyValue: { tags: 'b' } });
    });

    it('fails to build over existing duplicates and leaves no index behind', async () => {
      const coll = fresh('build_dup');
      await coll.insertMany([{ email: 'x' }, { email: 'x' }]);
      const err = await serverError(coll.createIndex({ email: 1 }, { unique: true }));
      expect(err).toMatchObject({ code: 11000, codeName: 'DuplicateKey' });
      expect((await coll.indexes()).map((i) => i.name)).toEqual(['_id_']);
    });

    it('refuses an update that would create a duplicate and changes nothing', async () => {
      const coll = fresh('update_dup');
      await coll.createIndex({ email: 1 }, { unique: true });
      await coll.insertMany([
        { _id: 1, email: 'a', n: 0 },
        { _id: 2, email: 'b', n: 0 },
      ]);
      const err = await serverError(
        coll.updateOne({ _id: 2 }, { $set: { email: 'a' }, $inc: { n: 1 } }),
      );
      expect(err).toMatchObject({ code: 11000, keyValue: { email: 'a' } });
      const replaced = await serverError(coll.replaceOne({ _id: 2 }, { email: 'a' }));
      expect(replaced.code).toBe(11000);
      const famErr = await serverError(coll.findOneAndUpdate({ _id: 2 }, { $set: { email: 'a' } }));
      expect(famErr.code).toBe(11000);
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, email: 'a', n: 0 },
        { _id: 2, email: 'b', n: 0 },
      ]);
      expect(await coll.countDocuments({ email: 'b' })).toBe(1);
    });

    it('refuses an upsert that would insert a duplicate', async () => {
      const coll = fresh('upsert_dup');
      await coll.createIndex({ email: 1 }, { unique: true });
      await coll.insertOne({ email: 'a', kind: 'x' });
      const err = await serverError(
        coll.updateOne({ kind: 'y' }, { $set: { email: 'a' } }, { upsert: true }),
      );
      expect(err.code).toBe(11000);
      expect(await coll.countDocuments()).toBe(1);
    });

    it('keeps the index in step with updates and deletes', async () => {
      const coll = fresh('maintained');
      await coll.createIndex({ email: 1 }, { unique: true });
      await coll.insertOne({ _id: 1, email: 'old' });
      await coll.updateOne({ _id: 1 }, { $set: { email: 'new' } });
      expect(await coll.findOne({ email: 'old' })).toBeNull();
      expect(await coll.findOne({ email: 'new' })).toEqual({ _id: 1, email: 'new' });
      await coll.insertOne({ _id: 2, email: 'old' });
      await coll.deleteOne({ _id: 1 });
      await coll.insertOne({ _id: 3, email: 'new' });
      expect(
        await coll
          .find({ email: { $in: ['old', 'new'] } })
          .sort({ _id: 1 })
          .toArray(),
      ).toEqual([
        { _id: 2, email: 'old' },
        { _id: 3, email: 'new' },
      ]);
    });
  });

  describe('queries over indexed fields', () => {
    it('answers equality on a compound prefix, sorted, like a scan would', async () => {
      const coll = fresh('prefix');
      await coll.createIndex({ owner: 1, createdAt: -1 });
      const owners = [new ObjectId(), new ObjectId()];
      const base = Date.UTC(2024, 0, 1);
      await coll.insertMany(
        Array.from({ length: 40 }, (_, i) => ({
          owner: owners[i % 2],
          createdAt: new Date(base + i * 1000),
          i,
        })),
      );
      const page = await coll.find({ owner: owners[1] }).sort({ createdAt: -1 }).limit(5).toArray();
      expect(page.map((d) => d.i)).toEqual([39, 37, 35, 33, 31]);
      const ranged = await coll.countDocuments({
        owner: owners[0],
        createdAt: { $gte: new Date(base + 10_000) },
      });
      expect(ranged).toBe(15);
    });
  });

  describe('sorted reads over an index agree with the same reads without one', () => {
    const owners = [new ObjectId(), new ObjectId(), new ObjectId()];
    const base = Date.UTC(2024, 5, 1);
    const indexed = () => h.db.collection<AnyDoc>('ordered_indexed');
    const plain = () => h.db.collection<AnyDoc>('ordered_plain');
    const ids = (docs: AnyDoc[]) => docs.map((d) => d.i);

    beforeAll(async () => {
      // Distinct dates, so that no order depends on how ties are broken.
      const docs = Array.from({ length: 60 }, (_, i) => ({
        i,
        owner: owners[i % 3],
        done: i % 4 === 0,
        ...(i === 2 ? {} : { createdAt: new Date(base + ((i * 37) % 60) * 60_000) }),
      }));
      await indexed().createIndex({ owner: 1, createdAt: -1 });
      await indexed().createIndex({ createdAt: 1 });
      await indexed().insertMany(docs.map((d) => ({ ...d })));
      await plain().insertMany(docs.map((d) => ({ ...d })));
    });

    const both = async (
      filter: Filter<AnyDoc>,
      sort: Sort,
      opts: { skip?: number; limit?: number } = {},
    ) => {
      const run = (c: typeof indexed) =>
        c()
          .find(filter)
          .sort(sort)
          .skip(opts.skip ?? 0)
          .limit(opts.limit ?? 0)
          .toArray();
      const [a, b] = await Promise.all([run(indexed), run(plain)]);
      expect(ids(a)).toEqual(ids(b));
      return ids(a);
    };

    it('pages an owner newest first and oldest first', async () => {
      expect(await both({ owner: owners[0] }, { createdAt: -1 }, { limit: 5 })).toHaveLength(5);
      await both({ owner: owners[0] }, { createdAt: 1 }, { skip: 3, limit: 4 });
      await both({ owner: owners[1] }, { createdAt: -1 });
    });

    it('applies further conditions while walking the index', async () => {
      await both({ owner: owners[0], done: false }, { createdAt: -1 }, { limit: 5 });
      await both(
        { owner: owners[1], createdAt: { $lt: new Date(base + 30 * 60_000) } },
        { createdAt: -1 },
        { limit: 3 },
      );
    });

    it('sorts the whole collection by an indexed field in either direction', async () => {
      await both({}, { createdAt: -1 }, { limit: 7 });
      await both({}, { createdAt: 1 }, { limit: 7 });
      await both({ createdAt: { $gte: new Date(base + 50 * 60_000) } }, { createdAt: 1 });
    });

    it('sorts missing values first in ascending order', async () => {
      const first = await both({ owner: owners[2] }, { createdAt: 1 }, { limit: 1 });
      expect(first).toEqual([2]);
    });

    it('merges several owners and stays right after updates and deletes', async () => {
      await both({ owner: { $in: [owners[0], owners[2]] } }, { createdAt: -1 }, { limit: 6 });
      for (const c of [indexed(), plain()]) {
        await c.updateMany({ i: { $in: [3, 6, 9] } }, { $set: { createdAt: new Date(base - 1) } });
        await c.deleteMany({ i: { $in: [12, 15] } });
        await c.insertOne({ i: 100, owner: owners[0], createdAt: new Date(base + 3_600_000) });
      }
      const page = await both({ owner: owners[0] }, { createdAt: -1 }, { limit: 3 });
      expect(page[0]).toBe(100);
      await both({ owner: owners[0] }, { createdAt: 1 }, { limit: 4 });
    });
  });

  describe('hint', () => {
    const hintMessage = /hint provided does not correspond to an existing index/;

    it('answers BadValue when the hint names no index', async () => {
      const coll = fresh('hint_missing');
      await coll.insertMany([{ _id: 1, a: 1 }]);
      await coll.createIndex({ a: 1 });
      // Thunks: each operation starts only when awaited, so none rejects unobserved.
      const failures = [
        () => coll.find({ a: 1 }).hint('nope').toArray(),
        () => coll.find({ a: 1 }).hint({ a: -1 }).toArray(),
        () => coll.aggregate([{ $match: { a: 1 } }], { hint: { b: 1 } }).toArray(),
        () => h.db.command({ count: coll.collectionName, query: { a: 1 }, hint: 'nope' }),
        () => coll.updateOne({ a: 1 }, { $set: { b: 1 } }, { hint: 'nope' }),
        () => coll.deleteOne({ a: 1 }, { hint: { b: 1 } }),
        () => coll.findOneAndUpdate({ a: 1 }, { $set: { b: 1 } }, { hint: { b: 1 } }),
      ];
      for (const failure of failures) {
        const err = await serverError(failure());
        expect(err).toMatchObject({ code: 2 });
        expect(String(err.message)).toMatch(hintMessage);
      }
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
    });

    it('accepts a hint by index name or key pattern, and $natural', async () => {
      const coll = fresh('hint_ok');
      await coll.insertMany([
        { _id: 1, a: 2 },
        { _id: 2, a: 1 },
        { _id: 3, a: 3 },
      ]);
      await coll.createIndex({ a: 1 });
      const ids = (docs: AnyDoc[]) => docs.map((d) => d._id);
      expect(
        ids(
          await coll
            .find({ a: { $gte: 2 } })
            .hint('a_1')
            .sort({ _id: 1 })
            .toArray(),
        ),
      ).toEqual([1, 3]);
      expect(ids(await coll.find({}).hint({ _id: 1 }).sort({ a: 1 }).toArray())).toEqual([2, 1, 3]);
      expect(ids(await coll.find({}).hint({ $natural: -1 }).toArray())).toEqual([3, 2, 1]);
      expect(await coll.countDocuments({ a: 1 }, { hint: '_id_' })).toBe(1);
      await coll.updateOne({ a: 1 }, { $set: { seen: true } }, { hint: { a: 1 } });
      expect(await coll.findOne({ _id: 2 })).toEqual({ _id: 2, a: 1, seen: true });
    });

    it('answers from a hinted sparse index only with the documents it holds', async () => {
      const coll = fresh('hint_sparse');
      await coll.insertMany([{ _id: 1, a: 1 }, { _id: 2 }, { _id: 3, a: null }]);
      await coll.createIndex({ a: 1 }, { sparse: true });
      const hinted = await coll.find({}).hint({ a: 1 }).sort({ _id: 1 }).toArray();
      expect(hinted.map((d) => d._id)).toEqual([1, 3]);
      expect(await coll.countDocuments({})).toBe(3);
    });
  });

  describe('TTL indexes', () => {
    // A real mongod runs its TTL monitor every 60 s; the embedded server in tests every 200 ms.
    const waitMs = isEmbedded ? 5_000 : 80_000;

    it(
      'deletes documents whose date has expired, and only those',
      async () => {
        const coll = fresh('ttl');
        await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
        await coll.insertMany([
          { _id: 'past', expiresAt: new Date(Date.now() - 60_000) },
          { _id: 'future', expiresAt: new Date(Date.now() + 3_600_000) },
          { _id: 'not-a-date', expiresAt: 'tomorrow' },
          { _id: 'no-field' },
        ]);
        const deadline = Date.now() + waitMs;
        while ((await coll.countDocuments({ _id: 'past' })) > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, isEmbedded ? 50 : 1000));
        }
        const left = (await coll.find().sort({ _id: 1 }).toArray()).map((d) => d._id);
        expect(left).toEqual(['future', 'no-field', 'not-a-date']);
      },
      waitMs + 10_000,
    );
  });
});

describeEmbeddedOnly('index refusals of the embedded server', () => {
  const h = useDriver();

  it("refuses a hint naming a partial index, whose use mongod's planner decides", async () => {
    const coll = h.db.collection<AnyDoc>('hint_partial');
    await coll.insertMany([{ a: 1 }, { a: 5 }]);
    await coll.createIndex({ a: 1 }, { partialFilterExpression: { a: { $gt: 2 } } });
    const err = await serverError(
      coll
        .find({ a: { $gt: 3 } })
        .hint({ a: 1 })
        .toArray(),
    );
    expect(err).toMatchObject({ code: 115, codeName: 'CommandNotSupported' });
  });
});

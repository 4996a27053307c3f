import { type Filter, ObjectId, type Sort } from 'mongodb';

import { serverError, useDriver, type AnyDoc } from './harness';

describe('CRUD commands through the official driver', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  describe('insert', () => {
    it('answers { n, ok } and stores the documents', async () => {
      const name = `insert_${++seq}`;
      const reply = await h.db.command({
        insert: name,
        documents: [
          { _id: 1, a: 'x' },
          { _id: 2, a: 'y' },
        ],
      });
      expect(reply).toMatchObject({ n: 2, ok: 1 });
      expect(reply.writeErrors).toBeUndefined();
      expect(await h.db.collection<AnyDoc>(name).find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, a: 'x' },
        { _id: 2, a: 'y' },
      ]);
    });

    it('generates an ObjectId _id, stored as the first field, when the document has none', async () => {
      const name = `insert_${++seq}`;
      await h.db.command({ insert: name, documents: [{ a: 1, b: 2 }] });
      const [doc] = await h.db.collection<AnyDoc>(name).find().toArray();
      expect(doc._id).toBeInstanceOf(ObjectId);
      expect(Object.keys(doc)).toEqual(['_id', 'a', 'b']);
    });

    it('stops an ordered batch at the first write error', async () => {
      const name = `insert_${++seq}`;
      const reply = await h.db.command({
        insert: name,
        documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }],
        ordered: true,
      });
      expect(reply.n).toBe(1);
      expect(reply.writeErrors).toHaveLength(1);
      expect(reply.writeErrors[0]).toMatchObject({ index: 1, code: 11000 });
      expect(await h.db.collection<AnyDoc>(name).countDocuments()).toBe(1);
    });

    it('continues an unordered batch past write errors and reports each one', async () => {
      const name = `insert_${++seq}`;
      const reply = await h.db.command({
        insert: name,
        documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }],
        ordered: false,
      });
      expect(reply.n).toBe(2);
      expect(reply.writeErrors.map((e: { index: number }) => e.index)).toEqual([1, 3]);
      expect(await h.db.collection<AnyDoc>(name).distinct('_id')).toEqual([1, 2]);
    });

    it('creates the collection implicitly', async () => {
      const coll = fresh('implicit');
      await coll.insertOne({ a: 1 });
      const names = (await h.db.listCollections({}, { nameOnly: true }).toArray()).map(
        (c) => c.name,
      );
      expect(names).toContain(coll.collectionName);
    });
  });

  describe('find', () => {
    const people = [
      { _id: 1, name: 'ann', age: 31, city: 'Oslo', tags: ['a', 'b'], address: { zip: '0150' } },
      { _id: 2, name: 'bob', age: 25, city: 'Rome', tags: ['b'], address: { zip: '00100' } },
      { _id: 3, name: 'cid', age: 42, city: 'Oslo', tags: [], address: null },
      { _id: 4, name: 'dan', age: 25, city: 'Lima' },
      {
        _id: 5,
        name: 'eve',
        age: 37,
        city: 'Rome',
        tags: ['c', 'a'],
        scores: [{ s: 3 }, { s: 9 }],
      },
    ];
    const coll = () => h.db.collection<AnyDoc>('people');
    beforeAll(async () => {
      await coll().insertMany(people);
    });
    const ids = async (filter: Filter<AnyDoc>, sort: Sort = { _id: 1 }) =>
      (await coll().find(filter).sort(sort).toArray()).map((d) => d._id);

    it('matches equality, ranges and logical operators', async () => {
      expect(await ids({ city: 'Oslo' })).toEqual([1, 3]);
      expect(await ids({ age: { $gte: 31, $lt: 42 } })).toEqual([1, 5]);
      expect(await ids({ $or: [{ city: 'Lima' }, { age: 42 }] })).toEqual([3, 4]);
      expect(await ids({ city: { $in: ['Rome', 'Lima'] }, age: { $ne: 37 } })).toEqual([2, 4]);
      expect(await ids({ name: { $regex: '^[ab]' } })).toEqual([1, 2]);
      expect(await ids({ $nor: [{ city: 'Oslo' }, { city: 'Rome' }] })).toEqual([4]);
    });

    it('matches array elements, dotted paths and $elemMatch', async () => {
      expect(await ids({ tags: 'a' })).toEqual([1, 5]);
      expect(await ids({ tags: { $all: ['a', 'b'] } })).toEqual([1]);
      expect(await ids({ tags: { $size: 0 } })).toEqual([3]);
      expect(await ids({ 'address.zip': '00100' })).toEqual([2]);
      expect(await ids({ scores: { $elemMatch: { s: { $gt: 5 } } } })).toEqual([5]);
      expect(await ids({ 'scores.s': 3 })).toEqual([5]);
    });

    it('negates over every array element and matches missing fields', async () => {
      expect(await ids({ tags: { $ne: 'a' } })).toEqual([2, 3, 4]);
      expect(await ids({ tags: { $nin: ['a', 'b'] } })).toEqual([3, 4]);
      expect(await ids({ age: { $not: { $gt: 30 } } })).toEqual([2, 4]);
      expect(await ids({ name: { $not: /^[a-c]/ } })).toEqual([4, 5]);
    });

    it('treats null as matching missing fields, and $exists as presence', async () => {
      expect(await ids({ address: null })).toEqual([3, 4, 5]);
      expect(await ids({ address: { $exists: true } })).toEqual([1, 2, 3]);
      expect(await ids({ tags: { $exists: false } })).toEqual([4]);
      expect(await ids({ address: { $ne: null } })).toEqual([1, 2]);
    });

    it('sorts on several keys, with skip and limit', async () => {
      const docs = await coll().find({}).sort({ age: 1, name: -1 }).skip(1).limit(3).toArray();
      expect(docs.map((d) => d.name)).toEqual(['bob', 'ann', 'eve']);
    });

    it('scans in reverse insertion order for { $natural: -1 }', async () => {
      const coll = fresh('natural');
      await coll.insertMany([{ _id: 'b' }, { _id: 'c' }, { _id: 'a' }]);
      const docs = await coll.find().sort({ $natural: -1 }).toArray();
      expect(docs.map((d) => d._id)).toEqual(['a', 'c', 'b']);
    });

    it('applies inclusion and exclusion projections', async () => {
      const included = await coll().findOne(
        { _id: 1 },
        { projection: { name: 1, 'address.zip': 1 } },
      );
      expect(included).toEqual({ _id: 1, name: 'ann', address: { zip: '0150' } });
      const excluded = await coll().findOne(
        { _id: 2 },
        { projection: { _id: 0, tags: 0, address: 0 } },
      );
      expect(excluded).toEqual({ name: 'bob', age: 25, city: 'Rome' });
      const sliced = await coll().findOne(
        { _id: 5 },
        { projection: { tags: { $slice: 1 }, _id: 0, name: 1 } },
      );
      expect(sliced).toEqual({ name: 'eve', tags: ['c'] });
    });

    it('keeps _id first and document order in an inclusion projection', async () => {
      const doc = await coll().findOne({ _id: 1 }, { projection: { city: 1, name: 1 } });
      expect(Object.keys(doc ?? {})).toEqual(['_id', 'name', 'city']);
    });

    it('evaluates $expr filters and computed projections', async () => {
      expect(await ids({ $expr: { $gt: ['$age', 35] } })).toEqual([3, 5]);
      const doc = await coll().findOne(
        { _id: 1 },
        { projection: { _id: 0, upper: { $toUpper: '$name' } } },
      );
      expect(doc).toEqual({ upper: 'ANN' });
    });

    it('returns an empty result for a collection that does not exist', async () => {
      expect(await h.db.collection<AnyDoc>('nothing_here').find({}).toArray()).toEqual([]);
    });
  });

  describe('update', () => {
    it('applies update operators and answers { n, nModified }', async () => {
      const coll = fresh('ops');
      await coll.insertOne({
        _id: 1,
        a: 1,
        b: 'x',
        r: 'y',
        list: [1, 2, 3],
        gone: true,
        m: 5,
        lo: 10,
      });
      const reply = await h.db.command({
        update: coll.collectionName,
        updates: [
          {
            q: { _id: 1 },
            u: {
              $set: { b: 'y', 'nested.deep': 1 },
              $inc: { a: 2 },
              $unset: { gone: '' },
              $push: { list: 4 },
              $pull: { tags: 'none' },
              $mul: { m: 3 },
              $min: { lo: 7 },
              $rename: { r: 'renamed' },
            },
          },
        ],
      });
      expect(reply).toMatchObject({ n: 1, nModified: 1, ok: 1 });
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        a: 3,
        b: 'y',
        list: [1, 2, 3, 4],
        m: 15,
        lo: 7,
        nested: { deep: 1 },
        renamed: 'y',
      });
    });

    it('counts a match that changes nothing as matched but not modified', async () => {
      const coll = fresh('noop');
      await coll.insertOne({ _id: 1, a: 1 });
      const result = await coll.updateOne({ _id: 1 }, { $set: { a: 1 } });
      expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    });

    it('adds to sets only once and supports $each with $slice', async () => {
      const coll = h.db.collection<{ _id: number; tags: string[]; recent: number[] }>(
        `sets_${++seq}`,
      );
      await coll.insertOne({ _id: 1, tags: ['a'], recent: [1, 2] });
      await coll.updateOne({ _id: 1 }, { $addToSet: { tags: { $each: ['a', 'b'] } } });
      await coll.updateOne(
        { _id: 1 },
        {
          $push: { recent: { $each: [3, 4], $slice: -3 } },
        },
      );
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        tags: ['a', 'b'],
        recent: [2, 3, 4],
      });
    });

    it('builds a missing array from $push modifiers and $addToSet without duplicates', async () => {
      const coll = h.db.collection<{ _id: number; recent?: number[]; tags?: string[] }>(
        `missing_arrays_${++seq}`,
      );
      await coll.insertOne({ _id: 1 });
      await coll.updateOne(
        { _id: 1 },
        {
          $push: { recent: { $each: [5, 1, 4, 2], $sort: 1, $slice: 3 } },
          $addToSet: { tags: { $each: ['a', 'a', 'b'] } },
        },
      );
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        recent: [1, 2, 4],
        tags: ['a', 'b'],
      });
    });

    it('answers an error when the positional operator finds no array match', async () => {
      const coll = fresh('positional_miss');
      await coll.insertOne({ _id: 1, items: [1, 2] });
      const err = await serverError(coll.updateOne({ _id: 1 }, { $set: { 'items.$': 9 } }));
      expect(err).toMatchObject({ code: 2 });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, items: [1, 2] });
    });

    it('updates array elements through the positional operator and arrayFilters', async () => {
      const coll = fresh('positional');
      await coll.insertOne({
        _id: 1,
        items: [
          { k: 'a', n: 1 },
          { k: 'b', n: 1 },
          { k: 'c', n: 5 },
        ],
      });
      await coll.updateOne({ _id: 1, 'items.k': 'b' }, { $set: { 'items.$.n': 2 } });
      await coll.updateOne(
        { _id: 1 },
        { $inc: { 'items.$[big].n': 10 } },
        { arrayFilters: [{ 'big.n': { $gte: 5 } }] },
      );
      const doc = await coll.findOne({ _id: 1 });
      expect(doc?.items).toEqual([
        { k: 'a', n: 1 },
        { k: 'b', n: 2 },
        { k: 'c', n: 15 },
      ]);
    });

    it('replaces a whole document but keeps its _id', async () => {
      const coll = fresh('replace');
      await coll.insertOne({ _id: 7, a: 1, b: 2 });
      await coll.replaceOne({ _id: 7 }, { c: 3 });
      expect(await coll.findOne({ _id: 7 })).toEqual({ _id: 7, c: 3 });
    });

    it('updates every match with multi and only the first without', async () => {
      const coll = fresh('multi');
      await coll.insertMany([{ g: 1 }, { g: 1 }, { g: 1 }]);
      expect((await coll.updateOne({ g: 1 }, { $set: { seen: true } })).modifiedCount).toBe(1);
      expect((await coll.updateMany({ g: 1 }, { $set: { seen: true } })).modifiedCount).toBe(2);
      expect(await coll.countDocuments({ seen: true })).toBe(3);
    });

    it('upserts from the filter equalities plus $setOnInsert and reports upserted', async () => {
      const coll = fresh('upsert');
      const reply = await h.db.command({
        update: coll.collectionName,
        updates: [
          {
            q: { email: 'a@b.c', 'profile.lang': 'en', age: { $gt: 3 } },
            u: { $set: { name: 'A' }, $setOnInsert: { createdBy: 'upsert' } },
            upsert: true,
          },
        ],
      });
      expect(reply).toMatchObject({ n: 1, nModified: 0, ok: 1 });
      expect(reply.upserted).toEqual([{ index: 0, _id: expect.any(ObjectId) }]);
      const doc = await coll.findOne({ _id: reply.upserted[0]._id });
      expect(doc).toEqual({
        _id: reply.upserted[0]._id,
        email: 'a@b.c',
        profile: { lang: 'en' },
        name: 'A',
        createdBy: 'upsert',
      });
    });

    it('ignores $setOnInsert when the upsert matches an existing document', async () => {
      const coll = fresh('upsert_existing');
      await coll.insertOne({ _id: 1, email: 'x' });
      await coll.updateOne(
        { email: 'x' },
        { $set: { seen: 1 }, $setOnInsert: { createdBy: 'upsert' } },
        { upsert: true },
      );
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, email: 'x', seen: 1 });
    });

    it('uses the filter _id for an upserted replacement', async () => {
      const coll = fresh('upsert_replace');
      await coll.replaceOne({ _id: 'fixed' }, { v: 1 }, { upsert: true });
      expect(await coll.findOne({})).toEqual({ _id: 'fixed', v: 1 });
    });
  });

  describe('delete', () => {
    it('deletes one match with limit 1 and all matches with limit 0', async () => {
      const coll = fresh('delete');
      await coll.insertMany([{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }]);
      const one = await h.db.command({
        delete: coll.collectionName,
        deletes: [{ q: { k: 1 }, limit: 1 }],
      });
      expect(one).toMatchObject({ n: 1, ok: 1 });
      const all = await h.db.command({
        delete: coll.collectionName,
        deletes: [{ q: { k: 1 }, limit: 0 }],
      });
      expect(all).toMatchObject({ n: 2, ok: 1 });
      expect(await coll.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ k: 2 }]);
    });
  });

  describe('findAndModify', () => {
    it('returns the document before or after the update, per the new flag', async () => {
      const coll = fresh('fam');
      await coll.insertOne({ _id: 1, n: 1 });
      const before = await h.db.command({
        findAndModify: coll.collectionName,
        query: { _id: 1 },
        update: { $inc: { n: 1 } },
      });
      expect(before).toMatchObject({
        lastErrorObject: { n: 1, updatedExisting: true },
        value: { _id: 1, n: 1 },
        ok: 1,
      });
      const after = await h.db.command({
        findAndModify: coll.collectionName,
        query: { _id: 1 },
        update: { $inc: { n: 1 } },
        new: true,
        fields: { _id: 0 },
      });
      expect(after.value).toEqual({ n: 3 });
    });

    it('picks the first document in sort order', async () => {
      const coll = fresh('fam_sort');
      await coll.insertMany([
        { p: 2, job: 'b' },
        { p: 9, job: 'a' },
        { p: 5, job: 'c' },
      ]);
      const claimed = await coll.findOneAndUpdate(
        { taken: { $exists: false } },
        { $set: { taken: true } },
        { sort: { p: -1 }, returnDocument: 'after' },
      );
      expect(claimed).toMatchObject({ job: 'a', taken: true });
    });

    it('upserts and reports the new _id in lastErrorObject', async () => {
      const coll = fresh('fam_upsert');
      const reply = await h.db.command({
        findAndModify: coll.collectionName,
        query: { key: 'k' },
        update: { $set: { v: 1 } },
        upsert: true,
        new: true,
      });
      expect(reply.lastErrorObject).toEqual({
        n: 1,
        updatedExisting: false,
        upserted: reply.value._id,
      });
      expect(reply.value).toMatchObject({ key: 'k', v: 1 });
    });

    it('answers a null value when nothing matches and nothing is upserted', async () => {
      const coll = fresh('fam_none');
      const reply = await h.db.command({
        findAndModify: coll.collectionName,
        query: { key: 'missing' },
        update: { $set: { v: 1 } },
      });
      expect(reply).toMatchObject({
        lastErrorObject: { n: 0, updatedExisting: false },
        value: null,
      });
    });

    it('removes and returns the removed document', async () => {
      const coll = fresh('fam_remove');
      await coll.insertOne({ _id: 1, a: 1 });
      const reply = await h.db.command({
        findAndModify: coll.collectionName,
        query: { _id: 1 },
        remove: true,
      });
      expect(reply).toMatchObject({ lastErrorObject: { n: 1 }, value: { _id: 1, a: 1 } });
      expect(await coll.countDocuments()).toBe(0);
    });

    it('refuses remove together with an update', async () => {
      const coll = fresh('fam_bad');
      const err = await serverError(
        h.db.command({
          findAndModify: coll.collectionName,
          query: {},
          remove: true,
          update: { $set: { a: 1 } },
        }),
      );
      expect(err.ok).toBe(0);
      expect(typeof err.code).toBe('number');
    });
  });

  describe('count and distinct', () => {
    it('counts with a query, skip and limit', async () => {
      const coll = fresh('count');
      await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ i, even: i % 2 === 0 })));
      expect(await h.db.command({ count: coll.collectionName })).toMatchObject({ n: 10, ok: 1 });
      expect(
        await h.db.command({ count: coll.collectionName, query: { even: true } }),
      ).toMatchObject({ n: 5 });
      expect(
        await h.db.command({ count: coll.collectionName, query: {}, skip: 8, limit: 5 }),
      ).toMatchObject({ n: 2 });
      expect(await coll.estimatedDocumentCount()).toBe(10);
      expect(await coll.countDocuments({ i: { $gte: 7 } })).toBe(3);
    });

    it('lists distinct values, unwinding arrays and honouring the query', async () => {
      const coll = fresh('distinct');
      await coll.insertMany([
        { c: 'x', tags: ['a', 'b'] },
        { c: 'y', tags: ['b', 'c'] },
        { c: 'x', tags: 'd' },
        { c: 'z' },
      ]);
      const reply = await h.db.command({ distinct: coll.collectionName, key: 'c' });
      expect(reply.ok).toBe(1);
      expect([...reply.values].sort()).toEqual(['x', 'y', 'z']);
      expect((await coll.distinct('tags')).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect((await coll.distinct('tags', { c: 'x' })).sort()).toEqual(['a', 'b', 'd']);
    });
  });
});

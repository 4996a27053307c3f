import { Binary, DBRef, Double, MongoClient } from 'mongodb';

import { describeEmbeddedOnly, serverError, useDriver, type AnyDoc } from './harness';

/** A value read with `promoteValues: false`: its BSON class and numeric value. */
const typed = (v: unknown) => [(v as { _bsontype?: string })?._bsontype, Number(v)];

/**
 * Behaviour where the embedded server used to differ from MongoDB 7 without saying so (a wrong
 * answer, or an error for a request mongod accepts). Expectations follow mongod's documented
 * behaviour, so the suite passes against a real MongoDB too.
 */
describe('MongoDB 7 semantics', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  describe('$pull', () => {
    it('removes the elements matching a condition with a top-level $or or $and', async () => {
      const coll = fresh('pull_logical');
      const items = [
        { a: 1, b: 1 },
        { a: 2, b: 2 },
        { a: 3, b: 3 },
        { a: 4, b: 1 },
      ];
      await coll.insertMany([
        { _id: 1, items },
        { _id: 2, items },
      ]);
      const or = await coll.updateOne({ _id: 1 }, {
        $pull: { items: { $or: [{ a: 1 }, { b: 3 }] } },
      } as never);
      expect(or.modifiedCount).toBe(1);
      const and = await coll.updateOne({ _id: 2 }, {
        $pull: { items: { $and: [{ a: { $gte: 2 } }, { b: { $lte: 2 } }] } },
      } as never);
      expect(and.modifiedCount).toBe(1);
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        {
          _id: 1,
          items: [
            { a: 2, b: 2 },
            { a: 4, b: 1 },
          ],
        },
        {
          _id: 2,
          items: [
            { a: 1, b: 1 },
            { a: 3, b: 3 },
          ],
        },
      ]);
    });

    it('tests elements with path operators, partial documents and equality', async () => {
      const coll = fresh('pull_forms');
      await coll.insertOne({
        _id: 1,
        nums: [1, 2, 3, 4, [3]],
        items: [{ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 3 }, 'b'],
        words: ['x', 'y', 'xy'],
      });
      await coll.updateOne({ _id: 1 }, {
        $pull: { nums: { $gte: 3 }, items: { b: 1 }, words: /^x/ },
      } as never);
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        nums: [1, 2],
        items: [{ a: 3 }, 'b'],
        words: ['y'],
      });
    });
  });

  describe('projection', () => {
    it('returns every field, the array sliced, for a projection holding only $slice', async () => {
      const coll = fresh('slice_only');
      await coll.insertOne({ _id: 1, a: 'x', arr: [1, 2, 3, 4], b: { c: 1 } });
      expect(await coll.findOne({}, { projection: { arr: { $slice: 2 } } })).toEqual({
        _id: 1,
        a: 'x',
        arr: [1, 2],
        b: { c: 1 },
      });
      expect(await coll.findOne({}, { projection: { arr: { $slice: [-2, 1] } } })).toEqual({
        _id: 1,
        a: 'x',
        arr: [3],
        b: { c: 1 },
      });
    });

    it('applies $slice next to an exclusion', async () => {
      const coll = fresh('slice_exclusion');
      await coll.insertOne({ _id: 1, a: 'x', arr: [1, 2, 3], b: 2 });
      expect(await coll.findOne({}, { projection: { arr: { $slice: -1 }, b: 0 } })).toEqual({
        _id: 1,
        a: 'x',
        arr: [3],
      });
    });

    it('applies $slice next to an inclusion', async () => {
      const coll = fresh('slice_inclusion');
      await coll.insertOne({ _id: 1, a: 'x', arr: [1, 2, 3], b: 2 });
      expect(await coll.findOne({}, { projection: { arr: { $slice: 1 }, a: 1 } })).toEqual({
        _id: 1,
        a: 'x',
        arr: [1],
      });
    });

    it('projects $elemMatch with an operator-only condition on scalars', async () => {
      const coll = fresh('elem_match_scalars');
      await coll.insertMany([
        { _id: 1, arr: [1, 6, 7], a: 1 },
        { _id: 2, arr: [1, 2], a: 2 },
      ]);
      const docs = await coll
        .find({}, { projection: { arr: { $elemMatch: { $gt: 5 } } } })
        .sort({ _id: 1 })
        .toArray();
      expect(docs).toEqual([{ _id: 1, arr: [6] }, { _id: 2 }]);
    });
  });

  describe('updates', () => {
    it('stores a Binary whose subtype alone changed', async () => {
      const coll = fresh('binary_subtype');
      const bytes = Buffer.from([1, 2, 3]);
      await coll.insertOne({ _id: 1, bin: new Binary(bytes, 0) });
      const result = await coll.updateOne({ _id: 1 }, { $set: { bin: new Binary(bytes, 0x80) } });
      expect(result.modifiedCount).toBe(1);
      const doc = await coll.findOne({ _id: 1 });
      expect((doc?.bin as Binary).sub_type).toBe(0x80);
    });

    it('stores an object holding its own __proto__ key, without polluting prototypes', async () => {
      const coll = fresh('proto_key');
      await coll.insertOne({ _id: 1 });
      const value = JSON.parse('{"__proto__": {"polluted": 1}, "y": 2}') as Record<string, unknown>;
      await coll.updateOne({ _id: 1 }, { $set: { obj: value } });
      const doc = await coll.findOne({ _id: 1 });
      const obj = doc?.obj as Record<string, unknown>;
      expect(Object.keys(obj)).toEqual(['__proto__', 'y']);
      expect(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value).toEqual({ polluted: 1 });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await coll.countDocuments({ 'obj.__proto__.polluted': 1 })).toBe(1);
    });

    it('sets two fields of the element matched by the positional operator', async () => {
      const coll = fresh('positional_fields');
      await coll.insertOne({
        _id: 1,
        a: [
          { k: 1, x: 0 },
          { k: 2, x: 0 },
        ],
      });
      await coll.updateOne({ _id: 1, 'a.k': 2 }, { $set: { 'a.$.x': 5, 'a.$.y': 6 } });
      await coll.updateOne({ _id: 1 }, { $set: { 'a.$[].z': 1, 'a.$[].w': 2 } });
      await coll.updateOne(
        { _id: 1 },
        { $set: { 'a.$[e].x': 9, 'a.$[e].v': 8 } },
        { arrayFilters: [{ 'e.k': 1 }] },
      );
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        a: [
          { k: 1, x: 9, z: 1, w: 2, v: 8 },
          { k: 2, x: 5, y: 6, z: 1, w: 2 },
        ],
      });
    });

    it('still answers a real conflict between positional paths', async () => {
      const coll = fresh('positional_conflict');
      await coll.insertOne({ _id: 1, a: [{ k: 1, x: { y: 1 } }] });
      const err = await serverError(
        coll.updateOne({ _id: 1, 'a.k': 1 }, { $set: { 'a.$.x': 5, 'a.$.x.y': 6 } }),
      );
      expect(err).toMatchObject({ code: 40 });
      const same = await serverError(
        coll.updateOne({ _id: 1 }, { $set: { 'a.$[].x': 5 }, $unset: { 'a.$[].x': 1 } }),
      );
      expect(same).toMatchObject({ code: 40 });
    });

    it('replaces the document with $replaceWith and $replaceRoot in a pipeline update, keeping _id', async () => {
      const coll = fresh('pipeline_replace');
      await coll.insertMany([
        { _id: 1, a: 1, b: { c: 2, d: 3 } },
        { _id: 2, a: 1, b: { c: 4 } },
      ]);
      const replaced = await coll.updateOne({ _id: 1 }, [{ $replaceWith: '$b' }]);
      expect(replaced.modifiedCount).toBe(1);
      await coll.updateOne({ _id: 2 }, [
        { $replaceRoot: { newRoot: { $mergeObjects: [{ _id: '$_id', n: '$a' }, '$b'] } } },
      ]);
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, c: 2, d: 3 },
        { _id: 2, n: 1, c: 4 },
      ]);
    });

    it('refuses a pipeline update whose new root changes _id', async () => {
      const coll = fresh('pipeline_replace_id');
      await coll.insertOne({ _id: 1, b: { _id: 2 } });
      const err = await serverError(coll.updateOne({ _id: 1 }, [{ $replaceWith: '$b' }]));
      expect(err).toMatchObject({ code: 66 });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, b: { _id: 2 } });
    });

    it('accepts $-prefixed field names nested in an upsert $set and in a pipeline upsert', async () => {
      const coll = fresh('dollar_fields');
      await coll.updateOne(
        { _id: 1 },
        { $set: { obj: { $a: 1, nested: { $b: 2 } } } },
        { upsert: true },
      );
      await coll.insertOne({ _id: 2 });
      await coll.updateOne({ _id: 2 }, { $set: { obj: { $c: 3 } } });
      await coll.updateOne({ _id: 3 }, [{ $replaceWith: { $literal: { a: { $x: 1 } } } }], {
        upsert: true,
      });
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, obj: { $a: 1, nested: { $b: 2 } } },
        { _id: 2, obj: { $c: 3 } },
        { _id: 3, a: { $x: 1 } },
      ]);
    });
  });

  describe('$bits* query operators', () => {
    it('match BinData bit by bit, the first byte holding bits 0 to 7', async () => {
      const coll = fresh('bits_bindata');
      await coll.insertMany([
        { _id: 1, v: new Binary(Buffer.from([0b00000101, 0b00000001])) },
        { _id: 2, v: new Binary(Buffer.from([0b00000010])) },
        { _id: 3, v: 5 },
      ]);
      const ids = async (filter: AnyDoc) =>
        (await coll.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
      expect(await ids({ v: { $bitsAllSet: [0, 2] } })).toEqual([1, 3]);
      expect(await ids({ v: { $bitsAllSet: [0, 8] } })).toEqual([1]);
      expect(await ids({ v: { $bitsAnySet: [1, 9] } })).toEqual([2]);
      expect(await ids({ v: { $bitsAllClear: [1, 100] } })).toEqual([1, 3]);
      expect(await ids({ v: { $bitsAnyClear: [0, 2] } })).toEqual([2]);
      expect(await ids({ v: { $bitsAllSet: new Binary(Buffer.from([0b101])) } })).toEqual([1, 3]);
      expect(await ids({ v: { $bitsAnySet: 2 } })).toEqual([2]);
    });
  });

  describe('integral doubles', () => {
    it('keeps a double a double through storage, queries and replies', async () => {
      const coll = fresh('integral_double');
      await coll.insertMany([
        { _id: 1, v: new Double(42) },
        { _id: 2, v: 42 },
        { _id: 3, v: new Double(-0) },
      ]);
      const ids = async (filter: AnyDoc) =>
        (await coll.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
      expect(await ids({ v: { $type: 'double' } })).toEqual([1, 3]);
      expect(await ids({ v: { $type: 'int' } })).toEqual([2]);
      expect(await ids({ v: 42 })).toEqual([1, 2]);
      expect(await ids({ v: { $gt: 41.5 } })).toEqual([1, 2]);

      const raw = await coll.find({}, { promoteValues: false }).sort({ _id: 1 }).toArray();
      expect(raw.map((d) => (d.v as { _bsontype: string })._bsontype)).toEqual([
        'Double',
        'Int32',
        'Double',
      ]);

      await coll.updateOne({ _id: 2 }, { $set: { w: new Double(7) } });
      const updated = await coll.findOne({ _id: 2 }, { promoteValues: false });
      expect(typed(updated?.w)).toEqual(['Double', 7]);
      expect(typed(updated?.v)).toEqual(['Int32', 42]);

      const types = await coll
        .aggregate([{ $sort: { _id: 1 } }, { $project: { t: { $type: '$v' } } }])
        .toArray();
      expect(types.map((d) => d.t)).toEqual(['double', 'int', 'double']);
    });

    it('gives double results of arithmetic on doubles, integral ones included', async () => {
      const coll = fresh('double_arithmetic');
      await coll.insertMany([
        { _id: 1, v: 2, d: new Double(7) },
        { _id: 2, v: 4, d: new Double(-4) },
      ]);
      await coll.updateOne({ _id: 1 }, { $inc: { d: 1 }, $mul: { m: new Double(2) } });
      const updated = await coll.findOne({ _id: 1 }, { promoteValues: false });
      expect(typed(updated?.d)).toEqual(['Double', 8]);
      expect(typed(updated?.m)).toEqual(['Double', 0]);
      expect(await coll.countDocuments({ d: { $mod: [5, 3] } })).toBe(1);

      const [group] = await coll
        .aggregate([{ $group: { _id: null, avg: { $avg: '$v' } } }], { promoteValues: false })
        .toArray();
      expect(typed(group.avg)).toEqual(['Double', 3]);
      const projected = await coll
        .aggregate(
          [
            { $match: { _id: 1 } },
            {
              $project: {
                add: { $add: ['$d', 1] },
                quotient: { $divide: [6, 3] },
                asDouble: { $toDouble: 5 },
                sum: { $add: [1, 2] },
              },
            },
          ],
          { promoteValues: false },
        )
        .toArray();
      const [row] = projected;
      expect([row.add, row.quotient, row.asDouble, row.sum].map(typed)).toEqual([
        ['Double', 9],
        ['Double', 2],
        ['Double', 5],
        ['Int32', 3],
      ]);
    });

    it('reads flags and counts sent as doubles as numbers', async () => {
      const coll = fresh('double_flags');
      await coll.insertMany([
        { _id: 1, a: 1, arr: [1, 2, 3] },
        { _id: 2, a: 2, arr: [] },
      ]);
      const { cursor } = await h.db.command({
        find: coll.collectionName,
        projection: { a: new Double(1), arr: { $slice: new Double(1) } },
        sort: { _id: new Double(1) },
      });
      expect(cursor.firstBatch).toEqual([
        { _id: 1, a: 1, arr: [1] },
        { _id: 2, a: 2, arr: [] },
      ]);
      const excluded = await coll.find({}, { projection: { a: new Double(0) } }).toArray();
      expect(excluded.map((d) => Object.keys(d))).toEqual([
        ['_id', 'arr'],
        ['_id', 'arr'],
      ]);
    });
  });

  describe('let variables', () => {
    it('evaluates let expressions for find, aggregate, update, delete and findAndModify', async () => {
      const coll = fresh('let_vars');
      await coll.insertMany([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
        { _id: 3, a: 3 },
      ]);
      const one = { one: { $add: [0, 1] } };
      const found = await coll.find({ $expr: { $eq: ['$a', '$$one'] } }, { let: one }).toArray();
      expect(found.map((d) => d._id)).toEqual([1]);

      const [agg] = await coll
        .aggregate(
          [
            { $match: { $expr: { $eq: ['$a', '$$one'] } } },
            { $project: { one: '$$one', t: { $type: '$$now' } } },
          ],
          { let: { ...one, now: '$$NOW' } },
        )
        .toArray();
      expect(agg).toEqual({ _id: 1, one: 1, t: 'date' });

      await coll.updateOne({ $expr: { $eq: ['$a', '$$one'] } }, [{ $set: { b: '$$one' } }], {
        let: one,
      });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1, b: 1 });

      const modified = await coll.findOneAndUpdate(
        { $expr: { $eq: ['$a', { $add: ['$$one', 1] }] } },
        [{ $set: { c: '$$one' } }],
        { let: one, returnDocument: 'after' },
      );
      expect(modified).toEqual({ _id: 2, a: 2, c: 1 });

      const deleted = await coll.deleteOne(
        { $expr: { $eq: ['$a', { $add: ['$$one', 2] }] } },
        { let: one },
      );
      expect(deleted.deletedCount).toBe(1);
      expect(await coll.countDocuments()).toBe(2);
    });
  });

  describe('_id validation', () => {
    it('refuses an _id holding a $-prefixed field', async () => {
      const coll = fresh('dollar_id');
      const insert = await serverError(coll.insertOne({ _id: { $a: 1 } }));
      expect(insert).toMatchObject({ code: 52 });
      const upsert = await serverError(
        coll.replaceOne({ x: 1 }, { _id: { $b: 1 }, x: 1 } as AnyDoc, { upsert: true }),
      );
      expect(upsert).toMatchObject({ code: 52 });
      const setId = await serverError(
        coll.updateOne({ x: 1 }, { $set: { _id: { $c: 1 } } }, { upsert: true }),
      );
      expect(setId).toMatchObject({ code: 52 });
      const fromFilter = await serverError(
        coll.updateOne({ '_id.$gt': 1 }, { $set: { a: 1 } }, { upsert: true }),
      );
      expect(fromFilter).toMatchObject({ code: 52 });
      expect(await coll.countDocuments()).toBe(0);
      await coll.insertOne({ _id: { a: { b: 1 } } });
      expect(await coll.countDocuments()).toBe(1);
    });
  });

  describe('DBRef paths', () => {
    it('matches dotted paths through a DBRef', async () => {
      const coll = fresh('dbref_paths');
      await coll.insertMany([
        { _id: 1, ref: new DBRef('users', 5 as never) },
        { _id: 2, ref: new DBRef('groups', 6 as never, 'other') },
      ]);
      const ids = async (filter: AnyDoc) =>
        (await coll.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
      expect(await ids({ 'ref.$id': 5 })).toEqual([1]);
      expect(await ids({ 'ref.$ref': 'groups' })).toEqual([2]);
      expect(await ids({ 'ref.$db': 'other' })).toEqual([2]);
      expect(await ids({ 'ref.$id': { $gte: 5 } })).toEqual([1, 2]);
    });
  });

  describe('versioned API', () => {
    it('refuses a command outside API version 1 under apiStrict with APIStrictError', async () => {
      const client = new MongoClient(h.database.uri, {
        serverApi: { version: '1', strict: true },
      });
      try {
        await client.connect();
        const db = client.db(h.database.dbName);
        expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
        const err = await serverError(db.admin().command({ buildInfo: 1 }));
        expect(err).toMatchObject({ code: 323, codeName: 'APIStrictError' });
      } finally {
        await client.close();
      }
    });
  });

  describe('commands', () => {
    it('hides an index and changes its expireAfterSeconds with collMod', async () => {
      const coll = fresh('coll_mod');
      await coll.insertOne({ a: 1, d: new Date() });
      await coll.createIndex({ a: 1 });
      await coll.createIndex({ d: 1 }, { expireAfterSeconds: 3600 });
      const hide = await h.db.command({
        collMod: coll.collectionName,
        index: { name: 'a_1', hidden: true },
      });
      expect(hide).toMatchObject({ hidden_old: false, hidden_new: true, ok: 1 });
      const hinted = await serverError(coll.find({ a: 1 }).hint('a_1').toArray());
      expect(hinted).toMatchObject({ code: 2 });
      const ttl = await h.db.command({
        collMod: coll.collectionName,
        index: { keyPattern: { d: 1 }, expireAfterSeconds: 7200 },
      });
      expect(ttl).toMatchObject({ expireAfterSeconds_old: 3600, expireAfterSeconds_new: 7200 });
      const indexes = await coll.listIndexes().toArray();
      expect(indexes.find((i) => i.name === 'a_1')).toMatchObject({ hidden: true });
      expect(indexes.find((i) => i.name === 'd_1')).toMatchObject({ expireAfterSeconds: 7200 });
      const unhide = await h.db.command({
        collMod: coll.collectionName,
        index: { name: 'a_1', hidden: false },
      });
      expect(unhide).toMatchObject({ hidden_old: true, hidden_new: false, ok: 1 });
      const missing = await serverError(
        h.db.command({ collMod: coll.collectionName, index: { name: 'nope', hidden: true } }),
      );
      expect(missing).toMatchObject({ code: 27 });
    });

    it('sets a parameter with setParameter on the admin database', async () => {
      const admin = h.client.db('admin');
      const { logLevel } = await admin.command({ getParameter: 1, logLevel: 1 });
      const reply = await admin.command({ setParameter: 1, logLevel });
      expect(reply).toMatchObject({ was: logLevel, ok: 1 });
      const err = await serverError(h.db.command({ setParameter: 1, logLevel }));
      expect(err).toMatchObject({ code: 13 });
    });

    it('explains find, aggregate, count, update and delete without writing', async () => {
      const coll = fresh('explain');
      await coll.insertMany([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
        { _id: 3, a: 2 },
      ]);
      const find = await coll.find({ a: 2 }).explain('executionStats');
      expect(find.queryPlanner).toMatchObject({
        namespace: `${h.db.databaseName}.${coll.collectionName}`,
      });
      expect(find.queryPlanner.winningPlan).toBeDefined();
      expect(find.executionStats).toMatchObject({ executionSuccess: true, nReturned: 2 });

      const planner = await coll.find({ a: 2 }).explain('queryPlanner');
      expect(planner.queryPlanner.winningPlan).toBeDefined();
      expect(planner.executionStats).toBeUndefined();

      const agg = await coll.aggregate([{ $match: { a: 2 } }, { $count: 'n' }]).explain();
      const aggPlanner = agg.queryPlanner ?? agg.stages?.[0]?.$cursor?.queryPlanner;
      expect(aggPlanner).toBeDefined();

      const count = await h.db.command({
        explain: { count: coll.collectionName, query: { a: 2 } },
        verbosity: 'queryPlanner',
      });
      expect(count.queryPlanner.winningPlan).toBeDefined();

      const update = await h.db.command({
        explain: {
          update: coll.collectionName,
          updates: [{ q: { a: 2 }, u: { $set: { b: 1 } }, multi: true }],
        },
        verbosity: 'executionStats',
      });
      expect(update.queryPlanner.winningPlan).toBeDefined();
      expect(update.executionStats).toMatchObject({ executionSuccess: true });
      const del = await h.db.command({
        explain: { delete: coll.collectionName, deletes: [{ q: { a: 1 }, limit: 0 }] },
        verbosity: 'executionStats',
      });
      expect(del.queryPlanner.winningPlan).toBeDefined();
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
        { _id: 3, a: 2 },
      ]);
    });

    it('keeps CommandNotFound for names MongoDB does not have', async () => {
      const err = await serverError(h.db.command({ noSuchCommandAnywhere: 1 }));
      expect(err).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
    });
  });
});

describeEmbeddedOnly('refusals of MongoDB 7 features the embedded server lacks', () => {
  const h = useDriver();

  it('answers a MongoDB command it does not implement with CommandNotSupported, naming it', async () => {
    for (const command of [
      { mapReduce: 'c', map: 'function () {}', reduce: 'function () {}', out: { inline: 1 } },
      { validate: 'c' },
      { renameCollection: 'x.a', to: 'x.b' },
    ]) {
      const name = Object.keys(command)[0];
      const err = await serverError(h.db.command(command));
      expect(err).toMatchObject({ code: 115, codeName: 'CommandNotSupported' });
      expect(String(err.message)).toContain(name);
    }
  });

  it('refuses $$CLUSTER_TIME, which a standalone cannot provide', async () => {
    const coll = h.db.collection<AnyDoc>('cluster_time');
    await coll.insertOne({ _id: 1 });
    const err = await serverError(
      coll.aggregate([{ $project: { t: '$$CLUSTER_TIME' } }]).toArray(),
    );
    expect(err).toMatchObject({ code: 115 });
    const viaLet = await serverError(coll.find({}, { let: { t: '$$CLUSTER_TIME' } }).toArray());
    expect(viaLet).toMatchObject({ code: 115 });
  });

  it('refuses setParameter of a parameter it does not honour', async () => {
    const err = await serverError(
      h.client
        .db('admin')
        .command({ setParameter: 1, internalQueryFrameworkControl: 'forceClassicEngine' }),
    );
    expect(err).toMatchObject({ code: 115 });
  });
});

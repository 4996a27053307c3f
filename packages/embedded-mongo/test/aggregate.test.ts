import { ObjectId } from 'mongodb';

import { serverError, useDriver, type AnyDoc } from './harness';

describe('aggregate', () => {
  const h = useDriver();
  const alice = new ObjectId();
  const bob = new ObjectId();
  const orders = () => h.db.collection<AnyDoc>('orders');
  const customers = () => h.db.collection<AnyDoc>('customers');

  beforeAll(async () => {
    await customers().insertMany([
      { _id: alice, name: 'alice', tier: 'gold' },
      { _id: bob, name: 'bob', tier: 'silver' },
    ]);
    await orders().insertMany([
      { _id: 1, customer: alice, items: ['pen', 'ink'], total: 12, day: new Date('2024-01-01') },
      { _id: 2, customer: bob, items: ['pad'], total: 5, day: new Date('2024-01-02') },
      { _id: 3, customer: alice, items: ['pen'], total: 3, day: new Date('2024-01-03') },
      { _id: 4, customer: new ObjectId(), items: [], total: 7, day: new Date('2024-01-04') },
    ]);
  });

  it('answers a cursor reply shaped like find', async () => {
    const reply = await h.db.command({
      aggregate: 'orders',
      pipeline: [{ $match: { total: { $gt: 4 } } }, { $sort: { _id: 1 } }],
      cursor: {},
    });
    expect(reply).toMatchObject({
      cursor: { id: 0, ns: `${h.database.dbName}.orders` },
      ok: 1,
    });
    expect(reply.cursor.firstBatch.map((d: { _id: number }) => d._id)).toEqual([1, 2, 4]);
  });

  it('runs $match, $sort, $skip, $limit and $project', async () => {
    const docs = await orders()
      .aggregate([
        { $match: { total: { $gte: 3 } } },
        { $sort: { total: -1 } },
        { $skip: 1 },
        { $limit: 2 },
        { $project: { _id: 0, total: 1, count: { $size: '$items' } } },
      ])
      .toArray();
    expect(docs).toEqual([
      { total: 7, count: 0 },
      { total: 5, count: 1 },
    ]);
  });

  it('keeps _id first and the document order of included fields in $project', async () => {
    const [doc] = await orders()
      .aggregate([{ $match: { _id: 1 } }, { $project: { total: 1, items: 1 } }])
      .toArray();
    expect(Object.keys(doc)).toEqual(['_id', 'items', 'total']);
  });

  it('groups with accumulators and counts', async () => {
    const grouped = await orders()
      .aggregate([
        { $group: { _id: '$customer', spent: { $sum: '$total' }, n: { $sum: 1 } } },
        { $match: { n: { $gt: 1 } } },
      ])
      .toArray();
    expect(grouped).toEqual([{ _id: alice, spent: 15, n: 2 }]);
    const [counted] = await orders()
      .aggregate([{ $match: { items: 'pen' } }, { $count: 'withPens' }])
      .toArray();
    expect(counted).toEqual({ withPens: 2 });
  });

  it('answers $top and $bottom with the element itself', async () => {
    const [doc] = await orders()
      .aggregate([
        {
          $group: {
            _id: null,
            top: { $top: { sortBy: { total: -1 }, output: '$_id' } },
            bottom: { $bottom: { sortBy: { total: -1 }, output: ['$_id', '$total'] } },
          },
        },
      ])
      .toArray();
    expect(doc).toEqual({ _id: null, top: 1, bottom: [3, 3] });
  });

  it('drops the documents $redact prunes', async () => {
    const docs = await orders()
      .aggregate([
        { $redact: { $cond: [{ $gt: ['$total', 6] }, '$$KEEP', '$$PRUNE'] } },
        { $project: { _id: 1 } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([{ _id: 1 }, { _id: 4 }]);
  });

  it('unwinds arrays and adds fields', async () => {
    const docs = await orders()
      .aggregate([
        { $match: { _id: { $in: [1, 4] } } },
        { $unwind: { path: '$items', preserveNullAndEmptyArrays: true } },
        { $addFields: { big: { $gt: ['$total', 10] } } },
        { $project: { _id: 1, items: 1, big: 1 } },
        { $sort: { _id: 1, items: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 1, items: 'ink', big: true },
      { _id: 1, items: 'pen', big: true },
      { _id: 4, big: false },
    ]);
    expect(await orders().findOne({ _id: 4 })).toMatchObject({ items: [] });
  });

  it('never changes stored documents while reshaping them', async () => {
    const coll = h.db.collection<AnyDoc>('agg_nested');
    await coll.insertOne({ _id: 1, meta: { tags: ['a'] }, list: [] });
    const out = await coll
      .aggregate([
        { $addFields: { 'meta.seen': true } },
        { $unwind: { path: '$list', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } },
      ])
      .toArray();
    expect(out).toEqual([{ _id: 1, meta: { tags: ['a'], seen: true }, i: null }]);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, meta: { tags: ['a'] }, list: [] });
  });

  it('joins with $lookup on local and foreign fields', async () => {
    const docs = await orders()
      .aggregate([
        { $sort: { _id: 1 } },
        { $lookup: { from: 'customers', localField: 'customer', foreignField: '_id', as: 'who' } },
        { $project: { _id: 1, names: '$who.name' } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 1, names: ['alice'] },
      { _id: 2, names: ['bob'] },
      { _id: 3, names: ['alice'] },
      { _id: 4, names: [] },
    ]);
  });

  it('joins with a $lookup sub-pipeline', async () => {
    const docs = await customers()
      .aggregate([
        { $sort: { name: 1 } },
        {
          $lookup: {
            from: 'orders',
            let: { id: '$_id' },
            pipeline: [
              { $match: { $expr: { $eq: ['$customer', '$$id'] } } },
              { $group: { _id: null, total: { $sum: '$total' } } },
            ],
            as: 'stats',
          },
        },
        { $project: { _id: 0, name: 1, total: { $first: '$stats.total' } } },
      ])
      .toArray();
    expect(docs).toEqual([
      { name: 'alice', total: 15 },
      { name: 'bob', total: 5 },
    ]);
  });

  it('runs sub-pipelines side by side with $facet', async () => {
    const [facets] = await orders()
      .aggregate([
        {
          $facet: {
            cheap: [{ $match: { total: { $lt: 6 } } }, { $count: 'n' }],
            top: [{ $sort: { total: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }],
          },
        },
      ])
      .toArray();
    expect(facets).toEqual({ cheap: [{ n: 2 }], top: [{ _id: 1 }] });
  });

  it('pages a large result through getMore', async () => {
    const coll = h.db.collection<AnyDoc>('agg_many');
    await coll.insertMany(Array.from({ length: 300 }, (_, i) => ({ i })));
    const docs = await coll.aggregate([{ $sort: { i: -1 } }], { batchSize: 50 }).toArray();
    expect(docs).toHaveLength(300);
    expect(docs[0].i).toBe(299);
  });

  it('counts documents the way countDocuments asks', async () => {
    expect(await orders().countDocuments({ total: { $lt: 10 } }, { skip: 1, limit: 5 })).toBe(2);
  });

  it('requires the cursor option', async () => {
    const err = await serverError(h.db.command({ aggregate: 'orders', pipeline: [] }));
    expect(err).toMatchObject({ ok: 0, code: 9, codeName: 'FailedToParse' });
  });

  it('answers an unknown stage with an error', async () => {
    const err = await serverError(
      h.db.command({ aggregate: 'orders', pipeline: [{ $bogus: {} }], cursor: {} }),
    );
    expect(err).toMatchObject({ ok: 0, code: 40324 });
  });
});

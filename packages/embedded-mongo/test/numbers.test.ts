import { Decimal128, Double, Long } from 'mongodb';

import { describeEmbeddedOnly, serverError, useDriver, type AnyDoc } from './harness';

/** Replies with int64 kept as Long, so that a test can tell an int64 from an int32 or double. */
const raw = { promoteLongs: false } as const;

describe('numbers across int32, int64, double and Decimal128', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  describe('accumulators', () => {
    it('sums int64 values exactly, as an int64', async () => {
      const coll = fresh('sum_long');
      await coll.insertMany([
        { n: Long.fromNumber(5) },
        { n: Long.fromNumber(7) },
        { n: Long.fromString('9007199254740993') },
        { n: 'not a number' },
        {},
      ]);
      const [doc] = await coll
        .aggregate([{ $group: { _id: null, total: { $sum: '$n' }, count: { $sum: 1 } } }], raw)
        .toArray();
      expect(doc.total).toBeInstanceOf(Long);
      expect((doc.total as Long).toString()).toBe('9007199254741005');
      expect(doc.count).toBe(5);
    });

    it('widens an int32 sum to int64 when it overflows, and mixes int32 with int64', async () => {
      const coll = fresh('sum_widen');
      await coll.insertMany([
        { g: 'ints', n: 2147483647 },
        { g: 'ints', n: 1 },
        { g: 'mixed', n: 1 },
        { g: 'mixed', n: Long.fromNumber(2) },
      ]);
      const docs = await coll
        .aggregate([{ $group: { _id: '$g', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }], raw)
        .toArray();
      expect(docs).toEqual([
        { _id: 'ints', total: Long.fromString('2147483648') },
        { _id: 'mixed', total: Long.fromNumber(3) },
      ]);
    });

    it('sums doubles with compensation, as mongod does', async () => {
      const coll = fresh('sum_double');
      await coll.insertMany([{ n: 1e16 }, { n: 1 }, { n: 1 }]);
      const [doc] = await coll
        .aggregate([{ $group: { _id: null, total: { $sum: '$n' }, mean: { $avg: '$n' } } }])
        .toArray();
      // Adding one at a time in doubles would give 1e16: each 1 is below half an ulp of 1e16.
      expect(doc.total).toBe(10000000000000002);
      expect(doc.mean).toBe(3333333333333334);
    });

    it('averages int64 values as a double', async () => {
      const coll = fresh('avg_long');
      await coll.insertMany([{ n: Long.fromNumber(1) }, { n: Long.fromNumber(2) }]);
      const [doc] = await coll
        .aggregate([{ $group: { _id: null, mean: { $avg: '$n' } } }], raw)
        .toArray();
      expect(doc.mean).toBe(1.5);
    });

    it('takes $min and $max by numeric value across types', async () => {
      const coll = fresh('min_max');
      await coll.insertMany([
        { n: Long.fromNumber(5) },
        { n: 7 },
        { n: Decimal128.fromString('6.5') },
        { n: Long.fromString('9007199254740993') },
        { n: null },
        {},
      ]);
      const [doc] = await coll
        .aggregate([{ $group: { _id: null, low: { $min: '$n' }, high: { $max: '$n' } } }], raw)
        .toArray();
      expect(doc.low).toEqual(Long.fromNumber(5));
      expect(doc.high).toEqual(Long.fromString('9007199254740993'));
    });

    it('leaves missing values out of $push and $addToSet, and treats equal numbers as one', async () => {
      const coll = fresh('push');
      await coll.insertMany([{ v: 5 }, {}, { v: Long.fromNumber(5) }, { v: null }]);
      const [doc] = await coll
        .aggregate([{ $group: { _id: null, all: { $push: '$v' }, set: { $addToSet: '$v' } } }])
        .toArray();
      expect(doc.all).toEqual([5, 5, null]);
      expect(doc.set).toHaveLength(2);
      expect(doc.set).toEqual(expect.arrayContaining([5, null]));
    });
  });

  describe('$group keys', () => {
    it('puts numerically equal keys of any numeric type in one group', async () => {
      const coll = fresh('group_keys');
      await coll.insertMany([
        { k: 5 },
        { k: Long.fromNumber(5) },
        { k: new Double(5) },
        { k: Decimal128.fromString('5') },
        { k: Decimal128.fromString('5.000') },
        { k: 5.5 },
        { k: Decimal128.fromString('5.0000000000000000000000001') },
      ]);
      const docs = await coll
        .aggregate([{ $group: { _id: '$k', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
        .toArray();
      expect(docs.map((d) => [String(d._id), d.n])).toEqual([
        ['5', 5],
        ['5.0000000000000000000000001', 1],
        ['5.5', 1],
      ]);
    });

    it('groups a missing key with null, but keeps a missing field apart from a null one', async () => {
      const coll = fresh('group_missing');
      await coll.insertMany([{ a: null }, {}, { a: null }]);
      const byValue = await coll.aggregate([{ $group: { _id: '$a', n: { $sum: 1 } } }]).toArray();
      expect(byValue).toEqual([{ _id: null, n: 3 }]);
      const byDocument = await coll
        .aggregate([{ $group: { _id: { a: '$a' }, n: { $sum: 1 } } }, { $sort: { n: 1 } }])
        .toArray();
      expect(byDocument).toEqual([
        { _id: {}, n: 1 },
        { _id: { a: null }, n: 2 },
      ]);
    });

    it('counts numerically equal values together in $sortByCount', async () => {
      const coll = fresh('sort_by_count');
      await coll.insertMany([{ k: 1 }, { k: Long.fromNumber(1) }, { k: 2 }]);
      const docs = await coll.aggregate([{ $sortByCount: '$k' }]).toArray();
      expect(docs).toEqual([
        { _id: 1, count: 2 },
        { _id: 2, count: 1 },
      ]);
    });
  });

  describe('arithmetic expressions', () => {
    it('computes with int64 values and keeps the int64 type', async () => {
      const coll = fresh('expr_long');
      await coll.insertOne({
        _id: 1,
        l: Long.fromString('9007199254740993'),
        three: Long.fromNumber(3),
      });
      const [doc] = await coll
        .aggregate(
          [
            {
              $project: {
                add: { $add: ['$l', 1] },
                sub: { $subtract: ['$l', 3] },
                mul: { $multiply: ['$three', 2] },
                div: { $divide: ['$three', 2] },
                sum: { $sum: ['$l', '$three'] },
                max: { $max: ['$l', 9007199254740992] },
              },
            },
          ],
          raw,
        )
        .toArray();
      expect(doc).toEqual({
        _id: 1,
        add: Long.fromString('9007199254740994'),
        sub: Long.fromString('9007199254740990'),
        mul: Long.fromNumber(6),
        div: 1.5,
        sum: Long.fromString('9007199254740996'),
        max: Long.fromString('9007199254740993'),
      });
    });

    it('widens int32 results to int64 and int64 overflows to double', async () => {
      const coll = fresh('expr_widen');
      await coll.insertOne({ _id: 1, max: 2147483647, maxLong: Long.MAX_VALUE });
      const [doc] = await coll
        .aggregate(
          [
            {
              $project: {
                add: { $add: ['$max', 1] },
                mul: { $multiply: ['$max', '$max'] },
                sub: { $subtract: [-2147483648, 1] },
                overflow: { $add: ['$maxLong', 1] },
              },
            },
          ],
          raw,
        )
        .toArray();
      expect(doc.add).toEqual(Long.fromString('2147483648'));
      expect(doc.mul).toEqual(Long.fromString('4611686014132420609'));
      expect(doc.sub).toEqual(Long.fromString('-2147483649'));
      expect(doc.overflow).toBe(9223372036854775808);
    });

    it('adds milliseconds to a date and subtracts dates into an int64', async () => {
      const coll = fresh('expr_dates');
      const day = new Date('2024-01-01T00:00:00Z');
      await coll.insertOne({ _id: 1, day, ms: Long.fromNumber(86_400_000) });
      const [doc] = await coll
        .aggregate(
          [
            {
              $project: {
                next: { $add: ['$day', '$ms'] },
                back: { $subtract: [{ $add: ['$day', '$ms'] }, '$day'] },
              },
            },
          ],
          raw,
        )
        .toArray();
      expect(doc.next).toEqual(new Date('2024-01-02T00:00:00Z'));
      expect(doc.back).toEqual(Long.fromNumber(86_400_000));
    });
  });

  describe('int64 results of other stages and expressions', () => {
    it('numbers unwound elements and date differences with int64 values', async () => {
      const coll = fresh('int64_results');
      await coll.insertOne({
        _id: 1,
        list: ['a', 'b'],
        from: new Date('2024-01-01T00:00:00Z'),
        to: new Date('2024-01-03T00:00:00Z'),
      });
      const docs = await coll
        .aggregate(
          [
            { $unwind: { path: '$list', includeArrayIndex: 'i' } },
            {
              $project: {
                _id: 0,
                list: 1,
                i: 1,
                days: { $dateDiff: { startDate: '$from', endDate: '$to', unit: 'day' } },
              },
            },
          ],
          raw,
        )
        .toArray();
      expect(docs).toEqual([
        { list: 'a', i: Long.fromNumber(0), days: Long.fromNumber(2) },
        { list: 'b', i: Long.fromNumber(1), days: Long.fromNumber(2) },
      ]);
    });

    it('takes $slice counts given as int64 in a find projection', async () => {
      const coll = fresh('slice_long');
      await coll.insertOne({ _id: 1, list: [1, 2, 3] });
      const doc = await coll.findOne(
        { _id: 1 },
        { projection: { list: { $slice: Long.fromNumber(2) } } },
      );
      expect(doc).toEqual({ _id: 1, list: [1, 2] });
    });
  });

  describe('comparisons, truthiness and types in expressions', () => {
    it('compares int64 and Decimal128 values by numeric value', async () => {
      const coll = fresh('expr_compare');
      await coll.insertMany([
        { _id: 1, v: Long.fromNumber(5) },
        { _id: 2, v: Long.fromString('9007199254740993') },
        { _id: 3, v: Decimal128.fromString('5.0') },
        { _id: 4, v: Decimal128.fromString('1.0000000000000000000000001') },
      ]);
      const ids = async (expr: unknown) =>
        (await coll.find({ $expr: expr }).sort({ _id: 1 }).toArray()).map((d) => d._id);
      expect(await ids({ $eq: ['$v', 5] })).toEqual([1, 3]);
      expect(await ids({ $gt: ['$v', Long.fromString('9007199254740992')] })).toEqual([2]);
      expect(await ids({ $gt: ['$v', 1] })).toEqual([1, 2, 3, 4]);
      expect(await ids({ $in: ['$v', [5, 1]] })).toEqual([1, 3]);
    });

    it('treats zero of any numeric type as false', async () => {
      const coll = fresh('expr_truthy');
      await coll.insertMany([
        { _id: 1, v: Long.fromNumber(0) },
        { _id: 2, v: Decimal128.fromString('0.00') },
        { _id: 3, v: Long.fromNumber(2) },
        { _id: 4, v: Decimal128.fromString('-0.1') },
      ]);
      const docs = await coll
        .aggregate([
          { $sort: { _id: 1 } },
          {
            $project: {
              cond: { $cond: ['$v', 'yes', 'no'] },
              not: { $not: ['$v'] },
              bool: { $toBool: '$v' },
              kept: { $filter: { input: ['$v'], cond: '$$this' } },
            },
          },
        ])
        .toArray();
      expect(docs.map((d) => [d.cond, d.not, d.bool, d.kept.length])).toEqual([
        ['no', true, false, 0],
        ['no', true, false, 0],
        ['yes', false, true, 1],
        ['yes', false, true, 1],
      ]);
      expect(await coll.countDocuments({ $expr: '$v' })).toBe(2);
    });

    it('reports int64 and Decimal128 types and converts to int64', async () => {
      const coll = fresh('expr_types');
      await coll.insertOne({ _id: 1, l: Long.fromNumber(1), d: Decimal128.fromString('1') });
      const [doc] = await coll
        .aggregate(
          [
            {
              $project: {
                types: [{ $type: '$l' }, { $type: '$d' }, { $type: '$missing' }],
                numbers: [{ $isNumber: '$l' }, { $isNumber: '$d' }],
                fromInt: { $toLong: 5 },
                fromDouble: { $toLong: -5.9 },
                fromDate: { $toLong: new Date(86_400_000) },
                converted: { $convert: { input: [1], to: 'long', onError: 'bad input' } },
              },
            },
          ],
          raw,
        )
        .toArray();
      expect(doc).toEqual({
        _id: 1,
        types: ['long', 'decimal', 'missing'],
        numbers: [true, true],
        fromInt: Long.fromNumber(5),
        fromDouble: Long.fromNumber(-5),
        fromDate: Long.fromNumber(86_400_000),
        converted: 'bad input',
      });
    });
  });

  describe('queries', () => {
    it('compares Decimal128 with doubles and int64 exactly', async () => {
      const coll = fresh('decimal_query');
      await coll.insertMany([
        { _id: 'one', v: 1 },
        { _id: 'above', v: Decimal128.fromString('1.0000000000000000000000001') },
        { _id: 'tenth', v: Decimal128.fromString('0.1') },
        { _id: 'big', v: Decimal128.fromString('9007199254740993') },
      ]);
      expect((await coll.find({ v: 1 }).toArray()).map((d) => d._id)).toEqual(['one']);
      expect((await coll.find({ v: { $gt: 1 } }).toArray()).map((d) => d._id)).toEqual([
        'above',
        'big',
      ]);
      // The double 0.1 is 0.1000000000000000055511151231257827..., not the decimal 0.1.
      expect(await coll.countDocuments({ v: 0.1 })).toBe(0);
      expect(await coll.countDocuments({ v: { $lt: 0.1 } })).toBe(1);
      expect(await coll.countDocuments({ v: Long.fromString('9007199254740993') })).toBe(1);
      expect(await coll.countDocuments({ v: 9007199254740992 })).toBe(0);
      expect(await coll.distinct('v')).toHaveLength(4);
    });

    it('keys large integers by value whether int64, double or Decimal128', async () => {
      const coll = fresh('large_keys');
      await coll.createIndex({ v: 1 }, { unique: true });
      await coll.insertOne({ v: Long.fromString('1152921504606846976') });
      for (const same of [2 ** 60, Decimal128.fromString('1152921504606846976')]) {
        expect(await serverError(coll.insertOne({ v: same }))).toMatchObject({ code: 11000 });
      }
      expect(await coll.countDocuments({ v: { $in: [2 ** 60] } })).toBe(1);
    });

    it('keeps Decimal128 values a double cannot tell apart distinct in a unique index', async () => {
      const coll = fresh('decimal_unique');
      await coll.createIndex({ v: 1 }, { unique: true });
      await coll.insertMany([
        { v: 1 },
        { v: Decimal128.fromString('1.0000000000000000000000001') },
      ]);
      const err = await serverError(coll.insertOne({ v: Decimal128.fromString('1.000') }));
      expect(err).toMatchObject({ code: 11000 });
    });

    it('matches $all values by BSON equality', async () => {
      const coll = fresh('all');
      await coll.insertMany([
        { _id: 1, tags: [Long.fromNumber(1), 2] },
        { _id: 2, tags: [1] },
      ]);
      const ids = (await coll.find({ tags: { $all: [1, Long.fromNumber(2)] } }).toArray()).map(
        (d) => d._id,
      );
      expect(ids).toEqual([1]);
      expect(await coll.countDocuments({ tags: { $size: Long.fromNumber(2) } })).toBe(1);
    });
  });

  describe('update operators', () => {
    it('widens $inc and $mul results from int32 to int64', async () => {
      const coll = fresh('inc_widen');
      await coll.insertOne({ _id: 1, a: 2147483647, b: 2147483647 });
      await coll.updateOne({ _id: 1 }, { $inc: { a: 1 }, $mul: { b: 2147483647 } });
      expect(await coll.findOne({ _id: 1 }, raw)).toEqual({
        _id: 1,
        a: Long.fromString('2147483648'),
        b: Long.fromString('4611686014132420609'),
      });
    });

    it('refuses an int64 overflow in $inc and $mul with BadValue and changes nothing', async () => {
      const coll = fresh('inc_overflow');
      await coll.insertOne({
        _id: 1,
        n: Long.MAX_VALUE,
        m: Long.fromString('4611686018427387904'),
      });
      const inc = await serverError(coll.updateOne({ _id: 1 }, { $inc: { n: 1 } }));
      expect(inc).toMatchObject({
        code: 2,
        message:
          'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}',
      });
      const mul = await serverError(coll.updateOne({ _id: 1 }, { $mul: { m: 2 } }));
      expect(mul).toMatchObject({ code: 2 });
      expect(await coll.findOne({ _id: 1 }, raw)).toEqual({
        _id: 1,
        n: Long.MAX_VALUE,
        m: Long.fromString('4611686018427387904'),
      });
    });

    it('creates a missing field with $mul as zero of the multiplier type', async () => {
      const coll = fresh('mul_missing');
      await coll.insertOne({ _id: 1 });
      await coll.updateOne({ _id: 1 }, { $mul: { l: Long.fromNumber(7) } });
      expect(await coll.findOne({ _id: 1 }, raw)).toEqual({ _id: 1, l: Long.ZERO });
    });

    it('applies $min and $max to Decimal128 values by exact comparison', async () => {
      const coll = fresh('min_max_decimal');
      await coll.insertOne({ _id: 1, low: 1, high: 1, same: 1 });
      const above = Decimal128.fromString('1.0000000000000000000000001');
      const below = Decimal128.fromString('0.9999999999999999999999999');
      await coll.updateOne(
        { _id: 1 },
        { $max: { high: above, same: Decimal128.fromString('1.0') }, $min: { low: below } },
      );
      const doc = await coll.findOne({ _id: 1 });
      expect(String(doc?.high)).toBe('1.0000000000000000000000001');
      expect(String(doc?.low)).toBe('0.9999999999999999999999999');
      expect(doc?.same).toBe(1);
    });

    it('adds to a set by BSON equality: equal numbers are one value, field order matters', async () => {
      const coll = fresh('add_to_set');
      await coll.insertOne({ _id: 1, n: [5], o: [{ x: 1, y: 2 }] });
      const same = await coll.updateOne({ _id: 1 }, { $addToSet: { n: Long.fromNumber(5) } });
      expect(same.modifiedCount).toBe(0);
      await coll.updateOne({ _id: 1 }, { $addToSet: { o: { y: 2, x: 1 } } });
      expect(await coll.findOne({ _id: 1 })).toEqual({
        _id: 1,
        n: [5],
        o: [
          { x: 1, y: 2 },
          { y: 2, x: 1 },
        ],
      });
    });

    it('applies $bit to int64 values', async () => {
      const coll = fresh('bit');
      await coll.insertOne({ _id: 1, l: Long.fromNumber(12), i: 5 });
      await coll.updateOne(
        { _id: 1 },
        // The driver's typings allow only one bitwise operation shape per update.
        { $bit: { l: { and: Long.fromNumber(10) }, i: { or: Long.fromNumber(2) } } } as never,
      );
      expect(await coll.findOne({ _id: 1 }, raw)).toEqual({
        _id: 1,
        l: Long.fromNumber(8),
        i: Long.fromNumber(7),
      });
    });

    it('writes a value of another numeric type even when it is numerically equal', async () => {
      const coll = fresh('set_type');
      await coll.insertOne({ _id: 1, a: 5, b: 5 });
      const set = await coll.updateOne({ _id: 1 }, { $set: { a: Long.fromNumber(5) } });
      expect(set.modifiedCount).toBe(1);
      const inc = await coll.updateOne({ _id: 1 }, { $inc: { b: Long.ZERO } });
      expect(inc.modifiedCount).toBe(1);
      expect(await coll.findOne({ _id: 1 }, raw)).toEqual({
        _id: 1,
        a: Long.fromNumber(5),
        b: Long.fromNumber(5),
      });
      const again = await coll.updateOne({ _id: 1 }, { $set: { a: Long.fromNumber(5) } });
      expect(again.modifiedCount).toBe(0);
    });
  });
});

describeEmbeddedOnly('numeric refusals of the embedded server', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);
  const notSupported = { code: 115, codeName: 'CommandNotSupported' };

  it('refuses Decimal128 arithmetic in accumulators and expressions', async () => {
    const coll = fresh('decimal_agg');
    await coll.insertMany([{ d: Decimal128.fromString('1.5') }, { d: 2 }]);
    const sum = await serverError(
      coll.aggregate([{ $group: { _id: null, total: { $sum: '$d' } } }]).toArray(),
    );
    expect(sum).toMatchObject(notSupported);
    expect(String(sum.message)).toMatch(/Decimal128 arithmetic \(\$sum\)/);
    const add = await serverError(
      coll.aggregate([{ $project: { x: { $add: ['$d', 1] } } }]).toArray(),
    );
    expect(add).toMatchObject(notSupported);
    const avg = await serverError(
      coll.aggregate([{ $group: { _id: null, mean: { $avg: '$d' } } }]).toArray(),
    );
    expect(avg).toMatchObject(notSupported);
  });

  it('refuses Long and Decimal128 operands in operators it does not implement itself', async () => {
    const coll = fresh('wide_operand');
    await coll.insertOne({ l: Long.fromNumber(-5), list: [Long.fromNumber(1)] });
    for (const expr of [
      { $abs: '$l' },
      { $mod: ['$l', 2] },
      { $setUnion: ['$list', [1]] },
      { $toString: '$l' },
    ]) {
      const err = await serverError(coll.aggregate([{ $project: { x: expr } }]).toArray());
      expect(err).toMatchObject(notSupported);
    }
    // Operators that only move values keep working with them.
    const [doc] = await coll
      .aggregate([{ $project: { _id: 0, first: { $arrayElemAt: ['$list', 0] } } }], raw)
      .toArray();
    expect(doc).toEqual({ first: Long.fromNumber(1) });
  });

  it('refuses stages that group or order with JS values when documents hold Long values', async () => {
    const coll = fresh('wide_stage');
    await coll.insertOne({ n: Long.fromNumber(1) });
    const err = await serverError(
      coll
        .aggregate([{ $bucket: { groupBy: '$n', boundaries: [0, 10], default: 'other' } }])
        .toArray(),
    );
    expect(err).toMatchObject(notSupported);
  });

  it('refuses conversions whose result it cannot guarantee', async () => {
    const coll = fresh('convert');
    await coll.insertOne({ x: 0.1 });
    const err = await serverError(
      coll.aggregate([{ $project: { d: { $toDecimal: '$x' } } }]).toArray(),
    );
    expect(err).toMatchObject(notSupported);
  });

  it('refuses Decimal128 arithmetic in updates and changes nothing', async () => {
    const coll = fresh('decimal_update');
    await coll.insertOne({ _id: 1, d: Decimal128.fromString('1.5'), n: 1 });
    for (const update of [
      { $inc: { d: 1 } },
      { $mul: { d: 2 } },
      { $inc: { n: Decimal128.fromString('0.5') } },
      { $mul: { missing: Decimal128.fromString('2') } },
    ]) {
      const err = await serverError(coll.updateOne({ _id: 1 }, update));
      // A write error carries a code but no codeName.
      expect(err).toMatchObject({ code: 115 });
    }
    const doc = await coll.findOne({ _id: 1 });
    expect(String(doc?.d)).toBe('1.5');
    expect(doc?.n).toBe(1);
  });

  it('sets a missing field to a Decimal128 $inc argument, which needs no arithmetic', async () => {
    const coll = fresh('decimal_inc_missing');
    await coll.insertOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $inc: { d: Decimal128.fromString('2.50') } });
    expect(String((await coll.findOne({ _id: 1 }))?.d)).toBe('2.50');
  });

  it('refuses positional updates that mingo would compute or compare the JS way', async () => {
    const coll = fresh('positional');
    await coll.insertOne({
      _id: 1,
      longs: [Long.fromNumber(1)],
      ints: [2147483647],
      docs: [{ tags: [{ x: 1, y: 2 }] }],
    });
    for (const update of [
      { $inc: { 'longs.$[]': 1 } },
      { $inc: { 'ints.$[]': 1 } },
      { $addToSet: { 'docs.$[].tags': { y: 2, x: 1 } } },
    ]) {
      const err = await serverError(coll.updateOne({ _id: 1 }, update));
      expect(err).toMatchObject({ code: 115 });
    }
    await coll.updateOne({ _id: 1 }, { $inc: { 'ints.$[]': -1 } });
    expect((await coll.findOne({ _id: 1 }))?.ints).toEqual([2147483646]);
  });

  it('refuses query operators that would test Long values as JS numbers', async () => {
    const coll = fresh('wide_query');
    await coll.insertOne({ n: Long.fromNumber(6) });
    const err = await serverError(coll.find({ n: { $mod: [4, 2] } }).toArray());
    expect(err).toMatchObject(notSupported);
  });
});

import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, UUID } from 'mongodb';

import { useDriver, type AnyDoc } from './harness';

describe('BSON types', () => {
  const h = useDriver();
  let seq = 0;
  const fresh = (prefix: string) => h.db.collection<AnyDoc>(`${prefix}_${++seq}`);

  it('round-trip with their types intact', async () => {
    const coll = fresh('roundtrip');
    const doc = {
      _id: new ObjectId(),
      date: new Date('2024-02-29T12:34:56.789Z'),
      oid: new ObjectId(),
      dec: Decimal128.fromString('12345678901234567890.123456789'),
      bigLong: Long.fromString('9223372036854775807'),
      smallLong: Long.fromNumber(42),
      int: 7,
      double: 2.5,
      bin: new Binary(Buffer.from([0, 1, 2, 255])),
      uuid: new UUID('3b241101-e2bb-4255-8caf-4136c566a962'),
      nothing: null,
      nested: {
        deep: {
          list: [
            [1, 2],
            [3, [4, { x: 'y' }]],
          ],
          empty: [],
        },
      },
      bool: false,
      regex: /ab+c/i,
      ts: new Timestamp({ t: 1700000000, i: 3 }),
      str: 'unicode ✓ ünïcödé',
    };
    await coll.insertOne(doc);
    const back = await coll.findOne(
      { _id: doc._id },
      { promoteLongs: false, promoteValues: false },
    );
    expect(back).not.toBeNull();
    const got = back as Record<string, unknown>;
    expect(got.date).toEqual(doc.date);
    expect((got.oid as ObjectId).equals(doc.oid)).toBe(true);
    expect((got.dec as Decimal128).toString()).toBe('12345678901234567890.123456789');
    expect(got.bigLong).toEqual(doc.bigLong);
    expect(got.smallLong).toBeInstanceOf(Long);
    expect((got.smallLong as Long).toNumber()).toBe(42);
    expect(got.int).toEqual(new Int32(7));
    expect(got.double).toEqual(new Double(2.5));
    expect((got.bin as Binary).sub_type).toBe(0);
    expect(Buffer.from((got.bin as Binary).buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((got.uuid as Binary).sub_type).toBe(4);
    expect((got.uuid as Binary).toUUID().toHexString()).toBe(doc.uuid.toHexString());
    expect(got.nothing).toBeNull();
    expect(got.bool).toBe(false);
    expect((got.ts as Timestamp).equals(doc.ts)).toBe(true);
    const plain = await coll.findOne({ _id: doc._id });
    expect(plain?.nested).toEqual(doc.nested);
    expect(plain?.regex).toEqual(/ab+c/i);
    expect(plain?.str).toBe(doc.str);
    expect(plain?.smallLong).toBe(42);
  });

  it('finds, ranges and sorts by ObjectId', async () => {
    const coll = fresh('oid');
    const ids = Array.from({ length: 5 }, (_, i) =>
      ObjectId.createFromTime(1_700_000_000 + i * 60),
    );
    await coll.insertMany([...ids].reverse().map((_id, i) => ({ _id, i })));
    expect(await coll.findOne({ _id: new ObjectId(ids[2].toHexString()) })).toMatchObject({
      _id: ids[2],
    });
    const after = await coll
      .find({ _id: { $gt: ids[2] } })
      .sort({ _id: 1 })
      .toArray();
    expect(after.map((d) => String(d._id))).toEqual(ids.slice(3).map((id) => id.toHexString()));
    const desc = await coll.find().sort({ _id: -1 }).toArray();
    expect(desc.map((d) => String(d._id))).toEqual(
      [...ids].reverse().map((id) => id.toHexString()),
    );
    const inList = await coll.countDocuments({ _id: { $in: [ids[0], ids[4], new ObjectId()] } });
    expect(inList).toBe(2);
  });

  it('finds, ranges and sorts by Date', async () => {
    const coll = fresh('dates');
    const day = (d: number) => new Date(Date.UTC(2024, 0, d));
    await coll.insertMany([{ at: day(3) }, { at: day(1) }, { at: day(2) }, { at: day(10) }]);
    const inJanuaryFirstWeek = await coll
      .find({ at: { $gte: day(1), $lt: day(7) } })
      .sort({ at: -1 })
      .toArray();
    expect(inJanuaryFirstWeek.map((d) => d.at)).toEqual([day(3), day(2), day(1)]);
    expect(await coll.countDocuments({ at: day(10) })).toBe(1);
    expect(await coll.countDocuments({ at: { $gt: '2024-01-01' } })).toBe(0);
  });

  it('compares int, double, Long and Decimal128 by numeric value', async () => {
    const coll = fresh('numbers');
    await coll.insertMany([
      { _id: 'int', v: 5 },
      { _id: 'double', v: 5.5 },
      { _id: 'long', v: Long.fromNumber(6) },
      { _id: 'decimal', v: Decimal128.fromString('4.25') },
      { _id: 'huge', v: Long.fromString('9007199254740993') },
    ]);
    expect(await coll.countDocuments({ v: 6 })).toBe(1);
    expect(await coll.countDocuments({ v: Long.fromNumber(5) })).toBe(1);
    const ordered = await coll
      .find({ v: { $gt: 4 } })
      .sort({ v: 1 })
      .toArray();
    expect(ordered.map((d) => d._id)).toEqual(['decimal', 'int', 'double', 'long', 'huge']);
    expect(await coll.countDocuments({ v: { $gt: Long.fromString('9007199254740992') } })).toBe(1);
  });

  it('increments Long values without losing their type', async () => {
    const coll = fresh('inc_long');
    await coll.insertOne({ _id: 1, n: Long.fromString('9007199254740993') });
    await coll.updateOne({ _id: 1 }, { $inc: { n: 2 } });
    const doc = await coll.findOne({ _id: 1 }, { promoteLongs: false });
    expect((doc?.n as Long).toString()).toBe('9007199254740995');
  });

  it('orders strings by code point (UTF-8 bytes), astral characters last', async () => {
    const coll = fresh('utf8');
    await coll.insertMany([
      { _id: 'astral', s: '\u{1F600}' },
      { _id: 'upper-bmp', s: '\uFB00' },
      { _id: 'ascii', s: 'z' },
    ]);
    const order = (await coll.find().sort({ s: 1 }).toArray()).map((d) => d._id);
    expect(order).toEqual(['ascii', 'upper-bmp', 'astral']);
    const above = await coll.find({ s: { $gt: '\uFB00' } }).toArray();
    expect(above.map((d) => d._id)).toEqual(['astral']);
    const [extremes] = await coll
      .aggregate([{ $group: { _id: null, low: { $min: '$s' }, high: { $max: '$s' } } }])
      .toArray();
    expect(extremes).toEqual({ _id: null, low: 'z', high: '\u{1F600}' });
  });

  it('sorts mixed types in BSON order', async () => {
    const coll = fresh('mixed');
    await coll.insertMany([
      { _id: 'date', v: new Date(0) },
      { _id: 'bool', v: true },
      { _id: 'oid', v: new ObjectId() },
      { _id: 'object', v: { a: 1 } },
      { _id: 'string', v: 'a' },
      { _id: 'number', v: 1 },
      { _id: 'null', v: null },
    ]);
    const order = (await coll.find().sort({ v: 1 }).toArray()).map((d) => d._id);
    expect(order).toEqual(['null', 'number', 'string', 'object', 'oid', 'bool', 'date']);
  });

  it('matches nested arrays and embedded documents exactly, field order included', async () => {
    const coll = fresh('exact');
    await coll.insertMany([
      { _id: 1, m: [[1, 2], [3]], o: { a: 1, b: 2 } },
      { _id: 2, m: [[1], [2, 3]], o: { b: 2, a: 1 } },
    ]);
    expect((await coll.find({ m: [1, 2] }).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await coll.find({ m: [[1, 2], [3]] }).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await coll.find({ o: { a: 1, b: 2 } }).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await coll.find({ 'o.a': 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
  });

  it('selects by $type', async () => {
    const coll = fresh('types');
    await coll.insertMany([
      { _id: 1, v: 'x' },
      { _id: 2, v: new ObjectId() },
      { _id: 3, v: new Date() },
      { _id: 4, v: Long.fromNumber(1) },
      { _id: 5, v: 1.5 },
      { _id: 6, v: null },
    ]);
    const ids = async (t: unknown) =>
      (
        await coll
          .find({ v: { $type: t } })
          .sort({ _id: 1 })
          .toArray()
      ).map((d) => d._id);
    expect(await ids('string')).toEqual([1]);
    expect(await ids('objectId')).toEqual([2]);
    expect(await ids('date')).toEqual([3]);
    expect(await ids('long')).toEqual([4]);
    expect(await ids('double')).toEqual([5]);
    expect(await ids('null')).toEqual([6]);
    expect(await ids('number')).toEqual([4, 5]);
  });
});

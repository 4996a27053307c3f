import mongoose, { type Connection, Schema, type Types } from 'mongoose';

import { startTestDatabase, type TestDatabase } from '../src/testing';

interface UserDoc {
  email: string;
  name: string;
  passwordHash: string;
  roles: string[];
  loginCount: number;
  createdAt: Date;
}

interface TodoDoc {
  owner: Types.ObjectId;
  title: string;
  done: boolean;
  createdAt: Date;
}

interface JobDoc {
  state: 'open' | 'claimed';
  claimedBy?: number;
}

describe('mongoose models against the database', () => {
  let database: TestDatabase;
  let conn: Connection;
  let User: mongoose.Model<UserDoc>;
  let Todo: mongoose.Model<TodoDoc>;
  let Job: mongoose.Model<JobDoc>;

  beforeAll(async () => {
    database = await startTestDatabase();
    conn = await mongoose.createConnection(database.uri, { dbName: database.dbName }).asPromise();
    User = conn.model(
      'User',
      new Schema<UserDoc>(
        {
          email: { type: String, required: true, unique: true, lowercase: true },
          name: { type: String, required: true },
          passwordHash: { type: String, required: true, select: false },
          roles: { type: [String], default: ['user'] },
          loginCount: { type: Number, default: 0 },
        },
        { timestamps: true },
      ),
    );
    const todoSchema = new Schema<TodoDoc>(
      {
        owner: { type: Schema.Types.ObjectId, ref: 'User', required: true },
        title: { type: String, required: true },
        done: { type: Boolean, default: false },
      },
      { timestamps: true },
    );
    todoSchema.index({ owner: 1, createdAt: -1 });
    Todo = conn.model('Todo', todoSchema);
    Job = conn.model('Job', new Schema<JobDoc>({ state: String, claimedBy: Number }));
    await Promise.all([User.init(), Todo.init(), Job.init()]);
  });

  afterAll(async () => {
    await conn?.close();
    await database?.stop();
  });

  it('builds the schema indexes', async () => {
    const userIndexes = await User.collection.indexes();
    expect(userIndexes).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: { email: 1 }, unique: true })]),
    );
    const todoIndexes = await Todo.collection.indexes();
    expect(todoIndexes.map((i) => i.key)).toEqual(
      expect.arrayContaining([{ owner: 1, createdAt: -1 }]),
    );
  });

  it('creates, reads and hides select:false fields', async () => {
    const created = await User.create({ email: 'Ann@Example.com', name: 'Ann', passwordHash: 'h' });
    expect(created.createdAt).toBeInstanceOf(Date);
    const found = await User.findOne({ email: 'ann@example.com' });
    expect(found?.name).toBe('Ann');
    expect(found?.passwordHash).toBeUndefined();
    const withHash = await User.findById(created._id).select('+passwordHash');
    expect(withHash?.passwordHash).toBe('h');
    expect(found?.roles).toEqual(['user']);
  });

  it('a duplicate email answers E11000 with keyValue', async () => {
    await User.create({ email: 'dup@example.com', name: 'A', passwordHash: 'h' });
    await expect(
      User.create({ email: 'DUP@example.com', name: 'B', passwordHash: 'h' }),
    ).rejects.toMatchObject({ code: 11000, keyValue: { email: 'dup@example.com' } });
    expect(await User.countDocuments({ email: 'dup@example.com' })).toBe(1);
  });

  it('returns plain objects with lean()', async () => {
    const user = await User.create({ email: 'lean@example.com', name: 'L', passwordHash: 'h' });
    const lean = await User.findById(user._id).lean();
    expect(lean).not.toBeInstanceOf(mongoose.Document);
    expect(lean?._id.equals(user._id)).toBe(true);
    expect(lean?.createdAt).toBeInstanceOf(Date);
  });

  it('populates references', async () => {
    const owner = await User.create({ email: 'pop@example.com', name: 'Pop', passwordHash: 'h' });
    await Todo.create([
      { owner: owner._id, title: 'first' },
      { owner: owner._id, title: 'second' },
    ]);
    const todos = await Todo.find({ owner: owner._id })
      .sort({ title: 1 })
      .populate<{ owner: UserDoc }>('owner', 'name email')
      .lean();
    expect(todos.map((t) => [t.title, t.owner.name])).toEqual([
      ['first', 'Pop'],
      ['second', 'Pop'],
    ]);
  });

  it('pages through a owner’s todos newest first', async () => {
    const owner = await User.create({ email: 'page@example.com', name: 'P', passwordHash: 'h' });
    const base = Date.now() - 100_000;
    await Todo.insertMany(
      Array.from({ length: 30 }, (_, i) => ({
        owner: owner._id,
        title: `t${i}`,
        createdAt: new Date(base + i * 1000),
      })),
    );
    const firstPage = await Todo.find({ owner: owner._id })
      .sort({ createdAt: -1 })
      .limit(10)
      .lean();
    expect(firstPage.map((t) => t.title)).toEqual(
      Array.from({ length: 10 }, (_, i) => `t${29 - i}`),
    );
    const cursor = firstPage[firstPage.length - 1].createdAt;
    const secondPage = await Todo.find({ owner: owner._id, createdAt: { $lt: cursor } })
      .sort({ createdAt: -1 })
      .limit(10)
      .lean();
    expect(secondPage[0].title).toBe('t19');
  });

  it('updates, upserts and deletes through model helpers', async () => {
    const user = await User.create({ email: 'upd@example.com', name: 'U', passwordHash: 'h' });
    const updated = await User.findByIdAndUpdate(
      user._id,
      { $set: { name: 'Updated' }, $addToSet: { roles: 'admin' } },
      { returnDocument: 'after' },
    );
    expect(updated?.name).toBe('Updated');
    expect(updated?.roles).toEqual(['user', 'admin']);
    const upserted = await User.findOneAndUpdate(
      { email: 'new@example.com' },
      { $setOnInsert: { name: 'New', passwordHash: 'h' } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(upserted?.email).toBe('new@example.com');
    expect((await User.deleteOne({ _id: user._id })).deletedCount).toBe(1);
    expect(await User.exists({ _id: user._id })).toBeNull();
  });

  it('lets exactly one of 100 concurrent conditional findOneAndUpdate calls win', async () => {
    const job = await Job.create({ state: 'open' });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        Job.findOneAndUpdate(
          { _id: job._id, state: 'open' },
          { $set: { state: 'claimed', claimedBy: i } },
          { returnDocument: 'after' },
        ).lean(),
      ),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const stored = await Job.findById(job._id).lean();
    expect(stored).toMatchObject({ state: 'claimed', claimedBy: winners[0]?.claimedBy });
  });

  it('loses no update among 200 concurrent $inc', async () => {
    const user = await User.create({ email: 'inc@example.com', name: 'I', passwordHash: 'h' });
    await Promise.all(
      Array.from({ length: 200 }, () =>
        User.updateOne({ _id: user._id }, { $inc: { loginCount: 1 } }),
      ),
    );
    const stored = await User.findById(user._id).lean();
    expect(stored?.loginCount).toBe(200);
  });
});

import { type CommandStartedEvent, type CommandSucceededEvent } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { connectDatabase, disconnectDatabase } from '../../src/db/connect';
import { findPage } from '../../src/db/find-page';
import { startTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * `findPage`, under every list query, against the database: one command for a page, and the
 * whole page also when it does not fit one reply.
 */
interface Probe {
  n: number;
  blob: string;
}
const ProbeModel = mongoose.model<Probe>(
  'FindPageProbe',
  new Schema<Probe>({ n: Number, blob: String }),
);

let db: TestDatabase;
const commands: CommandStartedEvent[] = [];
const replies: CommandSucceededEvent[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
  await connectDatabase(db.uri, { dbName: db.dbName, monitorCommands: true });
  mongoose.connection.getClient().on('commandStarted', (event) => commands.push(event));
  mongoose.connection.getClient().on('commandSucceeded', (event) => replies.push(event));
});

afterAll(async () => {
  await disconnectDatabase();
  await db?.stop();
});

beforeEach(async () => {
  await ProbeModel.collection.deleteMany({});
  commands.splice(0);
  replies.splice(0);
});

const sent = () => commands.map((c) => c.commandName).filter((name) => name !== 'endSessions');

it('reads a page in one find command, in order, leaving no cursor open', async () => {
  await ProbeModel.collection.insertMany(
    Array.from({ length: 30 }, (_, n) => ({ n, blob: `item ${n}` })),
  );
  commands.splice(0);

  const page = await findPage<Probe>(ProbeModel, {
    filter: { n: { $gte: 5 } },
    sort: { n: -1 },
    limit: 21,
    projection: { n: 1 },
  });

  expect(page.map((doc) => doc.n)).toEqual(Array.from({ length: 21 }, (_, i) => 29 - i));
  expect(page[0]).not.toHaveProperty('blob');
  expect(sent()).toEqual(['find']);
});

it('returns the whole page when it is larger than one reply (16 MB), and closes the cursor', async () => {
  // 5 documents of 5 MB: the first reply holds 3, and the server keeps a cursor for the rest.
  const blob = 'x'.repeat(5 * 1024 * 1024);
  for (let n = 0; n < 5; n++) await ProbeModel.collection.insertOne({ n, blob });
  commands.splice(0);

  const page = await findPage<Probe>(ProbeModel, { filter: {}, sort: { n: 1 }, limit: 5 });

  expect(page.map((doc) => doc.n)).toEqual([0, 1, 2, 3, 4]);
  expect(page.every((doc) => doc.blob.length === blob.length)).toBe(true);
  // The short reply's cursor is closed (the server no longer knows it), then the page is read
  // through the driver's cursor.
  const first = replies.find((reply) => reply.commandName === 'find')!;
  const { id, firstBatch } = (first.reply as { cursor: { id: unknown; firstBatch: unknown[] } })
    .cursor;
  expect(firstBatch.length).toBeLessThan(5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(sent()).toContain('killCursors');
  await expect(
    mongoose.connection.db!.command({ getMore: id, collection: ProbeModel.collection.name }),
  ).rejects.toMatchObject({ code: 43 });
}, 60_000);

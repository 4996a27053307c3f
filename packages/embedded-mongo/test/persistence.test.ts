import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MongoClient } from 'mongodb';

import { type RunningEmbeddedServer, spawnEmbeddedServer, startEmbeddedServer } from '../src';
import { type AnyDoc, describeEmbeddedOnly } from './harness';

function tempDbpath(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-db-'));
}

function journalFile(dbpath: string): string {
  const name = fs.readdirSync(dbpath).find((n) => n.endsWith('.emj'));
  if (!name) throw new Error(`no journal in ${dbpath}`);
  return path.join(dbpath, name);
}

/** Runs `fn` with a driver connected to a server on `dbpath`, then stops the server. */
async function withServer<T>(
  dbpath: string,
  fn: (client: MongoClient, server: RunningEmbeddedServer) => Promise<T>,
  options: { compactMinBytes?: number } = {},
): Promise<T> {
  const server = await startEmbeddedServer({ port: 0, dbpath, ...options });
  const client = new MongoClient(server.uri);
  try {
    return await fn(client, server);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** Restarts and child processes are slow on a loaded machine; jest's own default is 5 s. */
const SLOW = 120_000;

describeEmbeddedOnly('persistence (--dbpath)', () => {
  const dirs: string[] = [];
  const newDbpath = () => {
    const dir = tempDbpath();
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }, SLOW);

  it(
    'keeps documents, updates, deletes, indexes and collection options across a restart',
    async () => {
      const dbpath = newDbpath();
      await withServer(dbpath, async (client) => {
        const users = client.db('app').collection<AnyDoc>('users');
        await users.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
        await users.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
        await users.insertMany([
          { _id: 1, email: 'a@x', n: 1 },
          { _id: 2, email: 'b@x', n: 2 },
          { _id: 3, email: 'c@x', n: 3 },
        ]);
        await users.updateOne({ _id: 2 }, { $inc: { n: 40 }, $set: { tags: ['t'] } });
        await users.deleteOne({ _id: 3 });
        await client.db('app').createCollection('empty');
      });
      await withServer(dbpath, async (client) => {
        const users = client.db('app').collection<AnyDoc>('users');
        expect(await users.find().sort({ _id: 1 }).toArray()).toEqual([
          { _id: 1, email: 'a@x', n: 1 },
          { _id: 2, email: 'b@x', n: 42, tags: ['t'] },
        ]);
        const indexes = await users.listIndexes().toArray();
        expect(indexes.map((i) => i.name)).toEqual(['_id_', 'email_1', 'at_1']);
        expect(indexes[2].expireAfterSeconds).toBe(3600);
        // The unique index is enforced, not just listed.
        await expect(users.insertOne({ email: 'a@x' })).rejects.toMatchObject({ code: 11000 });
        const names = (await client.db('app').listCollections().toArray()).map((c) => c.name);
        expect(names.sort()).toEqual(['empty', 'users']);
      });
    },
    SLOW,
  );

  it(
    'keeps drops of indexes, collections and databases',
    async () => {
      const dbpath = newDbpath();
      await withServer(dbpath, async (client) => {
        await client.db('a').collection('keep').insertOne({ x: 1 });
        await client.db('a').collection('keep').createIndex({ x: 1 });
        await client.db('a').collection('gone').insertOne({ x: 1 });
        await client.db('b').collection('c').insertOne({ x: 1 });
        await client.db('a').collection('keep').dropIndex('x_1');
        await client.db('a').collection('gone').drop();
        await client.db('b').dropDatabase();
      });
      await withServer(dbpath, async (client) => {
        const dbs = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name);
        expect(dbs).toContain('a');
        expect(dbs).not.toContain('b');
        const names = (await client.db('a').listCollections().toArray()).map((c) => c.name);
        expect(names).toEqual(['keep']);
        const indexes = await client.db('a').collection('keep').listIndexes().toArray();
        expect(indexes.map((i) => i.name)).toEqual(['_id_']);
      });
    },
    SLOW,
  );

  it(
    'keeps TTL deletions',
    async () => {
      const dbpath = newDbpath();
      const server = await startEmbeddedServer({ port: 0, dbpath, ttlMonitorIntervalMs: 100 });
      const client = new MongoClient(server.uri);
      const sessions = client.db('app').collection<AnyDoc>('sessions');
      await sessions.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
      await sessions.insertMany([
        { _id: 'old', at: new Date(Date.now() - 60_000) },
        { _id: 'new', at: new Date(Date.now() + 3_600_000) },
      ]);
      while ((await sessions.countDocuments()) > 1) await new Promise((r) => setTimeout(r, 50));
      await client.close();
      await server.stop();
      await withServer(dbpath, async (c) => {
        const ids = await c.db('app').collection<AnyDoc>('sessions').distinct('_id');
        expect(ids).toEqual(['new']);
      });
    },
    SLOW,
  );

  it(
    'compacts the journal and reads the compacted file back',
    async () => {
      const dbpath = newDbpath();
      const compactMinBytes = 64 * 1024;
      await withServer(
        dbpath,
        async (client) => {
          const c = client.db('app').collection<AnyDoc>('counters');
          await c.insertOne({ _id: 'x', n: 0, pad: 'p'.repeat(1000) });
          for (let i = 0; i < 300; i++) await c.updateOne({ _id: 'x' }, { $inc: { n: 1 } });
        },
        { compactMinBytes },
      );
      // 300 full images of a 1 kB document would be 300 kB without compaction.
      expect(fs.statSync(journalFile(dbpath)).size).toBeLessThan(2 * compactMinBytes);
      await withServer(dbpath, async (client) => {
        expect(await client.db('app').collection<AnyDoc>('counters').findOne()).toMatchObject({
          n: 300,
        });
      });
    },
    SLOW,
  );

  it(
    'discards a torn tail: the last, half-written record is not applied',
    async () => {
      const dbpath = newDbpath();
      await withServer(dbpath, async (client) => {
        const c = client.db('app').collection<AnyDoc>('c');
        await c.insertOne({ _id: 1 });
        await c.insertMany([{ _id: 2 }, { _id: 3 }, { _id: 4, pad: 'x'.repeat(5000) }]);
      });
      const file = journalFile(dbpath);
      // Cut the last record (the insertMany) in the middle, as a crash during its write would.
      fs.truncateSync(file, fs.statSync(file).size - 2500);
      await withServer(dbpath, async (client) => {
        const c = client.db('app').collection<AnyDoc>('c');
        expect(await c.distinct('_id')).toEqual([1]);
        // The server appends after the last good record: new writes survive the next restart.
        await c.insertOne({ _id: 5 });
      });
      await withServer(dbpath, async (client) => {
        expect(await client.db('app').collection<AnyDoc>('c').distinct('_id')).toEqual([1, 5]);
      });
    },
    SLOW,
  );

  it(
    'refuses to start on a journal with a bad checksum in the middle',
    async () => {
      const dbpath = newDbpath();
      await withServer(dbpath, async (client) => {
        const c = client.db('app').collection<AnyDoc>('c');
        await c.insertOne({ _id: 1, text: 'first' });
        await c.insertOne({ _id: 2, text: 'second' });
      });
      const file = journalFile(dbpath);
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf('first');
      bytes[at] ^= 0xff;
      fs.writeFileSync(file, bytes);
      await expect(startEmbeddedServer({ port: 0, dbpath })).rejects.toThrow(
        /journal .* is corrupt at byte \d+ \(record checksum mismatch\)\. Refusing to start/,
      );
      // The refusal leaves the dbpath unlocked and the file untouched for inspection.
      expect(fs.readFileSync(file)).toEqual(bytes);
      expect(fs.existsSync(path.join(dbpath, 'mongod.lock'))).toBe(false);
    },
    SLOW,
  );

  it(
    'refuses a second server on the same dbpath, in this process or another',
    async () => {
      const dbpath = newDbpath();
      await withServer(dbpath, async () => {
        await expect(startEmbeddedServer({ port: 0, dbpath })).rejects.toThrow(
          /dbpath .* is in use by another embedded server/,
        );
      });
      const child = await spawnEmbeddedServer({ port: 0, dbpath });
      try {
        await expect(startEmbeddedServer({ port: 0, dbpath })).rejects.toThrow(
          new RegExp(`in use by another embedded server \\(pid ${child.pid}\\)`),
        );
      } finally {
        await child.stop();
      }
      // Once the owner has stopped, the dbpath is free again.
      await withServer(dbpath, async (client) => {
        expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      });
    },
    SLOW,
  );
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mongoose, { type Connection, Schema, type Types } from 'mongoose';

import { spawnEmbeddedServer, startEmbeddedServer } from '@graphql-auth-api/embedded-mongo';

import { median } from './load';

interface BenchUser {
  email: string;
  name: string;
}

interface BenchTodo {
  owner: Types.ObjectId;
  title: string;
  createdAt: Date;
}

async function runFor(ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    await op(n);
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/**
 * Operations per second of `op` run back to back (one at a time, as a request handler would),
 * after a warm-up of at least a second so that JIT compilation on both sides does not count.
 */
async function opsPerSecond(ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  await runFor(Math.max(ms / 2, 1_000), op);
  return Math.round(await runFor(ms, op));
}

async function insertInChunks<T>(
  model: mongoose.Model<T>,
  count: number,
  make: (i: number) => T,
  offset = 0,
): Promise<void> {
  const chunk = 5_000;
  for (let start = 0; start < count; start += chunk) {
    const docs = Array.from({ length: Math.min(chunk, count - start) }, (_, i) =>
      make(offset + start + i),
    );
    await model.collection.insertMany(docs as never[], { ordered: false });
  }
}

const email = (i: number) => `user${i}@example.com`;

/**
 * The embedded server as `npm start` runs it (a forked process), driven through mongoose:
 * single inserts, findOne by a unique field at 1k and 100k documents, and a sorted page of 20
 * over a compound index. With `uri`, it runs on that (already running) server in a database
 * of its own, dropped at the end so the next sections start from a small server; without, it
 * starts and stops a server of its own.
 */
export async function benchEmbeddedDb(opts: {
  quick: boolean;
  uri?: string;
}): Promise<Record<string, number>> {
  const phaseMs = opts.quick ? 1_000 : 3_000;
  const large = 100_000;
  const owners = opts.quick ? 50 : 100;
  const todosPerOwner = opts.quick ? 200 : 1_000;

  const server = opts.uri ? undefined : await spawnEmbeddedServer({ port: 0 });
  const uri = opts.uri ?? server!.uri;
  let conn: Connection | undefined;
  try {
    conn = await mongoose.createConnection(uri, { dbName: 'bench-embedded-db' }).asPromise();
    const userSchema = new Schema<BenchUser>({
      email: { type: String, unique: true },
      name: String,
    });
    // Two collections, 1k and 100k users, measured in alternation so that warm-up and drift
    // fall on both sizes alike; the ratio compares medians.
    const Small = conn.model('BenchUserSmall', userSchema);
    const Large = conn.model('BenchUserLarge', userSchema);
    const todoSchema = new Schema<BenchTodo>({
      owner: Schema.Types.ObjectId,
      title: String,
      createdAt: Date,
    });
    todoSchema.index({ owner: 1, createdAt: -1 });
    const Todo = conn.model('BenchTodo', todoSchema);
    await Promise.all([Small.init(), Large.init(), Todo.init()]);

    const results: Record<string, number> = {};

    let inserted = 0;
    results['insertOne/s'] = await opsPerSecond(phaseMs, () =>
      Small.create({ email: `single${inserted++}@example.com`, name: 'single' }),
    );

    await insertInChunks(Small, 1_000, (i) => ({ email: email(i), name: `user ${i}` }));
    const bulkStart = performance.now();
    await insertInChunks(Large, large, (i) => ({ email: email(i), name: `user ${i}` }));
    results['insertMany docs/s'] = Math.round((large * 1000) / (performance.now() - bulkStart));

    // Pairs of short measurements, the order alternating within each pair, and the ratio taken
    // per pair: this machine's speed drifts within seconds, so medians of each size taken
    // apart compared drift as much as size.
    const findSmall = (i: number) => Small.findOne({ email: email((i * 7919) % 1_000) }).lean();
    const findLarge = (i: number) => Large.findOne({ email: email((i * 7919) % large) }).lean();
    await runFor(2_000, findSmall);
    await runFor(2_000, findLarge);
    const pairs = opts.quick ? 3 : 9;
    const small: number[] = [];
    const big: number[] = [];
    const ratios: number[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const measureSmall = async () => small.push(Math.round(await runFor(phaseMs / 3, findSmall)));
      const measureLarge = async () => big.push(Math.round(await runFor(phaseMs / 3, findLarge)));
      if (pair % 2 === 0) {
        await measureSmall();
        await measureLarge();
      } else {
        await measureLarge();
        await measureSmall();
      }
      ratios.push(big[pair]! / small[pair]!);
    }
    results['findOne by unique field/s @1k'] = median(small);
    results['findOne by unique field/s @100k'] = median(big);
    results['findOne ratio 100k/1k (median of pairs)'] = Math.round(median(ratios) * 100) / 100;

    const ownerIds = Array.from({ length: owners }, () => new mongoose.Types.ObjectId());
    const base = Date.now() - 86_400_000;
    await insertInChunks(Todo, owners * todosPerOwner, (i) => ({
      owner: ownerIds[i % owners],
      title: `todo ${i}`,
      createdAt: new Date(base + i * 1000),
    }));
    results[`sorted page of 20 by {owner, createdAt}/s (${todosPerOwner}/owner)`] =
      await opsPerSecond(phaseMs, (i) =>
        Todo.find({ owner: ownerIds[i % owners] })
          .sort({ createdAt: -1 })
          .limit(20)
          .lean(),
      );
    Object.assign(results, await benchPersistence(phaseMs, large));
    return results;
  } finally {
    if (opts.uri) await conn?.dropDatabase();
    await conn?.close();
    await server?.stop();
  }
}

/** Milliseconds from forking a server to its "ready": journal replay included. */
async function timedStart(dbpath?: string) {
  const start = performance.now();
  const server = await spawnEmbeddedServer({ port: 0, dbpath });
  return { server, ms: Math.round(performance.now() - start) };
}

/**
 * The same server with `--dbpath`: inserts acknowledged only after fsync (one at a time, and
 * eight at once, which group commit serves with shared fsyncs), and the time a restart takes
 * to replay 100k documents.
 */
async function benchPersistence(phaseMs: number, large: number): Promise<Record<string, number>> {
  const dbpath = mkdtempSync(join(tmpdir(), 'bench-embedded-dbpath-'));
  const results: Record<string, number> = {};
  const empty = await timedStart();
  await empty.server.stop();
  results['start ms, in memory'] = empty.ms;
  let { server } = await timedStart(dbpath);
  let conn: Connection | undefined;
  try {
    conn = await mongoose.createConnection(server.uri, { dbName: 'bench-dbpath' }).asPromise();
    const users = conn.collection('users');
    await users.createIndex({ email: 1 }, { unique: true });
    let inserted = 0;
    results['insertOne/s (--dbpath)'] = await opsPerSecond(phaseMs, () =>
      users.insertOne({ email: `single${inserted++}@example.com`, name: 'single' }),
    );
    results['insertOne/s, 8 concurrent (--dbpath)'] =
      (await opsPerSecond(phaseMs, () =>
        Promise.all(
          Array.from({ length: 8 }, () =>
            users.insertOne({ email: `single${inserted++}@example.com`, name: 'single' }),
          ),
        ),
      )) * 8;
    const bulkStart = performance.now();
    for (let start = 0; start < large; start += 5_000) {
      await users.insertMany(
        Array.from({ length: 5_000 }, (_, i) => ({ email: email(start + i), name: `user ${i}` })),
      );
    }
    results['insertMany docs/s (--dbpath)'] = Math.round(
      (large * 1000) / (performance.now() - bulkStart),
    );
    await conn.close();
    conn = undefined;
    await server.stop();
    const restarted = await timedStart(dbpath);
    server = restarted.server;
    results['restart ms @100k docs (--dbpath)'] = restarted.ms;
    await server.stop();
    // The replay alone, without forking a process and loading its modules.
    const replayStart = performance.now();
    const inProcess = await startEmbeddedServer({ port: 0, dbpath });
    results['journal replay ms @100k docs (in process)'] = Math.round(
      performance.now() - replayStart,
    );
    await inProcess.stop();
    return results;
  } finally {
    await conn?.close();
    await server.stop();
    rmSync(dbpath, { recursive: true, force: true });
  }
}

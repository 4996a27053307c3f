import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MongoClient } from 'mongodb';

import type * as Package from '../src';
import { compiledPackage } from './compiled';
import { describeEmbeddedOnly } from './harness';

interface State {
  n: number;
  log: number[];
}

/** What the writers know: states the server acknowledged, and operations left unanswered. */
interface Ledger {
  acked: Map<string, State>;
  /** An operation sent but never answered: the document must be in one of these states. */
  unanswered: Map<string, { before: State | undefined; after: State }>;
}

const ROUNDS = 20;
const WRITERS = 4;

/**
 * One writer: inserts documents of its own and updates them (`$inc` and `$push` together, so a
 * half-applied update would show), one operation at a time, until the server goes away.
 */
async function writer(client: MongoClient, id: string, ledger: Ledger, firstAck: () => void) {
  const c = client.db('crash').collection<{ _id: string } & State>('docs');
  const mine: string[] = [];
  for (let i = 0; ; i++) {
    const update = mine.length > 0 && i % 3 !== 0;
    const docId = update ? mine[i % mine.length] : `${id}-${i}`;
    const before = ledger.acked.get(docId);
    const after = before
      ? { n: before.n + 1, log: [...before.log, before.n + 1] }
      : { n: 0, log: [] };
    ledger.unanswered.set(docId, { before, after });
    try {
      if (before) {
        await c.updateOne({ _id: docId }, { $inc: { n: 1 }, $push: { log: before.n + 1 } });
      } else {
        await c.insertOne({ _id: docId, ...after });
        mine.push(docId);
      }
    } catch {
      return; // the server was killed: this operation stays unanswered
    }
    ledger.unanswered.delete(docId);
    ledger.acked.set(docId, after);
    firstAck();
  }
}

async function verify(uri: string, ledger: Ledger): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const docs = await client
      .db('crash')
      .collection<{ _id: string } & State>('docs')
      .find()
      .toArray();
    const found = new Map(docs.map(({ _id, ...state }) => [_id, state]));
    for (const [id, state] of ledger.acked) {
      if (ledger.unanswered.has(id)) continue;
      expect({ id, state: found.get(id) }).toEqual({ id, state });
    }
    for (const [id, { before, after }] of ledger.unanswered) {
      // All of the operation or none of it.
      expect([before, after]).toContainEqual(found.get(id));
      const state = found.get(id);
      if (state) ledger.acked.set(id, state);
      else ledger.acked.delete(id);
    }
    ledger.unanswered.clear();
    for (const id of found.keys())
      expect({ id, known: ledger.acked.has(id) }).toEqual({ id, known: true });
  } finally {
    await client.close();
  }
}

describeEmbeddedOnly('crash safety: SIGKILL while writing', () => {
  let compiled: { pkg: typeof Package; dispose(): void };
  let dbpath: string;
  beforeAll(() => {
    compiled = compiledPackage();
    dbpath = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-crash-'));
  }, 120_000);
  afterAll(() => {
    compiled?.dispose();
    fs.rmSync(dbpath, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write and half-applies none, over ${ROUNDS} kills`, async () => {
    const ledger: Ledger = { acked: new Map(), unanswered: new Map() };
    for (let round = 0; round < ROUNDS; round++) {
      const server = await compiled.pkg.spawnEmbeddedServer({ port: 0, dbpath });
      // What the previous round's writers saw acknowledged survived its kill.
      await verify(server.uri, ledger);
      const client = new MongoClient(server.uri, { retryWrites: false, maxPoolSize: WRITERS });
      await client.connect();
      let acked!: () => void;
      const firstAck = new Promise<void>((resolve) => (acked = resolve));
      const writers = Array.from({ length: WRITERS }, (_, w) =>
        writer(client, `r${round}w${w}`, ledger, acked),
      );
      await firstAck;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
      process.kill(server.pid, 'SIGKILL');
      await Promise.all(writers);
      await client.close(true);
      await server.stop();
    }
    const server = await compiled.pkg.spawnEmbeddedServer({ port: 0, dbpath });
    try {
      await verify(server.uri, ledger);
      expect(ledger.acked.size).toBeGreaterThan(ROUNDS * WRITERS);
    } finally {
      await server.stop();
    }
  }, 600_000);
});

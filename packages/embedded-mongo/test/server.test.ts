import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';

import { MongoClient } from 'mongodb';

import { spawnEmbeddedServer } from '../src';
import { type AnyDoc, describeEmbeddedOnly, useDriver } from './harness';
import {
  OP_COMPRESSED,
  OP_MSG,
  OP_REPLY,
  RawClient,
  header,
  opMsg,
  opQuery,
  takeRequestId,
} from './raw-wire';

const root = path.resolve(__dirname, '..');

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline !== -1) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function ping(uri: string): Promise<unknown> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  try {
    return await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

describe('handshake and catalog commands', () => {
  const h = useDriver();

  it('answers hello as a writable standalone', async () => {
    const hello = await h.db.admin().command({ hello: 1, helloOk: true });
    expect(hello).toMatchObject({
      helloOk: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 100000,
      logicalSessionTimeoutMinutes: 30,
      minWireVersion: 0,
      readOnly: false,
      ok: 1,
    });
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(typeof hello.connectionId).toBe('number');
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(21);
  });

  it('answers ping, buildInfo and getParameter', async () => {
    expect(await h.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    const info = await h.db.admin().command({ buildInfo: 1 });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.versionArray).toHaveLength(4);
    const fcv = await h.db.admin().command({ getParameter: 1, featureCompatibilityVersion: 1 });
    expect(fcv.featureCompatibilityVersion.version).toMatch(/^\d+\.\d+$/);
  });

  it('accepts endSessions', async () => {
    const session = h.client.startSession();
    await h.db.collection<AnyDoc>('sessions').findOne({}, { session });
    const reply = await h.db.admin().command({ endSessions: [session.id] });
    expect(reply).toMatchObject({ ok: 1 });
    await session.endSession();
  });

  it('lists databases that hold collections', async () => {
    await h.db.collection<AnyDoc>('present').insertOne({ a: 1 });
    const all = await h.db.admin().command({ listDatabases: 1 });
    const mine = all.databases.find((d: { name: string }) => d.name === h.database.dbName);
    expect(mine).toMatchObject({ name: h.database.dbName, empty: false });
    expect(typeof mine.sizeOnDisk).toBe('number');
    expect(typeof all.totalSize).toBe('number');
    const named = await h.db.admin().command({
      listDatabases: 1,
      nameOnly: true,
      filter: { name: h.database.dbName },
    });
    expect(named.databases).toEqual([{ name: h.database.dbName }]);
  });

  it('lists collections with a filter, as a cursor reply', async () => {
    await h.db.createCollection('alpha');
    await h.db.createCollection('beta');
    const reply = await h.db.command({ listCollections: 1, filter: { name: 'alpha' } });
    expect(reply).toMatchObject({
      cursor: { id: 0, ns: `${h.database.dbName}.$cmd.listCollections` },
      ok: 1,
    });
    expect(reply.cursor.firstBatch).toHaveLength(1);
    expect(reply.cursor.firstBatch[0]).toMatchObject({
      name: 'alpha',
      type: 'collection',
      options: {},
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
    const names = await h.db.listCollections({}, { nameOnly: true }).toArray();
    expect(names).toEqual(expect.arrayContaining([{ name: 'alpha', type: 'collection' }]));
    expect(names.map((c) => c.name)).toEqual(expect.arrayContaining(['alpha', 'beta']));
  });

  it('drops a collection with its documents and indexes', async () => {
    const coll = h.db.collection<AnyDoc>('doomed');
    await coll.insertOne({ a: 1 });
    await coll.createIndex({ a: 1 });
    const reply = await h.db.command({ drop: 'doomed' });
    expect(reply).toMatchObject({ nIndexesWas: 2, ns: `${h.database.dbName}.doomed`, ok: 1 });
    expect(await coll.countDocuments()).toBe(0);
    const names = (await h.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).not.toContain('doomed');
    expect(await coll.drop()).toBe(true);
  });

  it('drops a whole database', async () => {
    const other = h.client.db(`${h.database.dbName}_other`);
    await other.collection<AnyDoc>('x').insertOne({ a: 1 });
    await other.collection<AnyDoc>('y').insertOne({ a: 1 });
    expect(await other.dropDatabase()).toBe(true);
    expect(await other.listCollections().toArray()).toEqual([]);
    const all = await h.db.admin().command({ listDatabases: 1, nameOnly: true });
    expect(all.databases.map((d: { name: string }) => d.name)).not.toContain(other.databaseName);
  });
});

describeEmbeddedOnly('handshake details of the embedded server', () => {
  const h = useDriver();

  it('presents itself as MongoDB 7.0 without compression or a topology version', async () => {
    const hello = await h.db.admin().command({ hello: 1 });
    expect(hello.maxWireVersion).toBe(21);
    expect(hello.compression).toBeUndefined();
    expect(hello.topologyVersion).toBeUndefined();
    expect(hello.setName).toBeUndefined();
    const info = await h.db.admin().command({ buildInfo: 1 });
    expect(info.version).toMatch(/^7\.0\.\d+$/);
  });
});

describeEmbeddedOnly('wire protocol', () => {
  const h = useDriver();
  let client: RawClient;
  const port = () => Number(new URL(h.database.uri).port);

  beforeEach(async () => {
    client = await RawClient.open(port());
  });
  afterEach(() => client.end());

  it('answers the legacy OP_QUERY handshake with OP_REPLY', async () => {
    const q = opQuery('admin.$cmd', { isMaster: 1, helloOk: true, client: { driver: 'raw' } });
    client.socket.write(q.bytes);
    const reply = await client.next();
    expect(reply).toMatchObject({ opCode: OP_REPLY, responseTo: q.requestId, numberReturned: 1 });
    expect(reply.doc).toMatchObject({ ismaster: true, helloOk: true, maxWireVersion: 21, ok: 1 });
  });

  it('refuses OP_QUERY for anything but the handshake', async () => {
    client.socket.write(opQuery(`${h.database.dbName}.$cmd`, { find: 'x' }).bytes);
    const reply = await client.next();
    expect(reply.doc).toMatchObject({ ok: 0, code: 352, codeName: 'UnsupportedOpQueryCommand' });
  });

  it('answers OP_MSG with OP_MSG and merges document sequences into the body', async () => {
    const msg = opMsg(
      { insert: 'wire', $db: h.database.dbName },
      { sequences: { documents: [{ _id: 1 }, { _id: 2 }] } },
    );
    client.socket.write(msg.bytes);
    const reply = await client.next();
    expect(reply).toMatchObject({
      opCode: OP_MSG,
      responseTo: msg.requestId,
      doc: { n: 2, ok: 1 },
    });
    expect(await h.db.collection<AnyDoc>('wire').countDocuments({ _id: { $in: [1, 2] } })).toBe(2);
  });

  it('accepts a checksum without verifying it', async () => {
    client.socket.write(opMsg({ ping: 1, $db: 'admin' }, { checksum: true }).bytes);
    expect((await client.next()).doc).toEqual({ ok: 1 });
  });

  it('sends no reply when moreToCome is set, but runs the command', async () => {
    client.socket.write(
      opMsg({ insert: 'wire_silent', documents: [{ a: 1 }], $db: h.database.dbName }, { flags: 2 })
        .bytes,
    );
    const ping = opMsg({ ping: 1, $db: 'admin' });
    client.socket.write(ping.bytes);
    const reply = await client.next();
    expect(reply.responseTo).toBe(ping.requestId);
    expect(client.pending()).toBe(0);
    expect(await h.db.collection<AnyDoc>('wire_silent').countDocuments()).toBe(1);
  });

  it('reassembles a message split across TCP chunks', async () => {
    const msg = opMsg({ ping: 1, $db: 'admin' });
    client.socket.setNoDelay(true);
    for (const cut of [
      [0, 3],
      [3, 17],
      [17, msg.bytes.length],
    ]) {
      client.socket.write(msg.bytes.subarray(cut[0], cut[1]));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await client.next()).toMatchObject({ responseTo: msg.requestId, doc: { ok: 1 } });
  });

  it('answers several messages sent in one chunk, in order', async () => {
    const a = opMsg({ ping: 1, $db: 'admin' });
    const b = opMsg({ buildInfo: 1, $db: 'admin' });
    client.socket.write(Buffer.concat([a.bytes, b.bytes]));
    expect((await client.next()).responseTo).toBe(a.requestId);
    const second = await client.next();
    expect(second.responseTo).toBe(b.requestId);
    expect(second.doc.version).toMatch(/^7\.0\./);
  });

  it('answers OP_COMPRESSED with a clear error and closes the connection', async () => {
    const body = Buffer.alloc(9);
    body.writeInt32LE(OP_MSG, 0);
    body.writeInt32LE(10, 4);
    body[8] = 2;
    client.socket.write(
      Buffer.concat([header(16 + 9 + 10, takeRequestId(), OP_COMPRESSED), body, Buffer.alloc(10)]),
    );
    const reply = await client.next();
    expect(reply.doc).toMatchObject({ ok: 0, code: 115 });
    expect(reply.doc.errmsg).toMatch(/OP_COMPRESSED/);
    expect(await client.waitClosed()).toBe(true);
  });

  it('closes the connection on a message above maxMessageSizeBytes', async () => {
    client.socket.write(header(48_000_001, takeRequestId(), OP_MSG));
    expect(await client.waitClosed()).toBe(true);
  });

  it('answers a command without $db with an error', async () => {
    client.socket.write(opMsg({ ping: 1 }).bytes);
    expect((await client.next()).doc).toMatchObject({ ok: 0 });
  });
});

describeEmbeddedOnly('running the embedded server as its own process', () => {
  it('prints one line with the connection string and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/main.ts', '--port', '0'],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await firstLine(child);
    const match =
      /^Embedded MongoDB-compatible server \(in memory\) listening on (mongodb:\/\/127\.0\.0\.1:(\d+)\/)$/.exec(
        line,
      );
    expect(match).not.toBeNull();
    expect(await ping(match![1])).toMatchObject({ ok: 1 });
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('forks a server with spawnEmbeddedServer and stops it', async () => {
    const server = await spawnEmbeddedServer({ port: 0 });
    const port = Number(new URL(server.uri).port);
    expect(await ping(server.uri)).toMatchObject({ ok: 1 });
    await server.stop();
    expect(await portAccepts(port)).toBe(false);
  });

  it('takes the forked server down with its parent', async () => {
    const parent = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-e',
        "require('./src/spawn').spawnEmbeddedServer({ port: 0 }).then((s) => process.stdout.write(s.uri + '\\n')); setInterval(() => {}, 1000);",
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const uri = await firstLine(parent);
    const port = Number(new URL(uri).port);
    expect(await portAccepts(port)).toBe(true);
    parent.kill('SIGKILL');
    await exited(parent);
    const deadline = Date.now() + 5000;
    while ((await portAccepts(port)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await portAccepts(port)).toBe(false);
  });
});

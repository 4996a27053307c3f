import { startEmbeddedServer } from '../src';
import { type AnyDoc, describeEmbeddedOnly, serverError, useDriver } from './harness';
import { header, OP_MSG, opMsg, RawClient } from './raw-wire';

// Large documents and thousands of inserts are slow on a loaded machine.
jest.setTimeout(120_000);

describe('limits: a request over a limit gets an error, everyone else is served', () => {
  const h = useDriver();

  it('answers $range over the memory limit with ExceededMemoryLimit and keeps serving', async () => {
    const err = await serverError(
      h.db.aggregate([{ $documents: [{}] }, { $project: { r: { $range: [0, 3e8] } } }]).toArray(),
    );
    expect(err).toMatchObject({ code: 146, codeName: 'ExceededMemoryLimit' });
    expect(String(err.message)).toMatch(/\$range would use too much memory/);
    expect(await h.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    // A small range still works.
    const [doc] = await h.db
      .aggregate([{ $documents: [{}] }, { $project: { _id: 0, r: { $range: [0, 3] } } }])
      .toArray();
    expect(doc).toEqual({ r: [0, 1, 2] });
  });

  it('answers a result document over 16 MB with BSONObjectTooLarge', async () => {
    const c = h.db.collection<AnyDoc>('big');
    await c.insertOne({ _id: 1, s: 'x'.repeat(1024 * 1024) });
    const err = await serverError(
      c
        .aggregate([{ $project: { copies: { $map: { input: { $range: [0, 20] }, in: '$s' } } } }])
        .toArray(),
    );
    expect(err).toMatchObject({ code: 10334 });
    expect(await h.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('stops a query past maxTimeMS with MaxTimeMSExpired', async () => {
    const c = h.db.collection<AnyDoc>('slow');
    await c.insertMany(Array.from({ length: 5000 }, (_, i) => ({ _id: i })));
    const expensive = { $expr: { $gt: [{ $size: { $range: [0, 2000] } }, 0] } };
    const find = await serverError(c.find(expensive).maxTimeMS(1).toArray());
    expect(find).toMatchObject({ code: 50, codeName: 'MaxTimeMSExpired' });
    const aggregate = await serverError(
      c.aggregate([{ $match: expensive }], { maxTimeMS: 1 }).toArray(),
    );
    expect(aggregate).toMatchObject({ code: 50 });
    // Without the limit the same query completes.
    expect(await c.countDocuments({ _id: { $lt: 10 }, ...expensive })).toBe(10);
  });
});

describeEmbeddedOnly('limits of this server', () => {
  const h = useDriver();

  it('refuses a regex with nested quantifiers instead of backtracking for seconds', async () => {
    const c = h.db.collection<AnyDoc>('text');
    await c.insertOne({ s: `${'a'.repeat(40)}!` });
    for (const filter of [{ s: { $regex: '^(a+)+$' } }, { s: /^(\w+\s?)*$/ }]) {
      const err = await serverError(c.find(filter).toArray());
      expect(err).toMatchObject({ code: 115 });
      expect(String(err.message)).toMatch(/nested quantifiers/);
    }
    const expr = await serverError(
      c
        .aggregate([{ $project: { m: { $regexMatch: { input: '$s', regex: '(a*)*b' } } } }])
        .toArray(),
    );
    expect(expr).toMatchObject({ code: 115 });
    // Ordinary patterns run.
    expect(await c.countDocuments({ s: { $regex: '^a+!$' } })).toBe(1);
  });

  describe('connections', () => {
    let server: Awaited<ReturnType<typeof startEmbeddedServer>>;
    beforeAll(async () => {
      server = await startEmbeddedServer({
        port: 0,
        maxConnections: 3,
        maxBufferedBytes: 64 * 1024,
        halfSentMessageTimeoutMs: 300,
      });
    });
    afterAll(() => server.stop());

    async function ping(client: RawClient): Promise<unknown> {
      const { bytes } = opMsg({ ping: 1, $db: 'admin' });
      client.socket.write(bytes);
      return (await client.next(10_000)).doc;
    }

    it('closes a half-sent message left idle, and only that connection', async () => {
      const idle = await RawClient.open(server.port);
      const halfSent = await RawClient.open(server.port);
      halfSent.socket.write(Buffer.concat([header(1000, 1, OP_MSG), Buffer.alloc(20)]));
      expect(await halfSent.waitClosed(10_000)).toBe(true);
      // A connection with nothing half-sent is not timed out.
      expect(await ping(idle)).toMatchObject({ ok: 1 });
      idle.end();
    });

    it('closes a connection that would push half-sent bytes past the budget', async () => {
      const greedy = await RawClient.open(server.port);
      greedy.socket.write(Buffer.concat([header(1_000_000, 1, OP_MSG), Buffer.alloc(100_000)]));
      expect(await greedy.waitClosed(10_000)).toBe(true);
      const other = await RawClient.open(server.port);
      expect(await ping(other)).toMatchObject({ ok: 1 });
      other.end();
    });

    it('closes connections beyond the maximum and serves the ones it has', async () => {
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.open(server.port)));
      for (const client of clients) expect(await ping(client)).toMatchObject({ ok: 1 });
      const extra = await RawClient.open(server.port);
      expect(await extra.waitClosed(10_000)).toBe(true);
      // Once one leaves, a newcomer is served (the server notices the close asynchronously).
      clients[0].end();
      let answered: unknown;
      for (let attempt = 0; attempt < 100 && answered === undefined; attempt++) {
        const next = await RawClient.open(server.port);
        answered = await ping(next).catch(() => undefined);
        next.end();
      }
      expect(answered).toMatchObject({ ok: 1 });
      for (const client of clients) client.end();
    });
  });
});

import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { startEmbeddedServer } from '@graphql-auth-api/embedded-mongo';
import { describeEmbeddedOnly, startTestDatabase, type TestDatabase } from '../helpers/database';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';

const secret = () => randomBytes(32).toString('hex');

/** Sends a POST whose body arrives in two parts, `gap` apart; resolves with the raw response. */
function slowRequest(url: string, body: string, duringGap: () => Promise<void>): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      const half = Math.floor(body.length / 2);
      socket.write(body.slice(0, half));
      void duringGap().then(() => socket.write(body.slice(half)), reject);
    });
  });
}

describe('graceful shutdown', () => {
  let db: TestDatabase;
  let api: ApiProcess;
  beforeAll(async () => {
    db = await startTestDatabase();
    api = await startApiProcess({
      MONGODB_URI: uriWithDatabase(db.uri, db.dbName),
      JWT_SECRET: secret(),
    });
  }, 30_000);
  afterAll(async () => {
    await api.stop('SIGKILL');
    await db.stop();
  });

  it('on SIGTERM finishes the request in flight, refuses new connections and exits 0', async () => {
    const started = Date.now();
    const response = await slowRequest(
      api.url,
      JSON.stringify({ query: '{ __typename }' }),
      async () => {
        api.child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 300));
        // The listener is closed: a new connection is refused while the old one is served.
        const { port } = new URL(api.url);
        await expect(
          new Promise((resolve, reject) =>
            connect(Number(port), '127.0.0.1').on('connect', resolve).on('error', reject),
          ),
        ).rejects.toThrow(/ECONNREFUSED/);
      },
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response).toContain('"__typename":"Query"');
    expect(await api.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(api.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['shutting down: finishing in-flight requests', 'stopped']),
    );
  });
});

describeEmbeddedOnly('readiness', () => {
  it('/readyz answers 503 while the database is down and 200 again once it is back, without a restart', async () => {
    let server = await startEmbeddedServer({ port: 0 });
    const port = server.port;
    const api = await startApiProcess({
      MONGODB_URI: `${server.uri}readiness`,
      JWT_SECRET: secret(),
    });
    try {
      const ready = () => fetch(`${api.url}/readyz`).then((res) => res.status);
      const waitFor = async (status: number) => {
        for (let i = 0; i < 60 && (await ready()) !== status; i += 1)
          await new Promise((resolve) => setTimeout(resolve, 250));
        return ready();
      };
      expect(await ready()).toBe(200);
      await server.stop();
      expect(await waitFor(503)).toBe(503);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      server = await startEmbeddedServer({ port });
      expect(await waitFor(200)).toBe(200);
    } finally {
      await api.stop('SIGKILL');
      await server.stop();
    }
  }, 40_000);
});

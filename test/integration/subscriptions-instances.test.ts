import { randomBytes } from 'node:crypto';
import { AUTH_FIELDS } from '../helpers/operations';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { gql } from '../helpers/graphql';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';
import {
  EVENT_FIELDS,
  type Stream,
  type TestSocket,
  bearer,
  openSocket,
} from '../helpers/subscriptions';

/**
 * Two API processes over one database, as behind a load balancer: a change made through one
 * reaches the subscribers of the other; and a process stopped with open sockets exits
 * cleanly, closing them normally.
 */
let db: TestDatabase;
let a: ApiProcess;
let b: ApiProcess;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
  const env = {
    MONGODB_URI: uriWithDatabase(db.uri, db.dbName),
    JWT_SECRET: randomBytes(32).toString('hex'),
    AUTH_REVALIDATE_SECONDS: '1',
    SHUTDOWN_TIMEOUT: '10s',
  };
  [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.client.dispose()));
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.stop();
});

const REGISTER = `mutation ($i: RegisterInput!) { register(input: $i) { ${AUTH_FIELDS} } }`;
const CREATE = 'mutation ($t: String!) { createTodo(input: { title: $t }) { id } }';

async function registerOn(api: ApiProcess, name: string) {
  const res = await gql(api.url, REGISTER, {
    i: {
      email: `${name}-${randomBytes(4).toString('hex')}@example.com`,
      password: 'multi instance passphrase',
      name,
    },
  });
  return res.data!.register as { accessToken: string; user: { id: string } };
}

/**
 * A subscription gives no signal that the server has registered it: create todos through
 * `via` until one arrives, so the next one is known to be created after it was live.
 */
async function untilLive(stream: Stream, via: ApiProcess, token: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    await gql(via.url, CREATE, { t: `probe ${attempt}` }, { token });
    try {
      await stream.next(1500);
      return;
    } catch {
      // not live yet; probe again
    }
  }
  throw new Error('the subscription never delivered');
}

it('a todo created through B reaches a subscriber on A', async () => {
  const ada = await registerOn(a, 'ada');
  const socket = openSocket(a.url, bearer(ada.accessToken));
  sockets.push(socket);
  await socket.connected;
  const stream = socket.subscribe(`subscription { myTodoEvents { ${EVENT_FIELDS} } }`);
  await untilLive(stream, b, ada.accessToken);
  // Probes delivered late may still be queued: skip to the one created now.
  const made = await gql(b.url, CREATE, { t: 'made on B' }, { token: ada.accessToken });
  const todoId = made.data!.createTodo.id as string;
  for (;;) {
    const result = await stream.next(5000);
    if (result.data!.myTodoEvents.todoId !== todoId) continue;
    expect(result.data!.myTodoEvents).toMatchObject({
      kind: 'CREATED',
      todo: { title: 'made on B', owner: { id: ada.user.id } },
    });
    break;
  }
});

it('SIGTERM with open sockets: clients see a normal close and the process exits 0', async () => {
  const bob = await registerOn(b, 'bob');
  const socket = openSocket(b.url, bearer(bob.accessToken));
  sockets.push(socket);
  await socket.connected;
  socket.subscribe(`subscription { myTodoEvents { ${EVENT_FIELDS} } }`);
  const anonymous = openSocket(b.url);
  sockets.push(anonymous);
  await anonymous.connected;

  const exitCode = b.stop('SIGTERM');
  const [closed, closedAnonymous] = await Promise.all([socket.closed, anonymous.closed]);
  expect([1000, 1001]).toContain(closed.code);
  expect([1000, 1001]).toContain(closedAnonymous.code);
  // Within SHUTDOWN_TIMEOUT, or the process would have exited 1.
  expect(await exitCode).toBe(0);
});

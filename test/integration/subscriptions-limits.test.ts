import WebSocket from 'ws';
import { type TestApp, startTestApp } from '../helpers/app';
import { register } from '../helpers/operations';
import { EVENT_FIELDS, type TestSocket, bearer, openSocket, wsUrl } from '../helpers/subscriptions';

/** The socket has the HTTP path's limits, and a few of its own. */
let t: TestApp;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  t = await startTestApp({
    WS_MAX_SUBSCRIPTIONS: '2',
    WS_INIT_TIMEOUT: '1',
    WS_MAX_MESSAGE_BYTES: '4096',
    GRAPHQL_MAX_ALIASES: '2',
  });
});

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.client.dispose()));
  await t.stop();
});

async function signedInSocket(): Promise<TestSocket> {
  const ada = await register(t);
  const socket = openSocket(t.url, bearer(ada.accessToken));
  sockets.push(socket);
  await socket.connected;
  return socket;
}

/** The error a refused operation ended with. */
const refusal = async (stream: ReturnType<TestSocket['subscribe']>) =>
  ((await stream.ended) as Array<{ message: string; extensions?: { code?: string } }>)[0]!;

it('at most WS_MAX_SUBSCRIPTIONS operations per socket', async () => {
  const socket = await signedInSocket();
  const query = `subscription { myTodoEvents { ${EVENT_FIELDS} } }`;
  socket.subscribe(query);
  socket.subscribe(query);
  const third = socket.subscribe(query);
  expect((await refusal(third)).extensions!.code).toBe('TOO_MANY_REQUESTS');
});

it('the query limits apply to subscription documents', async () => {
  const socket = await signedInSocket();
  const aliases = socket.subscribe(
    'subscription { a: myTodoEvents { kind } b: myTodoEvents { kind } c: myTodoEvents { kind } }',
  );
  expect((await refusal(aliases)).extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');

  const deep = socket.subscribe(
    `subscription { myTodoEvents { todo { owner { todos { edges { node { owner { todos { edges { node { owner { id } } } } } } } } } } } }`,
  );
  expect((await refusal(deep)).extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
});

it('queries and mutations are refused over the socket (HTTP serves them)', async () => {
  const socket = await signedInSocket();
  const query = socket.subscribe('{ me { id } }');
  expect((await refusal(query)).extensions!.code).toBe('BAD_REQUEST');
});

it('a socket that does not send connection_init in time is closed', async () => {
  const raw = new WebSocket(wsUrl(t.url), 'graphql-transport-ws');
  const code = await new Promise<number>((resolve) => raw.on('close', (c) => resolve(c)));
  expect(code).toBe(4408);
});

it('a message over WS_MAX_MESSAGE_BYTES closes the socket (1009)', async () => {
  const raw = new WebSocket(wsUrl(t.url), 'graphql-transport-ws');
  await new Promise((resolve) => raw.on('open', resolve));
  const closed = new Promise<number>((resolve) => raw.on('close', (c) => resolve(c)));
  raw.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(8000) } }));
  expect(await closed).toBe(1009);
});

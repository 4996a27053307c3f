import { type TestApp, productionEnv, startTestApp } from '../helpers/app';
import { register } from '../helpers/operations';
import { type TestSocket, bearer, openSocket } from '../helpers/subscriptions';

/** Production hides the schema over the socket as it does over HTTP. */
let t: TestApp;
let socket: TestSocket | undefined;

beforeAll(async () => {
  t = await startTestApp(productionEnv());
});

afterAll(async () => {
  await socket?.client.dispose();
  await t.stop();
});

it('refuses introspection over the socket', async () => {
  const ada = await register(t);
  socket = openSocket(t.url, bearer(ada.accessToken));
  await socket.connected;
  const stream = socket.subscribe('subscription { __schema { queryType { name } } }');
  const errors = (await stream.ended) as Array<{ message: string; extensions?: { code?: string } }>;
  expect(errors[0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(errors[0]!.message).toMatch(/introspection/i);
});

import { type TestApp, startTestApp } from '../helpers/app';
import { register } from '../helpers/operations';
import { EVENT_FIELDS, bearer, openSocket } from '../helpers/subscriptions';

/** An access token's socket ends at the token's `exp`: 4401 TOKEN_EXPIRED, so clients refresh. */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ ACCESS_TOKEN_TTL: '3' });
});

afterAll(async () => {
  await t.stop();
});

const expOf = (jwt: string): number =>
  (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;

it('closes the socket with 4401 TOKEN_EXPIRED once the token expires', async () => {
  const ada = await register(t);
  const socket = openSocket(t.url, bearer(ada.accessToken));
  await socket.connected;
  socket.subscribe(`subscription { myTodoEvents { ${EVENT_FIELDS} } }`);

  const closed = await socket.closed;
  expect(closed).toMatchObject({ code: 4401, reason: 'TOKEN_EXPIRED' });
  const exp = expOf(ada.accessToken) * 1000;
  // Not before exp; and soon after it (generous: a behavioural check, not a benchmark).
  expect(closed.at).toBeGreaterThanOrEqual(exp - 50);
  expect(closed.at).toBeLessThan(exp + 2000);
});

it('an already expired token is refused at connect with 4401', async () => {
  const ada = await register(t);
  const wait = expOf(ada.accessToken) * 1000 - Date.now() + 100;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  const socket = openSocket(t.url, bearer(ada.accessToken));
  expect(await socket.closed).toMatchObject({ code: 4401, reason: 'TOKEN_EXPIRED' });
});

import { type Socket, connect } from 'node:net';
import { useTestApp } from '../helpers/app';
import { type GraphQLResponse, codeOf, gql } from '../helpers/graphql';
import { REGISTER, type SignedIn, login, register, uniqueEmail } from '../helpers/operations';
import { freshAddress } from './support';

/**
 * How much of the server one client address may hold at once (MAX_CONCURRENT_REQUESTS_PER_IP
 * and friends): requests beyond its slots wait, beyond its queue they are answered 429 at once,
 * and an address that was answered 429 gets one slot until its Retry-After has passed.
 * Sign-ins (one argon2 verification each, tens of milliseconds) keep slots busy long enough for
 * requests sent together to meet.
 */
const t = useTestApp({
  TRUST_PROXY: 'loopback',
  MAX_CONCURRENT_REQUESTS_PER_IP: '3',
  MAX_CONCURRENT_REQUESTS_PER_REFUSED_IP: '1',
  MAX_QUEUED_REQUESTS_PER_IP: '1',
  RATE_LIMIT_REGISTER_PER_IP: '1/1h',
  ARGON2_QUEUE_PER_CLIENT: '64',
});

let owner: SignedIn;
beforeAll(async () => {
  owner = await register(t);
});

/** `count` sign-ins of the owner sent at once from `address`. */
const loginsAtOnce = (address: string, count: number) =>
  Promise.all(
    Array.from({ length: count }, () =>
      login(t, owner.email, owner.password, { 'x-forwarded-for': address }),
    ),
  );

const served = (answers: GraphQLResponse[]) => answers.filter((res) => res.data?.login).length;
const refused = (answers: GraphQLResponse[]) =>
  answers.filter((res) => res.status === 429 && codeOf(res) === 'TOO_MANY_REQUESTS');

it('one address gets 3 sign-ins in progress and 1 waiting; more at once are refused with 429 before any work, while another address is served', async () => {
  const flooder = freshAddress();
  const [flood, other] = await Promise.all([
    loginsAtOnce(flooder, 6),
    loginsAtOnce(freshAddress(), 3),
  ]);
  expect(served(other)).toBe(3);
  // 3 in progress and 1 waiting are served; without the queue only 3 would be.
  expect(served(flood)).toBeGreaterThanOrEqual(4);
  expect(refused(flood).length).toBeGreaterThanOrEqual(1);
  expect(served(flood) + refused(flood).length).toBe(6);
  for (const res of refused(flood)) {
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.errors![0]!.extensions).toMatchObject({ retryAfter: 1 });
  }
});

it('an address that was answered 429 gets one request in progress at a time until its Retry-After has passed', async () => {
  const address = freshAddress();
  // Before: 3 at once are all served.
  expect(served(await loginsAtOnce(address, 3))).toBe(3);

  const first = await gql(
    t.url,
    REGISTER,
    { input: { email: uniqueEmail(), password: 'correct horse battery', name: 'N' } },
    { headers: { 'x-forwarded-for': address } },
  );
  expect(first.data?.register).toBeTruthy();
  const second = await gql(
    t.url,
    REGISTER,
    { input: { email: uniqueEmail(), password: 'correct horse battery', name: 'N' } },
    { headers: { 'x-forwarded-for': address } },
  );
  expect(second.status).toBe(429);

  // Now 1 in progress and 1 waiting: of 3 at once, one is refused.
  const after = await loginsAtOnce(address, 3);
  expect(served(after)).toBe(2);
  expect(refused(after)).toHaveLength(1);
  // Another address keeps its 3 slots.
  expect(served(await loginsAtOnce(freshAddress(), 3))).toBe(3);
});

/**
 * `count` registrations from `address`, written on as many sockets in one go, so that the
 * server reads them all in one turn of its event loop; their status and Retry-After.
 */
async function registrationsInOneTurn(address: string, count: number) {
  const { hostname, port } = new URL(t.url);
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  // The server runs in this process: a few turns of its event loop let it accept them all.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const answers = sockets.map(
    (socket) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.once('end', () => resolve(text));
        socket.once('error', reject);
      }),
  );
  for (const socket of sockets) {
    const body = JSON.stringify({
      query: REGISTER,
      variables: { input: { email: uniqueEmail(), password: 'correct horse battery', name: 'N' } },
    });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Forwarded-For: ${address}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  return (await Promise.all(answers)).map((text) => ({
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]),
    retryAfter: /\r\nretry-after: (\d+)\r\n/i.exec(text)?.[1],
  }));
}

it('a refused address gets one request at a time even when each of its requests is answered without any I/O', async () => {
  const address = freshAddress();
  const register = (email: string) =>
    gql(
      t.url,
      REGISTER,
      { input: { email, password: 'correct horse battery', name: 'N' } },
      { headers: { 'x-forwarded-for': address } },
    );
  expect((await register(uniqueEmail())).data?.register).toBeTruthy();
  expect((await register(uniqueEmail())).status).toBe(429);
  // Once its queue has drained, each further registration is refused from memory, with no
  // I/O: answered within the turn it was read in. Read together, they must still go one at a
  // time: 1 in progress, 1 waiting, the rest refused at once (Retry-After 1), not all of them
  // run back to back while everyone else's requests wait.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const answers = await registrationsInOneTurn(address, 6);
  expect(answers.every((answer) => answer.status === 429)).toBe(true);
  const ratelimited = answers.filter((answer) => answer.retryAfter !== '1');
  expect(ratelimited).toHaveLength(2);
  expect(answers.filter((answer) => answer.retryAfter === '1')).toHaveLength(4);
});

import { randomBytes } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';
import { LOGOUT, ME, REFRESH, SET_USER_ROLE, login, register } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

/**
 * Two API processes on two ports over one database, as behind a load balancer: what one
 * instance decides (a logout, a role change, a throttle) the other honours.
 */
let db: TestDatabase;
let a: ApiProcess;
let b: ApiProcess;

beforeAll(async () => {
  db = await startTestDatabase();
  const env = {
    MONGODB_URI: uriWithDatabase(db.uri, db.dbName),
    JWT_SECRET: randomBytes(32).toString('hex'),
    AUTH_REVALIDATE_SECONDS: '1',
    LOGIN_MAX_FAILURES: '3',
    ADMIN_EMAIL: 'root@example.com',
    ADMIN_PASSWORD: 'root password 1',
  };
  [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('the bootstrap admin exists once although both instances started together', async () => {
  const res = await login(b, 'root@example.com', 'root password 1');
  const token = res.data!.login.accessToken;
  const users = await gql(
    a.url,
    '{ users(first: 100) { edges { node { email } } } }',
    {},
    { token },
  );
  expect(
    users.data!.users.edges.filter((edge: any) => edge.node.email === 'root@example.com'),
  ).toHaveLength(1);
});

it('a logout on one instance is honoured by the other', async () => {
  const account = await register(a, {
    email: 'multi-logout@example.com',
    password: 'multi instance passphrase',
    name: 'M',
  });
  expect((await gql(a.url, LOGOUT, { token: account.refreshToken })).data!.logout).toBe(true);
  expect(codeOf(await gql(b.url, REFRESH, { token: account.refreshToken }))).toBe(
    'UNAUTHENTICATED',
  );
});

it('a role change on one instance is honoured by the other within AUTH_REVALIDATE_SECONDS', async () => {
  const admin = (await login(a, 'root@example.com', 'root password 1')).data!.login;
  const user = await register(a, {
    email: 'multi-role@example.com',
    password: 'multi instance passphrase',
    name: 'R',
  });
  // Instance B has seen (and cached) this user.
  expect((await gql(b.url, ME, {}, { token: user.accessToken })).data!.me.role).toBe('CUSTOMER');

  await gql(a.url, SET_USER_ROLE, { id: user.id, role: 'ADMIN' }, { token: admin.accessToken });
  expect(codeOf(await gql(b.url, REFRESH, { token: user.refreshToken }))).toBe('UNAUTHENTICATED');
  await pause(1200);
  const stale = await gql(b.url, ME, {}, { token: user.accessToken });
  expect(stale.status).toBe(401);

  const again = (await login(b, 'multi-role@example.com', 'multi instance passphrase')).data!.login;
  expect(again.user.role).toBe('ADMIN');
});

it('a throttle built up on one instance is enforced by the other', async () => {
  await register(a, {
    email: 'multi-throttle@example.com',
    password: 'multi instance passphrase',
    name: 'T',
  });
  for (let i = 0; i < 3; i += 1) {
    expect(codeOf(await login(a, 'multi-throttle@example.com', 'wrong password'))).toBe(
      'UNAUTHENTICATED',
    );
  }
  const refused = await login(b, 'multi-throttle@example.com', 'multi instance passphrase');
  expect(refused.status).toBe(429);
  expect(codeOf(refused)).toBe('TOO_MANY_REQUESTS');
});

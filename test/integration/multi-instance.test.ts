import { randomBytes } from 'node:crypto';
import { startTestDatabase, type TestDatabase } from '../helpers/database';
import { type ApiProcess, startApiProcess, uriWithDatabase } from '../helpers/process';
import { AUTH_FIELDS } from '../helpers/fixtures';
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

const LOGIN = `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { ${AUTH_FIELDS} } }`;
const REGISTER = `mutation ($i: RegisterInput!) { register(input: $i) { ${AUTH_FIELDS} } }`;
const REFRESH = 'mutation ($t: String) { refreshToken(refreshToken: $t) { accessToken } }';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('the bootstrap admin exists once although both instances started together', async () => {
  const res = await gql(b.url, LOGIN, { e: 'root@example.com', p: 'root password 1' });
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
  const account = (
    await gql(a.url, REGISTER, {
      i: { email: 'multi-logout@example.com', password: 'multi instance passphrase', name: 'M' },
    })
  ).data!.register;
  expect(
    (
      await gql(a.url, 'mutation ($t: String) { logout(refreshToken: $t) }', {
        t: account.refreshToken,
      })
    ).data!.logout,
  ).toBe(true);
  expect(codeOf(await gql(b.url, REFRESH, { t: account.refreshToken }))).toBe('UNAUTHENTICATED');
});

it('a role change on one instance is honoured by the other within AUTH_REVALIDATE_SECONDS', async () => {
  const admin = (await gql(a.url, LOGIN, { e: 'root@example.com', p: 'root password 1' })).data!
    .login;
  const user = (
    await gql(a.url, REGISTER, {
      i: { email: 'multi-role@example.com', password: 'multi instance passphrase', name: 'R' },
    })
  ).data!.register;
  // Instance B has seen (and cached) this user.
  expect((await gql(b.url, '{ me { role } }', {}, { token: user.accessToken })).data!.me.role).toBe(
    'CUSTOMER',
  );

  await gql(
    a.url,
    'mutation ($id: ID!) { setUserRole(id: $id, role: ADMIN) { role } }',
    { id: user.user.id },
    { token: admin.accessToken },
  );
  expect(codeOf(await gql(b.url, REFRESH, { t: user.refreshToken }))).toBe('UNAUTHENTICATED');
  await pause(1200);
  const stale = await gql(b.url, '{ me { role } }', {}, { token: user.accessToken });
  expect(stale.status).toBe(401);

  const again = (
    await gql(b.url, LOGIN, { e: 'multi-role@example.com', p: 'multi instance passphrase' })
  ).data!.login;
  expect(again.user.role).toBe('ADMIN');
});

it('a throttle built up on one instance is enforced by the other', async () => {
  await gql(a.url, REGISTER, {
    i: { email: 'multi-throttle@example.com', password: 'multi instance passphrase', name: 'T' },
  });
  for (let i = 0; i < 3; i += 1) {
    expect(
      codeOf(await gql(a.url, LOGIN, { e: 'multi-throttle@example.com', p: 'wrong password' })),
    ).toBe('UNAUTHENTICATED');
  }
  const refused = await gql(b.url, LOGIN, {
    e: 'multi-throttle@example.com',
    p: 'multi instance passphrase',
  });
  expect(refused.status).toBe(429);
  expect(codeOf(refused)).toBe('TOO_MANY_REQUESTS');
});

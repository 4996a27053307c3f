import { type TestApp, startTestApp } from '../helpers/app';
import { AUTH_FIELDS, register, uniqueEmail } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';
import { untilExpired } from './support';

const REFRESH = `mutation ($t: String) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;
const LOGOUT = 'mutation ($t: String) { logout(refreshToken: $t) }';
const LOGIN = `mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { ${AUTH_FIELDS} } }`;
const REGISTER = `mutation ($in: RegisterInput!) { register(input: $in) { ${AUTH_FIELDS} } }`;

describe('public operations ignore the Authorization header', () => {
  let t: TestApp;
  let expired: string;
  beforeAll(async () => {
    t = await startTestApp({ ACCESS_TOKEN_TTL: '1' });
    expired = (await register(t)).accessToken;
    await untilExpired(expired);
  });
  afterAll(async () => {
    await t.stop();
  });

  const headers = () => [
    ['an expired token', `Bearer ${expired}`, 'TOKEN_EXPIRED'],
    ['a garbage token', 'Bearer not.a.jwt', 'INVALID_TOKEN'],
    ['another scheme', 'Basic YWRtaW46YWRtaW4=', 'INVALID_TOKEN'],
  ];

  it.each([0, 1, 2])(
    'refreshToken, logout, login and register succeed with a bad header (%#)',
    async (i) => {
      const [, authorization] = headers()[i]!;
      const options = { headers: { authorization: authorization! } };
      const account = await register(t);

      const refreshed = await gql(t.url, REFRESH, { t: account.refreshToken }, options);
      expect(refreshed.status).toBe(200);
      expect(refreshed.data!.refreshToken.user.id).toBe(account.id);

      const loggedIn = await gql(t.url, LOGIN, { e: account.email, p: account.password }, options);
      expect(loggedIn.data!.login.user.id).toBe(account.id);

      const out = await gql(
        t.url,
        LOGOUT,
        { t: refreshed.data!.refreshToken.refreshToken },
        options,
      );
      expect(out.data!.logout).toBe(true);

      const input = { email: uniqueEmail(), password: 'correct horse battery', name: 'New' };
      const registered = await gql(t.url, REGISTER, { in: input }, options);
      expect(registered.data!.register.user.email).toBe(input.email);
    },
  );

  it.each([0, 1, 2])('me with the same header still answers 401 (%#)', async (i) => {
    const [, authorization, reason] = headers()[i]!;
    const res = await gql(
      t.url,
      '{ me { id } }',
      {},
      { headers: { authorization: authorization! } },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    expect(res.data).toBeUndefined();
  });

  it('a public field next to one that needs sign-in keeps the 401 rule, and nothing runs', async () => {
    const account = await register(t);
    const res = await gql(
      t.url,
      'mutation ($t: String) { refreshToken(refreshToken: $t) { accessToken } logoutAll }',
      { t: account.refreshToken },
      { token: expired },
    );
    expect(res.status).toBe(401);
    expect(res.errors![0]!.extensions!.reason).toBe('TOKEN_EXPIRED');
    // The refresh token was not spent by the refused request.
    expect(codeOf(await gql(t.url, REFRESH, { t: account.refreshToken }))).toBeUndefined();
  });

  it('a valid token grants nothing to a public operation', async () => {
    const alice = await register(t);
    const bob = await register(t);
    // With Alice's valid header, Bob's logout is Bob's: the request is anonymous.
    const res = await gql(
      t.url,
      LOGOUT,
      { t: bob.refreshToken },
      { token: alice.accessToken, headers: { 'x-request-id': `public-${alice.id}` } },
    );
    expect(res.data!.logout).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    const line = t.logs.find(
      (entry) => entry.clientRequestId === `public-${alice.id}` && 'outcome' in entry,
    );
    expect(line).toMatchObject({ outcome: 'OK' });
    expect(line!.userId).toBeUndefined();
  });
});

import { SessionModel } from '../../src/auth/session.model';
import { UserModel } from '../../src/users/user.model';
import { useTestApp } from '../helpers/app';
import {
  CHANGE_PASSWORD,
  LOGOUT,
  LOGOUT_ALL,
  ME,
  REFRESH,
  REGISTER,
  login,
  register,
  uniqueEmail,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

// Immediate replays count as reuse with the grace window off (test/clients covers it on).
const t = useTestApp({ REFRESH_REUSE_GRACE: '0' });
/** 256 characters; the strength estimate reads the first 64, which are a passphrase. */
const LONGEST_PASSWORD = 'violet tractor humming quietly under seven paper lanterns '.padEnd(
  256,
  'p',
);

describe('register', () => {
  it('creates a CUSTOMER account whose token answers me', async () => {
    const email = uniqueEmail();
    const res = await gql(t.url, REGISTER, {
      input: { email: `  ${email.toUpperCase()} `, password: 'a good password', name: ' Ada ' },
    });
    expect(res.status).toBe(200);
    const payload = res.data!.register;
    expect(payload).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: { email, name: 'Ada', role: 'CUSTOMER' },
    });
    expect(typeof payload.refreshToken).toBe('string');

    const me = await gql(t.url, ME, {}, { token: payload.accessToken });
    expect(me.data!.me).toEqual(payload.user);
    expect(new Date(me.data!.me.createdAt).toString()).not.toBe('Invalid Date');
  });

  it('stores an argon2id hash, never the password, and never returns it', async () => {
    const account = await register(t, { password: 'plain text never stored' });
    const stored = await UserModel.findById(account.id).select('+passwordHash').lean();
    expect(stored!.passwordHash).toMatch(/^\$argon2id\$v=19\$/);
    // OWASP's parameters: m = 19 MiB, t = 2, p = 1.
    expect(stored!.passwordHash.split('$')[3]!.split(',').sort()).toEqual([
      'm=19456',
      'p=1',
      't=2',
    ]);
    expect(JSON.stringify(stored)).not.toContain('plain text never stored');
    const me = await gql(t.url, ME, {}, { token: account.accessToken });
    expect(me.text).not.toContain('argon2');
  });

  it('refuses an email registered before, whatever its case or spacing', async () => {
    const account = await register(t);
    const res = await gql(t.url, REGISTER, {
      input: {
        email: ` ${account.email.toUpperCase()}`,
        password: 'another password',
        name: 'Copy',
      },
    });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe('email');
    expect(await UserModel.countDocuments({ email: account.email })).toBe(1);
  });

  it('lets only one of two simultaneous registrations of one email succeed', async () => {
    const email = uniqueEmail('race');
    const attempts = await Promise.all(
      [1, 2, 3, 4].map(() =>
        gql(t.url, REGISTER, {
          input: { email, password: 'race to the finish line', name: 'Racer' },
        }),
      ),
    );
    expect(attempts.filter((r) => r.data?.register).length).toBe(1);
    expect(attempts.filter((r) => codeOf(r) === 'BAD_USER_INPUT').length).toBe(3);
    expect(await UserModel.countDocuments({ email })).toBe(1);
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'admın@example.com' }, 'email'],
    [{ password: 'short' }, 'password'],
    [{ password: 'x'.repeat(257) }, 'password'],
    [{ name: '   ' }, 'name'],
  ])('refuses invalid input %o naming the field', async (override, field) => {
    const input = { email: uniqueEmail(), password: 'valid password', name: 'Valid', ...override };
    const res = await gql(t.url, REGISTER, { input });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe(field);
    expect(res.data).toBeNull();
  });

  it('accepts a 256-character password and a full-width email as its ASCII form', async () => {
    const res = await gql(t.url, REGISTER, {
      input: { email: 'ＷＩＤＥ-' + uniqueEmail('w'), password: LONGEST_PASSWORD, name: 'Wide' },
    });
    expect(res.data!.register.user.email).toMatch(/^wide-w-/);
  });

  it('ignores a role in the input: a client cannot register an admin', async () => {
    const res = await gql(
      t.url,
      'mutation { register(input: { email: "x@example.com", password: "password1", name: "X", role: ADMIN }) { user { role } } }',
    );
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await UserModel.countDocuments({ email: 'x@example.com' })).toBe(0);
  });
});

describe('login', () => {
  it('signs in with the right password, whatever the email case', async () => {
    const account = await register(t);
    const res = await login(t, account.email.toUpperCase(), account.password);
    expect(res.data!.login.user.id).toBe(account.id);
    const me = await gql(t.url, ME, {}, { token: res.data!.login.accessToken });
    expect(me.data!.me.id).toBe(account.id);
  });
});

describe('refresh tokens', () => {
  it('rotate: the new pair works and the old refresh token is spent', async () => {
    const account = await register(t);
    const first = await gql(t.url, REFRESH, { token: account.refreshToken });
    const rotated = first.data!.refreshToken;
    expect(rotated.refreshToken).not.toBe(account.refreshToken);
    expect(rotated.user.id).toBe(account.id);
    expect((await gql(t.url, ME, {}, { token: rotated.accessToken })).data!.me.id).toBe(account.id);

    const second = await gql(t.url, REFRESH, { token: rotated.refreshToken });
    expect(second.data!.refreshToken.accessToken).toBeTruthy();
  });

  it('a replayed (spent) refresh token ends its whole family', async () => {
    const account = await register(t);
    const loggedIn = (await login(t, account.email, account.password)).data!.login;
    const rotated = (await gql(t.url, REFRESH, { token: loggedIn.refreshToken })).data!
      .refreshToken;

    const replay = await gql(t.url, REFRESH, { token: loggedIn.refreshToken });
    expect(codeOf(replay)).toBe('UNAUTHENTICATED');

    // The thief's replay killed the legitimate successor too.
    const successor = await gql(t.url, REFRESH, { token: rotated.refreshToken });
    expect(codeOf(successor)).toBe('UNAUTHENTICATED');
    const session = await SessionModel.findById(
      JSON.parse(Buffer.from(loggedIn.refreshToken.split('.')[1], 'base64url').toString()).sid,
    ).lean();
    expect(session!.revokedReason).toBe('reuse');

    // The register session is another family and still works.
    expect(
      (await gql(t.url, REFRESH, { token: account.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });

  it('refuses garbage, an access token, and a missing argument', async () => {
    const account = await register(t);
    expect(codeOf(await gql(t.url, REFRESH, { token: 'garbage' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await gql(t.url, REFRESH, { token: account.accessToken }))).toBe(
      'UNAUTHENTICATED',
    );
    const missing = await gql(t.url, REFRESH, {});
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors![0]!.extensions!.field).toBe('refreshToken');
  });
});

describe('logout', () => {
  it('ends one session and leaves the others', async () => {
    const account = await register(t);
    const other = (await login(t, account.email, account.password)).data!.login;

    const res = await gql(t.url, LOGOUT, { token: account.refreshToken });
    expect(res.data!.logout).toBe(true);
    expect(codeOf(await gql(t.url, REFRESH, { token: account.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );

    expect(
      (await gql(t.url, REFRESH, { token: other.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });

  it('works anonymously and refuses an unknown token', async () => {
    expect(codeOf(await gql(t.url, LOGOUT, { token: 'nope' }))).toBe('UNAUTHENTICATED');
  });

  it("a signed-in user cannot end someone else's session through a mixed operation", async () => {
    const alice = await register(t);
    const bob = await register(t);
    // logout alone ignores the Authorization header (the refresh token is the credential);
    // next to a field that needs sign-in, the header counts and must match the token's owner.
    const res = await gql(
      t.url,
      'mutation ($token: String) { logout(refreshToken: $token) logoutAll }',
      { token: bob.refreshToken },
      { token: alice.accessToken },
    );
    expect(res.errors!.map((e) => e.path?.[0])).toContain('logout');
    expect(res.errors!.find((e) => e.path?.[0] === 'logout')!.extensions!.code).toBe(
      'UNAUTHENTICATED',
    );
    expect(
      (await gql(t.url, REFRESH, { token: bob.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });
});

describe('logoutAll', () => {
  it('ends every session and every access token issued so far', async () => {
    const account = await register(t);
    const second = (await login(t, account.email, account.password)).data!.login;

    const res = await gql(t.url, LOGOUT_ALL, {}, { token: account.accessToken });
    expect(res.data!.logoutAll).toBe(true);

    for (const token of [account.refreshToken, second.refreshToken]) {
      expect(codeOf(await gql(t.url, REFRESH, { token }))).toBe('UNAUTHENTICATED');
    }
    for (const token of [account.accessToken, second.accessToken]) {
      const me = await gql(t.url, ME, {}, { token });
      expect(me.status).toBe(401);
      expect(me.errors![0]!.extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_TOKEN',
      });
    }
    // Signing in again works.
    expect((await login(t, account.email, account.password)).data!.login).toBeTruthy();
  });
});

describe('changePassword', () => {
  it('switches the password, ends old tokens and returns a fresh session', async () => {
    const account = await register(t);
    const res = await gql(
      t.url,
      CHANGE_PASSWORD,
      { current: account.password, next: 'a brand new password' },
      { token: account.accessToken },
    );
    const fresh = res.data!.changePassword;
    expect(fresh.user.id).toBe(account.id);

    expect((await gql(t.url, ME, {}, { token: account.accessToken })).status).toBe(401);
    expect(codeOf(await gql(t.url, REFRESH, { token: account.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect((await gql(t.url, ME, {}, { token: fresh.accessToken })).data!.me.id).toBe(account.id);
    expect(
      (await gql(t.url, REFRESH, { token: fresh.refreshToken })).data!.refreshToken,
    ).toBeTruthy();

    expect(codeOf(await login(t, account.email, account.password))).toBe('UNAUTHENTICATED');
    expect((await login(t, account.email, 'a brand new password')).data!.login).toBeTruthy();
  });

  it('refuses a wrong current password and a weak new one, changing nothing', async () => {
    const account = await register(t);
    const wrong = await gql(
      t.url,
      CHANGE_PASSWORD,
      { current: 'wrong password', next: 'another new password' },
      { token: account.accessToken },
    );
    expect(codeOf(wrong)).toBe('UNAUTHENTICATED');
    const weak = await gql(
      t.url,
      CHANGE_PASSWORD,
      { current: account.password, next: 'short' },
      { token: account.accessToken },
    );
    expect(codeOf(weak)).toBe('BAD_USER_INPUT');
    expect(weak.errors![0]!.extensions!.field).toBe('newPassword');
    expect((await gql(t.url, ME, {}, { token: account.accessToken })).data!.me.id).toBe(account.id);
    expect((await login(t, account.email, account.password)).data!.login).toBeTruthy();
  });
});

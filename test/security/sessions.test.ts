import { SessionModel } from '../../src/auth/session.model';
import { TodoModel } from '../../src/todos/todo.model';
import { UserModel } from '../../src/users/user.model';
import { useTestApp } from '../helpers/app';
import {
  CHANGE_PASSWORD,
  DELETE_USER,
  LOGOUT,
  LOGOUT_ALL,
  ME,
  PLANT_TODO,
  REFRESH,
  SET_USER_ROLE,
  type SignedIn,
  login,
  register,
  signInAdmin,
} from '../helpers/operations';
import { codeOf, expectTokenRefused, gql } from '../helpers/graphql';
import { base64url, databaseSnapshot, decodeJwt } from './support';

/**
 * Stolen and replayed refresh tokens, races between two holders of one token, token-type
 * confusion on the refresh side, and revocation after every credential event.
 */

// Replays here are immediate; the grace window for a client racing itself is off so that they
// count as reuse (test/clients/refresh-grace.test.ts covers the window).
const t = useTestApp({ REFRESH_REUSE_GRACE: '0' });
let admin: SignedIn;
beforeAll(async () => {
  admin = await signInAdmin(t);
});

const sessionIdOf = (refreshToken: string): string => decodeJwt(refreshToken).payload.sid;
const sessionOf = (refreshToken: string) => SessionModel.findById(sessionIdOf(refreshToken)).lean();

async function expectRefreshRefused(token: string) {
  const sessionsBefore = await SessionModel.countDocuments();
  const res = await gql(t.url, REFRESH, { token });
  expect(res.status).toBe(200);
  expect(res.data).toBeNull();
  expect(codeOf(res)).toBe('UNAUTHENTICATED');
  expect(await SessionModel.countDocuments()).toBe(sessionsBefore);
}

/** The access token cannot act any more: 401 for the whole request and nothing stored. */
async function expectAccessRevoked(token: string) {
  const todosBefore = await TodoModel.countDocuments();
  expectTokenRefused(await gql(t.url, PLANT_TODO, {}, { token }));
  expect(await TodoModel.countDocuments()).toBe(todosBefore);
}

const CREDENTIAL_EVENTS: Array<[string, (victim: SignedIn) => Promise<void>]> = [
  [
    'logoutAll',
    async (victim) => {
      const res = await gql(t.url, LOGOUT_ALL, {}, { token: victim.accessToken });
      expect(res.data!.logoutAll).toBe(true);
    },
  ],
  [
    'changePassword',
    async (victim) => {
      const res = await gql(
        t.url,
        CHANGE_PASSWORD,
        { current: victim.password, next: 'the owner took it back' },
        { token: victim.accessToken },
      );
      expect(res.data!.changePassword.accessToken).toEqual(expect.any(String));
    },
  ],
  [
    'setUserRole',
    async (victim) => {
      const res = await gql(
        t.url,
        SET_USER_ROLE,
        { id: victim.id, role: 'ADMIN' },
        { token: admin.accessToken },
      );
      expect(res.data!.setUserRole.role).toBe('ADMIN');
    },
  ],
  [
    'deleteUser',
    async (victim) => {
      const res = await gql(t.url, DELETE_USER, { id: victim.id }, { token: admin.accessToken });
      expect(res.data!.deleteUser).toBe(true);
    },
  ],
];

describe('revocation after every credential event', () => {
  it.each(CREDENTIAL_EVENTS)(
    'after %s, a thief’s copies of every token issued before stop working at once',
    async (_event, event) => {
      const victim = await register(t);
      // The thief copied a second device's tokens and had already rotated its refresh token once.
      const device = (await login(t, victim.email, victim.password)).data!.login;
      const rotated = (await gql(t.url, REFRESH, { token: device.refreshToken })).data!
        .refreshToken;

      await event(victim);

      for (const token of [victim.accessToken, device.accessToken, rotated.accessToken]) {
        await expectAccessRevoked(token);
      }
      for (const token of [victim.refreshToken, rotated.refreshToken]) {
        await expectRefreshRefused(token);
      }
      // No live session is left from before the event.
      const alive = await SessionModel.countDocuments({
        _id: { $in: [sessionIdOf(victim.refreshToken), sessionIdOf(device.refreshToken)] },
        revokedAt: null,
      });
      expect(alive).toBe(0);
    },
  );
});

describe('refresh replay and races', () => {
  it('a refresh token replayed after logout does not revive the session', async () => {
    const victim = await register(t);
    expect((await gql(t.url, LOGOUT, { token: victim.refreshToken })).data!.logout).toBe(true);
    const before = await databaseSnapshot();
    await expectRefreshRefused(victim.refreshToken);
    expect(await databaseSnapshot()).toEqual(before);
    expect((await sessionOf(victim.refreshToken))!.revokedReason).toBe('logout');
  });

  it('a thief replaying the old token while the owner uses the new one ends the family either way', async () => {
    const victim = await register(t);
    const successor = (await gql(t.url, REFRESH, { token: victim.refreshToken })).data!
      .refreshToken;
    // Thief (old token) and owner (current token) at the same moment.
    const [thief, owner] = await Promise.all([
      gql(t.url, REFRESH, { token: victim.refreshToken }),
      gql(t.url, REFRESH, { token: successor.refreshToken }),
    ]);
    expect(thief.status).toBe(200);
    expect(owner.status).toBe(200);
    expect(codeOf(thief)).toBe('UNAUTHENTICATED');
    const session = await sessionOf(victim.refreshToken);
    expect(session!.revokedReason).toBe('reuse');
    // Whatever the order, nothing issued in the race still refreshes.
    if (owner.data?.refreshToken) await expectRefreshRefused(owner.data.refreshToken.refreshToken);
    await expectRefreshRefused(successor.refreshToken);
  });

  it('a refresh racing a logout with the same token leaves no usable refresh token', async () => {
    const victim = await register(t);
    const [refreshed, loggedOut] = await Promise.all([
      gql(t.url, REFRESH, { token: victim.refreshToken }),
      gql(t.url, LOGOUT, { token: victim.refreshToken }),
    ]);
    expect([refreshed.status, loggedOut.status]).toEqual([200, 200]);
    // Exactly one of the two spent the token.
    expect([refreshed.data?.refreshToken, loggedOut.data?.logout].filter(Boolean)).toHaveLength(1);
    const session = await sessionOf(victim.refreshToken);
    expect(session!.revokedAt).not.toBeNull();
    if (refreshed.data?.refreshToken) {
      await expectRefreshRefused(refreshed.data.refreshToken.refreshToken);
    }
  });

  it('a refresh that races logoutAll does not hand out an access token that outlives it', async () => {
    const victim = await register(t);
    const stolen = (await login(t, victim.email, victim.password)).data!.login;
    const sessions = t.app.services.sessions;
    const rotate = sessions.rotate.bind(sessions);
    // The owner's logoutAll lands between the two steps of the thief's refresh: the refresh
    // token is already spent, the access token not yet minted.
    const spy = jest.spyOn(sessions, 'rotate').mockImplementationOnce(async (token, meta) => {
      const rotated = await rotate(token, meta);
      const out = await gql(t.url, LOGOUT_ALL, {}, { token: victim.accessToken });
      expect(out.data!.logoutAll).toBe(true);
      return rotated;
    });
    let raced;
    try {
      raced = await gql(t.url, REFRESH, { token: stolen.refreshToken });
    } finally {
      spy.mockRestore();
    }
    // Refusing the refresh is fine; handing out tokens that still work after logoutAll is not.
    if (raced.data?.refreshToken) {
      await expectAccessRevoked(raced.data.refreshToken.accessToken);
      await expectRefreshRefused(raced.data.refreshToken.refreshToken);
    } else {
      expect(codeOf(raced)).toBe('UNAUTHENTICATED');
    }
  });

  it('a login with the old password that races changePassword leaves no session behind', async () => {
    const victim = await register(t);
    const passwords = t.app.services.passwords;
    const verify = passwords.verify.bind(passwords);
    // The thief's password check succeeds with the old password; before the session is
    // issued, the owner changes the password.
    const spy = jest.spyOn(passwords, 'verify').mockImplementationOnce(async (hash, password) => {
      const ok = await verify(hash, password);
      const changed = await gql(
        t.url,
        CHANGE_PASSWORD,
        { current: victim.password, next: 'the owner took it back' },
        { token: victim.accessToken },
      );
      expect(changed.data!.changePassword.accessToken).toEqual(expect.any(String));
      return ok;
    });
    let raced;
    try {
      raced = await login(t, victim.email, victim.password);
    } finally {
      spy.mockRestore();
    }
    if (raced.data?.login) {
      await expectAccessRevoked(raced.data.login.accessToken);
      await expectRefreshRefused(raced.data.login.refreshToken);
    } else {
      expect(codeOf(raced)).toBe('UNAUTHENTICATED');
    }
  });

  it('a refresh token whose sid was swapped for another session is refused and ends neither', async () => {
    const victim = await register(t);
    const attacker = await register(t);
    const [header, payload, signature] = attacker.refreshToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${base64url({ ...claims, sid: sessionIdOf(victim.refreshToken), sub: victim.id })}.${signature}`;
    const before = await databaseSnapshot();
    await expectRefreshRefused(tampered);
    expect(await databaseSnapshot()).toEqual(before);
    expect(
      (await gql(t.url, REFRESH, { token: victim.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });
});

describe('token-type confusion on the refresh side', () => {
  it('an access token is no refresh token: refused, and the session is left as it was', async () => {
    const victim = await register(t);
    const before = await databaseSnapshot();
    await expectRefreshRefused(victim.accessToken);
    expect(await databaseSnapshot()).toEqual(before);
    expect(
      (await gql(t.url, REFRESH, { token: victim.refreshToken })).data!.refreshToken,
    ).toBeTruthy();
  });

  it('an access token cannot log a session out', async () => {
    const victim = await register(t);
    const before = await databaseSnapshot();
    const res = await gql(t.url, LOGOUT, { token: victim.accessToken });
    expect(res.status).toBe(200);
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
    expect(await databaseSnapshot()).toEqual(before);
  });

  it('a refresh token is no access token, for reading or for writing', async () => {
    const victim = await register(t);
    expectTokenRefused(await gql(t.url, ME, {}, { token: victim.refreshToken }));
    await expectAccessRevoked(victim.refreshToken);
  });

  it('a user deleted between login and refresh gets no new tokens', async () => {
    const victim = await register(t);
    await UserModel.deleteOne({ _id: victim.id });
    await expectRefreshRefused(victim.refreshToken);
  });
});

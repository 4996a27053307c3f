import { AuditEventModel } from '../../src/audit/audit.model';
import { REFRESH_COOKIE } from '../../src/auth/refresh-cookie';
import { SessionModel } from '../../src/auth/session.model';
import { useTestApp } from '../helpers/app';
import {
  LOGOUT,
  REFRESH,
  REVOKE_SESSION,
  SESSIONS,
  login,
  register,
  signInAdmin,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

describe('sessions', () => {
  // The widest grace window, so that checking ten tokens one after another under load stays
  // inside it.
  const t = useTestApp({ REFRESH_REUSE_GRACE: '60' });

  it('lists the caller’s devices, marks the current one, and revokes one', async () => {
    const account = await register(t);
    const phone = (await login(t, account.email, account.password, { 'user-agent': 'phone/1.0' }))
      .data!.login;

    const list = (await gql(t.url, SESSIONS, {}, { token: phone.accessToken })).data!.sessions;
    expect(list).toHaveLength(2);
    const current = list.find((s: any) => s.current);
    expect(current.userAgent).toBe('phone/1.0');
    expect(current.ip).toMatch(/127\.0\.0\.1/);
    const other = list.find((s: any) => !s.current);

    const revoked = await gql(
      t.url,
      REVOKE_SESSION,
      { id: other.id },
      { token: phone.accessToken },
    );
    expect(revoked.data!.revokeSession).toBe(true);
    expect(codeOf(await gql(t.url, REFRESH, { token: account.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(
      (await gql(t.url, SESSIONS, {}, { token: phone.accessToken })).data!.sessions,
    ).toHaveLength(1);
  });

  it('answers ten concurrent refreshes with one token, and every returned token works afterwards', async () => {
    const account = await register(t);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => gql(t.url, REFRESH, { token: account.refreshToken })),
    );
    // One rotated the family; the others raced it within REFRESH_REUSE_GRACE and were handed
    // the family's current token.
    expect(results.map((r) => codeOf(r) ?? 'OK')).toEqual(Array(10).fill('OK'));
    for (const result of results) {
      const { accessToken, refreshToken } = result.data!.refreshToken;
      expect((await gql(t.url, '{ me { id } }', {}, { token: accessToken })).data!.me.id).toBe(
        account.id,
      );
      expect(codeOf(await gql(t.url, REFRESH, { token: refreshToken }))).toBeUndefined();
    }
    const sid = JSON.parse(
      Buffer.from(account.refreshToken.split('.')[1]!, 'base64url').toString(),
    ).sid;
    const session = await SessionModel.findById(sid).lean();
    expect(session!.revokedAt).toBeNull();
    // The family moved forward once per generation, not once per caller.
    expect(session!.generation).toBe(2);
    expect(
      await AuditEventModel.countDocuments({ userId: account.id, type: 'REFRESH_REUSE_DETECTED' }),
    ).toBe(0);
  });

  it('records security events that an admin can page through and filter', async () => {
    const account = await register(t);
    await login(t, account.email, 'wrong password');
    await login(t, account.email, account.password);
    const admin = await signInAdmin(t);
    const query =
      'query ($userId: ID, $type: AuditEventType) { auditEvents(userId: $userId, type: $type, first: 10) { totalCount edges { node { type userId ip requestId createdAt } } } }';
    const all = (await gql(t.url, query, { userId: account.id }, { token: admin.accessToken }))
      .data!.auditEvents;
    const types = all.edges.map((e: any) => e.node.type);
    expect(types).toEqual(['LOGIN_SUCCEEDED', 'LOGIN_FAILED', 'USER_REGISTERED']);
    expect(all.edges[0].node.requestId).toBeTruthy();
    const failed = (
      await gql(
        t.url,
        query,
        { userId: account.id, type: 'LOGIN_FAILED' },
        { token: admin.accessToken },
      )
    ).data!.auditEvents;
    expect(failed.totalCount).toBe(1);
    expect(codeOf(await gql(t.url, query, {}, { token: account.accessToken }))).toBe('FORBIDDEN');
    const stored = await AuditEventModel.findOne({
      userId: account.id,
      type: 'LOGIN_FAILED',
    }).lean();
    expect(stored!.expiresAt.getTime() - stored!.createdAt.getTime()).toBeCloseTo(
      90 * 86400 * 1000,
      -4,
    );
  });
});

describe('refresh token in an httpOnly cookie (REFRESH_TOKEN_COOKIE=true)', () => {
  const t = useTestApp({ REFRESH_TOKEN_COOKIE: 'true' });

  const cookieFrom = (res: { headers: Headers }) => {
    const header = res.headers.get('set-cookie') ?? '';
    const match = new RegExp(`${REFRESH_COOKIE}=([^;]*)`).exec(header);
    return { header, value: match?.[1] };
  };

  it('sets the cookie httpOnly, Secure, SameSite=Strict on /graphql and leaves the body field null', async () => {
    const account = await register(t);
    const res = await login(t, account.email, account.password);
    expect(res.data!.login.refreshToken).toBeNull();
    const { header, value } = cookieFrom(res);
    expect(value).toBeTruthy();
    expect(header).toMatch(/HttpOnly/i);
    expect(header).toMatch(/Secure/i);
    expect(header).toMatch(/SameSite=Strict/i);
    expect(header).toMatch(/Path=\/graphql/i);
  });

  it('refreshes and logs out from the cookie alone', async () => {
    const account = await register(t);
    const cookie = cookieFrom(await login(t, account.email, account.password)).value!;
    const refreshed = await gql(
      t.url,
      REFRESH,
      {},
      { headers: { cookie: `${REFRESH_COOKIE}=${cookie}` } },
    );
    expect(refreshed.data!.refreshToken.accessToken).toBeTruthy();
    expect(refreshed.data!.refreshToken.refreshToken).toBeNull();
    const next = cookieFrom(refreshed).value!;
    expect(next).not.toBe(cookie);

    const out = await gql(t.url, LOGOUT, {}, { headers: { cookie: `${REFRESH_COOKIE}=${next}` } });
    expect(out.data!.logout).toBe(true);
    expect(out.headers.get('set-cookie')).toMatch(/Expires=Thu, 01 Jan 1970/);
    const after = await gql(
      t.url,
      REFRESH,
      {},
      { headers: { cookie: `${REFRESH_COOKIE}=${next}` } },
    );
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
  });

  it('without a cookie, refreshToken is UNAUTHENTICATED', async () => {
    expect(codeOf(await gql(t.url, REFRESH))).toBe('UNAUTHENTICATED');
  });
});

describe('idle sessions', () => {
  const t = useTestApp({ REFRESH_TOKEN_IDLE_TTL: '1' });

  it('end after REFRESH_TOKEN_IDLE_TTL without use', async () => {
    const account = await register(t);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(codeOf(await gql(t.url, REFRESH, { token: account.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(
      await SessionModel.countDocuments({ user: account.id, expiresAt: { $gt: new Date() } }),
    ).toBe(0);
  });
});

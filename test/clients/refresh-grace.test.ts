import { AuditEventModel } from '../../src/audit/audit.model';
import { SessionModel } from '../../src/auth/session.model';
import { type TestApp, startTestApp } from '../helpers/app';
import { AUTH_FIELDS, register } from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';
import { sessionIdOf } from './support';

const REFRESH = `mutation ($t: String) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;
const LOGOUT = 'mutation ($t: String) { logout(refreshToken: $t) }';

const reuseEvents = (userId: string) =>
  AuditEventModel.countDocuments({ userId, type: 'REFRESH_REUSE_DETECTED' });

describe('within REFRESH_REUSE_GRACE (the default, 10 s)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a token spent moments ago gets the current pair; the family moves on once', async () => {
    const account = await register(t);
    const first = (await gql(t.url, REFRESH, { t: account.refreshToken })).data!.refreshToken;
    // A retry after a lost response: same token again.
    const retried = (await gql(t.url, REFRESH, { t: account.refreshToken })).data!.refreshToken;
    expect(retried.user.id).toBe(account.id);
    const session = await SessionModel.findById(sessionIdOf(account.refreshToken)).lean();
    expect(session!.generation).toBe(1);
    // Either copy of the current token rotates the family; the other then rides the grace.
    const next = await gql(t.url, REFRESH, { t: retried.refreshToken });
    expect(codeOf(next)).toBeUndefined();
    expect(codeOf(await gql(t.url, REFRESH, { t: first.refreshToken }))).toBeUndefined();
    expect(codeOf(await gql(t.url, REFRESH, { t: next.data!.refreshToken.refreshToken }))).toBe(
      undefined,
    );
    expect(await reuseEvents(account.id)).toBe(0);
  });

  it('logout with a token spent moments ago ends the session without a reuse event', async () => {
    const account = await register(t);
    const current = (await gql(t.url, REFRESH, { t: account.refreshToken })).data!.refreshToken;
    expect((await gql(t.url, LOGOUT, { t: account.refreshToken })).data!.logout).toBe(true);
    const session = await SessionModel.findById(sessionIdOf(account.refreshToken)).lean();
    expect(session!.revokedReason).toBe('logout');
    expect(codeOf(await gql(t.url, REFRESH, { t: current.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(await reuseEvents(account.id)).toBe(0);
  });

  it('logoutAll ends the grace too: a just-spent token no longer refreshes', async () => {
    const account = await register(t);
    const current = (await gql(t.url, REFRESH, { t: account.refreshToken })).data!.refreshToken;
    const out = await gql(t.url, 'mutation { logoutAll }', {}, { token: current.accessToken });
    expect(out.data!.logoutAll).toBe(true);
    expect(codeOf(await gql(t.url, REFRESH, { t: account.refreshToken }))).toBe('UNAUTHENTICATED');
  });
});

describe('after REFRESH_REUSE_GRACE (1 s here)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REFRESH_REUSE_GRACE: '1' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('the same token presented again ends the family, audited', async () => {
    const account = await register(t);
    const current = (await gql(t.url, REFRESH, { t: account.refreshToken })).data!.refreshToken;
    const spentBy = Date.now();
    // Wait until the window has surely closed (measured from after the response).
    await new Promise((resolve) => setTimeout(resolve, spentBy + 1100 - Date.now()));

    const replay = await gql(t.url, REFRESH, { t: account.refreshToken });
    expect(codeOf(replay)).toBe('UNAUTHENTICATED');
    const session = await SessionModel.findById(sessionIdOf(account.refreshToken)).lean();
    expect(session!.revokedReason).toBe('reuse');
    expect(await reuseEvents(account.id)).toBe(1);
    // The family's current token died with it.
    expect(codeOf(await gql(t.url, REFRESH, { t: current.refreshToken }))).toBe('UNAUTHENTICATED');
  });
});

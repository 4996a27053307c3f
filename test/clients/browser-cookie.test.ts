import { REFRESH_COOKIE } from '../../src/auth/refresh-cookie';
import { SessionModel } from '../../src/auth/session.model';
import { type TestApp, startTestApp } from '../helpers/app';
import { register } from '../helpers/operations';
import { createBrowserSession } from './snippets/browser';
import { installCookieJar, sessionIdOf, untilExpired } from './support';

describe('the README browser recipe in cookie mode (REFRESH_TOKEN_COOKIE=true)', () => {
  let t: TestApp;
  let jar: ReturnType<typeof installCookieJar>;
  beforeAll(async () => {
    t = await startTestApp({ REFRESH_TOKEN_COOKIE: 'true', ACCESS_TOKEN_TTL: '2' });
  });
  beforeEach(() => {
    jar = installCookieJar();
  });
  afterEach(() => jar.uninstall());
  afterAll(async () => {
    await t.stop();
  });

  it('two tabs restoring at once both get a token, and the next refresh works', async () => {
    const account = await register(t);
    const api = `${t.url}/graphql`;
    await createBrowserSession(api).login(account.email, account.password);
    const loginCookie = jar.cookies.get(REFRESH_COOKIE)!;
    expect(loginCookie).toBeTruthy();

    const [tabA, tabB] = [createBrowserSession(api), createBrowserSession(api)];
    expect(await Promise.all([tabA.restore(), tabB.restore()])).toEqual([true, true]);
    for (const tab of [tabA, tabB]) {
      expect((await tab.request('{ me { id } }')).data).toEqual({ me: { id: account.id } });
    }
    // The cookie both tabs share now refreshes once more; the family is alive and moved on.
    expect(await tabA.restore()).toBe(true);
    const session = await SessionModel.findById(sessionIdOf(loginCookie)).lean();
    expect(session!.revokedAt).toBeNull();
    expect(session!.generation).toBe(2);
  });

  it('an expired access token is refreshed from the cookie and the operation retried', async () => {
    const account = await register(t);
    const tab = createBrowserSession(`${t.url}/graphql`);
    const signedIn = await tab.login(account.email, account.password);
    const accessToken = (signedIn.data!.login as { accessToken: string }).accessToken;
    await untilExpired(accessToken);
    expect((await tab.request('{ me { id } }')).data).toEqual({ me: { id: account.id } });

    await tab.logout();
    expect(jar.cookies.has(REFRESH_COOKIE)).toBe(false);
    expect(await tab.restore()).toBe(false);
  });
});

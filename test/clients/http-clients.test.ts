import { Client, fetchExchange, gql as urqlGql } from '@urql/core';
import { serverAudits } from 'graphql-http';
import { type TestApp, startTestApp } from '../helpers/app';
import { type SignedIn, register } from '../helpers/operations';
import { createRequestClient } from './snippets/graphql-request';
import { createUrqlClient } from './snippets/urql';

const APP_ORIGIN = 'https://app.example.com';

describe('other clients against the development-mode server', () => {
  let t: TestApp;
  let account: SignedIn;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development', CORS_ORIGINS: APP_ORIGIN });
    account = await register(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  // The GraphQL-over-HTTP requirements (MUST), one test each so a failure names it; SHOULD and
  // MAY audits are recommendations and are not asserted.
  const audits = serverAudits({ url: () => `${t.url}/graphql` }).filter((audit) =>
    audit.name.startsWith('MUST'),
  );
  it.each(audits.map((audit) => [audit.name, audit] as const))(
    'graphql-http audit: %s',
    async (_name, audit) => {
      const result = await audit.fn();
      expect(result.status === 'ok' ? 'ok' : result).toBe('ok');
    },
  );

  it('urql with its defaults is refused by CSRF prevention; with the README setting it passes', async () => {
    const query = urqlGql`query { me { id } }`;
    const defaults = new Client({
      url: `${t.url}/graphql`,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${account.accessToken}` } },
    });
    const refused = await defaults.query(query, {}).toPromise();
    expect(refused.error?.response?.status).toBe(400);

    const client = createUrqlClient(`${t.url}/graphql`, () => account.accessToken);
    const result = await client.query(query, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data.me.id).toBe(account.id);
  });

  it('graphql-request with the README client reads me, and sees the 401 of an expired token', async () => {
    let token: string | undefined = account.accessToken;
    const client = createRequestClient(`${t.url}/graphql`, () => token);
    const data = await client.request<{ me: { id: string } }>('{ me { id } }');
    expect(data.me.id).toBe(account.id);
    token = 'not.a.jwt';
    await expect(client.request('{ me { id } }')).rejects.toMatchObject({
      response: { status: 401, errors: [{ extensions: { reason: 'INVALID_TOKEN' } }] },
    });
  });

  it('CORS lets browser code read Retry-After, WWW-Authenticate and X-Request-Id', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: APP_ORIGIN },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const exposed = res.headers.get('access-control-expose-headers')!.toLowerCase().split(',');
    expect(exposed).toEqual(['retry-after', 'www-authenticate', 'x-request-id']);
  });

  it('serves Apollo Sandbox with cookies included (cookie mode works from it)', async () => {
    const res = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/"includeCookies":\s*true/);
  });
});

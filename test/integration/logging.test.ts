import { useTestApp } from '../helpers/app';
import { CHANGE_PASSWORD, ME, REFRESH, login, register } from '../helpers/operations';
import { gql } from '../helpers/graphql';

// The finest level: whatever any line could carry is captured.
const t = useTestApp({ LOG_LEVEL: 'trace' });

const requestLines = () =>
  t.logs.filter((line) => line.msg === 'request completed' || line.msg === 'request failed');

describe('request logging', () => {
  it("gives every request its own id and logs the caller's x-request-id beside it", async () => {
    const res = await gql(t.url, ME, {}, { headers: { 'x-request-id': 'trace-abc.123' } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setImmediate(resolve));
    const lines = requestLines().filter((line) => line.clientRequestId === 'trace-abc.123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      requestId: id,
      method: 'POST',
      path: '/graphql',
      status: 200,
      outcome: 'UNAUTHENTICATED',
    });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('replaces a missing or unsafe request id with a fresh one', async () => {
    const res = await gql(
      t.url,
      '{ __typename }',
      {},
      { headers: { 'x-request-id': 'bad id\twith "quotes"' } },
    );
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const plain = await gql(t.url, '{ __typename }');
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(plain.headers.get('x-request-id')).not.toBe(id);
  });

  it('names the operation, the user and the outcome', async () => {
    const account = await register(t);
    const res = await gql(t.url, 'query WhoAmI { me { id } }', {}, { token: account.accessToken });
    await new Promise((resolve) => setImmediate(resolve));
    const line = requestLines().find(
      (entry) => entry.requestId === res.headers.get('x-request-id'),
    );
    expect(line).toMatchObject({ operationName: 'WhoAmI', userId: account.id, outcome: 'OK' });
  });
});

describe('secrets in logs', () => {
  it('never contain a password, a token or a hash, whatever the flow', async () => {
    const password = 'Sup3r-secret passphrase';
    const newPassword = 'An0ther secret passphrase';
    const account = await register(t, { password });
    const wrong = await login(t, account.email, `${password}-wrong`);
    expect(wrong.errors).toBeDefined();
    const signedIn = (await login(t, account.email, password)).data!.login;
    const refreshed = (await gql(t.url, REFRESH, { token: signedIn.refreshToken })).data!
      .refreshToken;
    await gql(
      t.url,
      CHANGE_PASSWORD,
      { current: password, next: newPassword },
      { token: refreshed.accessToken },
    );
    await gql(t.url, ME, {}, { token: 'definitely.not.valid' });
    await new Promise((resolve) => setImmediate(resolve));

    const everything = JSON.stringify(t.logs);
    expect(t.logs.length).toBeGreaterThan(5);
    for (const secret of [
      password,
      newPassword,
      `${password}-wrong`,
      account.accessToken,
      account.refreshToken,
      signedIn.accessToken,
      signedIn.refreshToken,
      refreshed.accessToken,
      refreshed.refreshToken,
      'definitely.not.valid',
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/\$argon2id\$/);
    expect(everything).toContain('LOGIN_FAILED');
  });
});

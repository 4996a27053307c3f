import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { REFRESH_COOKIE } from '../../src/auth/refresh-cookie';
import { SessionModel } from '../../src/auth/session.model';
import { TodoModel } from '../../src/todos/todo.model';
import { useTestApp } from '../helpers/app';
import { ME, PLANT_TODO, type SignedIn, login, register } from '../helpers/operations';
import { databaseSnapshot, decodeJwt, rawRequest } from './support';

/**
 * HTTP-level attacks: cross-site simple requests (CSRF), origins outside the CORS allow-list,
 * oversized, compressed and malformed bodies, hostile request ids.
 */

const ALLOWED_ORIGIN = 'https://app.example';

describe('with a bearer token and CORS_ORIGINS', () => {
  const t = useTestApp({ CORS_ORIGINS: ALLOWED_ORIGIN });
  let user: SignedIn;
  beforeAll(async () => {
    user = await register(t);
  });

  const bearer = () => ({ authorization: `Bearer ${user.accessToken}` });

  /** Sends a request that would plant a todo and expects `status` with nothing stored. */
  async function expectNothingDone(
    request: Parameters<typeof rawRequest>[1],
    status: number,
    code?: string,
  ) {
    const before = await databaseSnapshot();
    const res = await rawRequest(t.url, request);
    expect(res.status).toBe(status);
    if (code !== undefined) expect(res.json.errors[0].extensions.code).toBe(code);
    expect(res.json?.data ?? undefined).toBeUndefined();
    expect(await databaseSnapshot()).toEqual(before);
    return res;
  }

  describe('CSRF: simple requests a foreign page can send are refused before anything runs', () => {
    it.each([
      ['text/plain', 'text/plain', JSON.stringify({ query: PLANT_TODO })],
      [
        'text/plain with a charset',
        'text/plain;charset=UTF-8',
        JSON.stringify({ query: PLANT_TODO }),
      ],
      [
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded',
        `query=${encodeURIComponent(PLANT_TODO)}`,
      ],
      [
        'multipart/form-data',
        'multipart/form-data; boundary=XyZ',
        `--XyZ\r\nContent-Disposition: form-data; name="query"\r\n\r\n${PLANT_TODO}\r\n--XyZ--\r\n`,
      ],
    ])('a POST as %s', async (_label, contentType, body) => {
      const res = await expectNothingDone(
        {
          headers: { 'content-type': contentType, origin: 'https://evil.example', ...bearer() },
          body,
        },
        400,
      );
      expect(res.text).toMatch(/CSRF/);
    });

    it('a GET query without a preflight header', async () => {
      await expectNothingDone(
        {
          method: 'GET',
          path: `/graphql?query=${encodeURIComponent(ME)}`,
          headers: bearer(),
        },
        400,
      );
    });

    it('a GET mutation, even with a preflight header', async () => {
      await expectNothingDone(
        {
          method: 'GET',
          path: `/graphql?query=${encodeURIComponent(PLANT_TODO)}`,
          headers: { 'apollo-require-preflight': 'true', ...bearer() },
        },
        405,
      );
    });
  });

  describe('CORS: only the allow-listed origin may read responses', () => {
    const preflight = (origin: string) =>
      rawRequest(t.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        },
      });

    it('answers the allow-listed origin (control)', async () => {
      const res = await preflight(ALLOWED_ORIGIN);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    });

    it.each([
      'https://evil.example',
      'https://app.example.evil.example',
      'https://evil-app.example',
      'http://app.example',
      'https://app.example:8443',
      'null',
    ])(
      'gives %p no Access-Control-Allow-Origin, on preflight or on the request',
      async (origin) => {
        const res = await preflight(origin);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        const post = await rawRequest(t.url, {
          headers: { 'content-type': 'application/json', origin, ...bearer() },
          body: JSON.stringify({ query: ME }),
        });
        expect(post.status).toBe(200);
        expect(post.headers['access-control-allow-origin']).toBeUndefined();
      },
    );
  });

  describe('bodies', () => {
    const json = (pad: number) =>
      JSON.stringify({ query: PLANT_TODO, variables: { pad: 'x'.repeat(pad) } });

    it('refuses a JSON body over 100 kB with 413 PAYLOAD_TOO_LARGE', async () => {
      await expectNothingDone(
        { headers: { 'content-type': 'application/json', ...bearer() }, body: json(110_000) },
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it('refuses an oversized body sent chunked, without a Content-Length', async () => {
      await expectNothingDone(
        {
          headers: {
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
            ...bearer(),
          },
          body: json(110_000),
        },
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ])('refuses a %s bomb that inflates past the limit', async (encoding, compress) => {
      const body = compress(Buffer.from(json(5_000_000)));
      expect(body.length).toBeLessThan(100_000);
      await expectNothingDone(
        {
          headers: {
            'content-type': 'application/json',
            'content-encoding': encoding,
            ...bearer(),
          },
          body,
        },
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it('refuses an unsupported content encoding with 415', async () => {
      await expectNothingDone(
        {
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'compress',
            ...bearer(),
          },
          body: json(10),
        },
        415,
      );
    });

    it.each([
      ['truncated JSON', '{"query": "mutation { createTodo(input: { title: \\"x\\" }) { id } }"'],
      ['a JSON string', JSON.stringify(PLANT_TODO)],
      [
        'JSON nested 50 000 levels deep in a variable',
        `{"query":"mutation ($x: String) { createTodo(input: { title: \\"deep\\" }) { id } }","variables":{"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
      ],
      ['an empty body', ''],
    ])('answers %s with a 400, never a 500', async (_label, body) => {
      const res = await expectNothingDone(
        { headers: { 'content-type': 'application/json', ...bearer() }, body },
        400,
      );
      expect(res.text).not.toMatch(/node_modules|SyntaxError|at JSON\.parse/);
    });
  });

  it('replaces a hostile X-Request-Id instead of echoing or logging it', async () => {
    const hostile = '<script>alert(1)</script>';
    const res = await rawRequest(t.url, {
      headers: { 'content-type': 'application/json', 'x-request-id': hostile },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(t.logs)).not.toContain(hostile);
  });

  it('sends hardening headers and no X-Powered-By', async () => {
    const res = await rawRequest(t.url, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('with the refresh token in a cookie (REFRESH_TOKEN_COOKIE=true)', () => {
  const t = useTestApp({ REFRESH_TOKEN_COOKIE: 'true' });
  let cookie: string;
  let sessionId: string;
  beforeAll(async () => {
    const account = await register(t);
    const res = await login(t, account.email, account.password);
    const match = new RegExp(`${REFRESH_COOKIE}=([^;]*)`).exec(res.headers.get('set-cookie') ?? '');
    cookie = `${REFRESH_COOKIE}=${match![1]}`;
    sessionId = decodeJwt(match![1]!).payload.sid;
  });

  /** The session of the cookie is exactly as it was: not rotated, not revoked. */
  async function expectSessionUntouched(request: Parameters<typeof rawRequest>[1], status: number) {
    const before = await SessionModel.findById(sessionId).lean();
    const todos = await TodoModel.countDocuments();
    const res = await rawRequest(t.url, request);
    expect(res.status).toBe(status);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await SessionModel.findById(sessionId).lean()).toEqual(before);
    expect(before!.revokedAt).toBeNull();
    expect(await TodoModel.countDocuments()).toBe(todos);
  }

  it.each([
    ['refreshToken', 'mutation { refreshToken { accessToken } }'],
    ['logout', 'mutation { logout }'],
  ])('a cross-site text/plain POST of %s with the cookie does nothing', async (_label, query) => {
    await expectSessionUntouched(
      {
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example', cookie },
        body: JSON.stringify({ query }),
      },
      400,
    );
  });

  it('a cross-site form POST of logout with the cookie does nothing', async () => {
    await expectSessionUntouched(
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: `query=${encodeURIComponent('mutation { logout }')}`,
      },
      400,
    );
  });

  it('a GET logout with the cookie (an <img> tag) does nothing', async () => {
    await expectSessionUntouched(
      {
        method: 'GET',
        path: `/graphql?query=${encodeURIComponent('mutation { logout }')}`,
        headers: { cookie },
      },
      400,
    );
  });
});

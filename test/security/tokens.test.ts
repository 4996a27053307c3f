import { createServer as createJwksServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { loadKeyRing } from '../../src/auth/keys';
import { type TestApp, useTestApp } from '../helpers/app';
import { ME, PLANT_TODO, type SignedIn, register } from '../helpers/operations';
import { expectTokenRefused, gql } from '../helpers/graphql';
import {
  base64url,
  databaseSnapshot,
  decodeJwt,
  forgeJwt,
  freshClaims,
  rawRequest,
} from './support';

/**
 * Forged, malformed and confused tokens. Each one is sent with a mutation that would plant a
 * todo if the token were honoured: the whole request must be refused (401, nothing stored).
 */

async function expectForgeryRefused(
  t: TestApp,
  authorization: string,
  reason: 'INVALID_TOKEN' | 'TOKEN_EXPIRED' = 'INVALID_TOKEN',
) {
  const before = await databaseSnapshot();
  const res = await gql(t.url, PLANT_TODO, {}, { headers: { authorization } });
  expectTokenRefused(res, reason);
  expect(await databaseSnapshot()).toEqual(before);
}

/** A fresh PEM key pair for `alg` and the settings that make the app sign with it. */
function signingKeys(alg: 'RS256' | 'ES256') {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('ec', {
          namedCurve: 'prime256v1',
          publicKeyEncoding,
          privateKeyEncoding,
        });
  const env = { JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: privateKey, JWT_PUBLIC_KEY: publicKey };
  return { privateKey, publicKey, env };
}

describe('HS256 access tokens', () => {
  const t = useTestApp();
  let victim: SignedIn;
  let secret: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    secret = t.config.jwt.secret!;
    victim = await register(t);
  });

  /** A token exactly like the server's, with `header` and `payload` changes applied. */
  const forged = (
    header: Record<string, unknown> = {},
    payload: Record<string, unknown> = {},
    key: string | Buffer | undefined = secret,
  ) => {
    const base = freshClaims(victim.accessToken);
    const claims = { ...base.payload, ...payload };
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete claims[name];
    const head = { ...base.header, ...header };
    for (const [name, value] of Object.entries(header)) if (value === undefined) delete head[name];
    return forgeJwt(head, claims, key);
  };

  it('accepts a hand-made token with the right secret, kid and claims (control for the forgeries below)', async () => {
    const res = await gql(t.url, ME, {}, { token: forged() });
    expect(res.status).toBe(200);
    expect(res.data!.me.id).toBe(victim.id);
    expect(loadKeyRing(t.config.jwt).signingKid).toBe(decodeJwt(victim.accessToken).header.kid);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])(
    'refuses alg %p with an empty signature',
    async (alg) => {
      await expectForgeryRefused(t, `Bearer ${forged({ alg }, { role: 'admin' }, undefined)}`);
    },
  );

  it('refuses alg none that keeps the signature of a genuine token', async () => {
    const [, , signature] = victim.accessToken.split('.');
    const { header, payload } = decodeJwt(victim.accessToken);
    const token = `${base64url({ ...header, alg: 'none' })}.${base64url(payload)}.${signature}`;
    await expectForgeryRefused(t, `Bearer ${token}`);
  });

  it.each(['HS384', 'HS512'])(
    'refuses a token signed with %s and the right secret (algorithm pinned)',
    async (alg) => {
      await expectForgeryRefused(t, `Bearer ${forged({ alg })}`);
    },
  );

  it('refuses a correctly signed token without exp', async () => {
    await expectForgeryRefused(t, `Bearer ${forged({}, { exp: undefined })}`);
  });

  it('refuses a correctly signed token whose exp is not a number', async () => {
    await expectForgeryRefused(t, `Bearer ${forged({}, { exp: String(now() + 600) })}`);
  });

  it('refuses a correctly signed token that is not valid yet (nbf in the future)', async () => {
    await expectForgeryRefused(t, `Bearer ${forged({}, { nbf: now() + 3600 })}`);
  });

  it('refuses a correctly signed token issued in the future (iat)', async () => {
    await expectForgeryRefused(t, `Bearer ${forged({}, { iat: now() + 3600 })}`);
  });

  it('answers TOKEN_EXPIRED for a token that expired one second ago (no tolerance by default)', async () => {
    await expectForgeryRefused(
      t,
      `Bearer ${forged({}, { iat: now() - 900, exp: now() - 1 })}`,
      'TOKEN_EXPIRED',
    );
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example' }],
    ['no issuer', { iss: undefined }],
    ['a wrong audience', { aud: 'another-api' }],
    ['an audience list without ours', { aud: ['another-api', 'graphql-auth-api-2'] }],
    ['no audience', { aud: undefined }],
  ])('refuses a correctly signed token with %s', async (_label, claims) => {
    await expectForgeryRefused(t, `Bearer ${forged({}, claims)}`);
  });

  it.each([
    ['a path-traversal kid (/dev/null, empty key)', { kid: '../../../../../dev/null' }, ''],
    ['an SQL-injection kid', { kid: "x' UNION SELECT 'attacker-secret' --" }, 'attacker-secret'],
    ['kid "__proto__"', { kid: '__proto__' }, 'attacker-secret'],
    ['kid "constructor"', { kid: 'constructor' }, 'attacker-secret'],
    ['an object as kid', { kid: { $ne: null } }, 'attacker-secret'],
    ['no kid', { kid: undefined }, 'attacker-secret'],
    ["the server's own kid", {}, 'attacker-secret'],
  ])('kid trick: %s, signed with the attacker’s key, is refused', async (_l, header, key) => {
    await expectForgeryRefused(t, `Bearer ${forged(header, { role: 'admin' }, key)}`);
  });

  it.each([
    ['missing its last character', (s: string) => s.slice(0, -1)],
    ['cut in half', (s: string) => s.slice(0, s.length / 2)],
    ['empty', () => ''],
    ['another token’s', () => forged({}, { jti: 'other' }).split('.')[2]!],
  ])('refuses a genuine token whose signature is %s', async (_label, cut) => {
    const [header, payload, signature] = forged().split('.');
    await expectForgeryRefused(t, `Bearer ${header}.${payload}.${cut(signature!)}`);
  });

  it.each([
    ['typ "JWT"', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
    ['the refresh-token typ', { typ: 'rt+jwt' }],
  ])('refuses a correctly signed access token with %s (token-type confusion)', async (_l, h) => {
    await expectForgeryRefused(t, `Bearer ${forged(h)}`);
  });

  it('refuses refresh-token claims under the access-token typ, even correctly signed', async () => {
    const { payload } = decodeJwt(victim.refreshToken);
    const { header } = decodeJwt(victim.accessToken);
    await expectForgeryRefused(t, `Bearer ${forgeJwt(header, payload, secret)}`);
  });

  it.each([
    ['two segments', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0'],
    ['four segments', `${'a'.repeat(10)}.b.c.d`],
    ['five segments (JWE shape)', 'a.b.c.d.e'],
    ['empty segments', '..'],
    ['a JSON null header', `${base64url('null')}.${base64url({ sub: 'x' })}.sig`],
    ['a JSON array header', `${base64url('[1,2]')}.${base64url({ sub: 'x' })}.sig`],
    ['a string payload', `${base64url({ alg: 'HS256' })}.${base64url('"admin"')}.sig`],
    ['binary garbage', randomBytes(48).toString('base64url')],
  ])('refuses a token with %s as INVALID_TOKEN (never a 500)', async (_label, token) => {
    await expectForgeryRefused(t, `Bearer ${token}`);
  });

  it('refuses a token longer than 4096 characters before parsing it', async () => {
    const padded = forged({}, { pad: 'x'.repeat(4200) });
    expect(padded.length).toBeGreaterThan(4096);
    await expectForgeryRefused(t, `Bearer ${padded}`);
  });

  it('refuses a genuine token followed by anything else in the header', async () => {
    await expectForgeryRefused(t, `Bearer ${victim.accessToken} Bearer ${victim.accessToken}`);
    await expectForgeryRefused(t, `Bearer ${victim.accessToken}, Bearer other`);
  });

  it.each([
    ['a valid and an invalid token', () => [`Bearer ${victim.accessToken}`, 'Bearer forged']],
    [
      'the same valid token twice',
      () => [`Bearer ${victim.accessToken}`, `Bearer ${victim.accessToken}`],
    ],
  ])('answers 400 invalid_request to two Authorization headers (%s)', async (_label, values) => {
    const before = await databaseSnapshot();
    const res = await rawRequest(t.url, {
      headers: { 'content-type': 'application/json', authorization: values() },
      body: JSON.stringify({ query: PLANT_TODO }),
    });
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/);
    expect(res.json.data).toBeUndefined();
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0].extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_REQUEST',
    });
    expect(await databaseSnapshot()).toEqual(before);
  });

  it('answers 431 to an Authorization header over 16 KiB, before any code runs', async () => {
    const before = await databaseSnapshot();
    const res = await rawRequest(t.url, {
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${victim.accessToken}${'A'.repeat(17 * 1024)}`,
      },
      body: JSON.stringify({ query: PLANT_TODO }),
    });
    expect(res.status).toBe(431);
    expect(await databaseSnapshot()).toEqual(before);
  });

  it('publishes no key at all in HS256 mode (the secret never leaves the server)', async () => {
    const res = await fetch(`${t.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ keys: [] });
    expect(text).not.toContain(secret);
  });
});

describe('RS256 access tokens', () => {
  const { privateKey: serverPrivateKey, publicKey: serverPublicKey, env } = signingKeys('RS256');
  const t = useTestApp(env);
  let victim: SignedIn;
  let serverKid: string;
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker-key' };
  // An attacker's key server: a verifier that follows jku / x5u would call it.
  let fetchedByServer = 0;
  const jwksServer = createJwksServer((_req, res) => {
    fetchedByServer += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [attackerJwk] }));
  });
  let jwksUrl: string;

  beforeAll(async () => {
    victim = await register(t);
    serverKid = decodeJwt(victim.accessToken).header.kid;
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  const claims = () => freshClaims(victim.accessToken);

  it('accepts a hand-made RS256 token signed with the server key (control)', async () => {
    const { header, payload } = claims();
    const res = await gql(t.url, ME, {}, { token: forgeJwt(header, payload, serverPrivateKey) });
    expect(res.data!.me.id).toBe(victim.id);
  });

  it.each([
    ['the PEM text of the public key', () => serverPublicKey],
    [
      'the DER bytes of the public key',
      () => createPublicKey(serverPublicKey).export({ type: 'spki', format: 'der' }),
    ],
    [
      'the public JWK modulus',
      () => String(createPublicKey(serverPublicKey).export({ format: 'jwk' }).n),
    ],
  ])('refuses HS256 signed with %s (key confusion)', async (_label, key) => {
    const { header, payload } = claims();
    await expectForgeryRefused(
      t,
      `Bearer ${forgeJwt({ ...header, alg: 'HS256' }, payload, key())}`,
    );
  });

  it('refuses the HS/RS confusion with the key exactly as published at /.well-known/jwks.json', async () => {
    const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: any[] };
    const published = jwks.keys.find((key) => key.kid === serverKid);
    const pem = createPublicKey({ key: published, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const { header, payload } = claims();
    await expectForgeryRefused(t, `Bearer ${forgeJwt({ ...header, alg: 'HS256' }, payload, pem)}`);
  });

  it.each(['RS384', 'RS512', 'PS256'])(
    'refuses %s even when signed with the real private key (algorithm pinned)',
    async (alg) => {
      const { header, payload } = claims();
      await expectForgeryRefused(
        t,
        `Bearer ${forgeJwt({ ...header, alg }, payload, serverPrivateKey)}`,
      );
    },
  );

  it('refuses alg none in RS256 mode', async () => {
    const { header, payload } = claims();
    await expectForgeryRefused(t, `Bearer ${forgeJwt({ ...header, alg: 'none' }, payload)}`);
  });

  it.each([
    ['jku to the attacker’s key set, attacker kid', () => ({ jku: jwksUrl, kid: 'attacker-key' })],
    ['jku to the attacker’s key set, server kid', () => ({ jku: jwksUrl, kid: serverKid })],
    ['x5u to the attacker’s server', () => ({ x5u: jwksUrl, kid: serverKid })],
    ['an embedded attacker jwk', () => ({ jwk: attackerJwk, kid: serverKid })],
    ['an embedded attacker jwk and its kid', () => ({ jwk: attackerJwk, kid: 'attacker-key' })],
  ])('refuses %s and never fetches a key from the token', async (_label, extra) => {
    const { header, payload } = claims();
    const token = forgeJwt({ ...header, ...extra() }, payload, attacker.privateKey);
    await expectForgeryRefused(t, `Bearer ${token}`);
    expect(fetchedByServer).toBe(0);
  });

  it('refuses a token whose RS256 signature was truncated', async () => {
    const { header, payload } = claims();
    const token = forgeJwt(header, payload, serverPrivateKey);
    await expectForgeryRefused(t, `Bearer ${token.slice(0, -8)}`);
  });

  it('publishes only public key members at /.well-known/jwks.json', async () => {
    const res = await fetch(`${t.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: serverKid, alg: 'RS256', use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      expect(jwks.keys[0]).not.toHaveProperty(member);
    }
  });
});

describe('ES256 access tokens', () => {
  const { publicKey: serverPublicKey, env } = signingKeys('ES256');
  const t = useTestApp(env);
  let victim: SignedIn;

  beforeAll(async () => {
    victim = await register(t);
  });

  it('refuses HS256 signed with the EC public key (key confusion)', async () => {
    const { header, payload } = freshClaims(victim.accessToken);
    await expectForgeryRefused(
      t,
      `Bearer ${forgeJwt({ ...header, alg: 'HS256' }, payload, serverPublicKey)}`,
    );
  });

  it('refuses an all-zero ("psychic") ECDSA signature', async () => {
    const { header, payload } = freshClaims(victim.accessToken);
    const token = `${base64url(header)}.${base64url(payload)}.${Buffer.alloc(64).toString('base64url')}`;
    await expectForgeryRefused(t, `Bearer ${token}`);
  });
});

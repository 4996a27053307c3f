import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { type Config, loadConfig } from '../../src/config';
import { TokenRejectedError } from '../../src/common/errors';
import { loadKeyRing, publicJwks } from '../../src/auth/keys';
import { TokenService } from '../../src/auth/tokens';
import { Role } from '../../src/users/role';

const user = { id: '65a1b2c3d4e5f60718293a4b', role: Role.CUSTOMER, credentialVersion: 3 };
const sessionId = '65a1b2c3d4e5f60718293a4c';

function rsaPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function ecPair() {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function serviceFor(env: Record<string, string>): { tokens: TokenService; config: Config } {
  const config = loadConfig({ JWT_SECRET: 's'.repeat(40), ...env });
  return { tokens: new TokenService(loadKeyRing(config.jwt), config.jwt, config.tokens), config };
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('access tokens', () => {
  it.each([
    ['HS256', {}],
    [
      'RS256',
      (() => {
        const k = rsaPair();
        return { JWT_PRIVATE_KEY: k.privateKey, JWT_PUBLIC_KEY: k.publicKey };
      })(),
    ],
    [
      'ES256',
      (() => {
        const k = ecPair();
        return { JWT_PRIVATE_KEY: k.privateKey, JWT_PUBLIC_KEY: k.publicKey };
      })(),
    ],
  ])('are signed and verified with %s, carrying the contract claims', (algorithm, keys) => {
    const { tokens } = serviceFor({ JWT_ALGORITHM: algorithm, ...keys });
    const token = tokens.signAccess(user, sessionId);
    const decoded = jwt.decode(token, { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: algorithm, typ: 'at+jwt' });
    expect(typeof decoded.header.kid).toBe('string');
    expect(decoded.payload).toEqual(
      expect.objectContaining({
        sub: user.id,
        role: 'customer',
        iss: 'graphql-auth-api',
        aud: 'graphql-auth-api',
      }),
    );
    const claims = tokens.verifyAccess(token);
    expect(claims).toMatchObject({ sub: user.id, ver: 3, sid: sessionId });
    expect(claims.exp - claims.iat).toBe(900);
    expect(typeof claims.jti).toBe('string');
  });

  it('refuses a refresh token presented as an access token, and the reverse', () => {
    const { tokens } = serviceFor({});
    const refresh = tokens.signRefresh(
      user.id,
      sessionId,
      'token-id',
      new Date(Date.now() + 60_000),
      { family: 'family-secret', generation: 0 },
    );
    expect(reasonOf(() => tokens.verifyAccess(refresh))).toBe('INVALID_TOKEN');
    expect(() => tokens.verifyRefresh(tokens.signAccess(user, sessionId))).toThrow(
      /refresh token is invalid/,
    );
  });

  it('keeps verifying tokens of a previous HS secret after rotation', () => {
    const old = serviceFor({ JWT_SECRET: 'o'.repeat(40) });
    const token = old.tokens.signAccess(user, sessionId);
    const rotated = serviceFor({
      JWT_SECRET: 'n'.repeat(40),
      JWT_PREVIOUS_SECRETS: 'o'.repeat(40),
    });
    expect(rotated.tokens.verifyAccess(token).sub).toBe(user.id);
    const withoutPrevious = serviceFor({ JWT_SECRET: 'n'.repeat(40) });
    expect(reasonOf(() => withoutPrevious.tokens.verifyAccess(token))).toBe('INVALID_TOKEN');
  });

  it('keeps verifying tokens of a previous RS key and publishes both keys', () => {
    const first = rsaPair();
    const second = rsaPair();
    const old = serviceFor({
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: first.privateKey,
      JWT_PUBLIC_KEY: first.publicKey,
    });
    const token = old.tokens.signAccess(user, sessionId);
    const env = {
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY: second.privateKey,
      JWT_PUBLIC_KEY: second.publicKey,
      JWT_PREVIOUS_PUBLIC_KEYS: first.publicKey,
    };
    const rotated = serviceFor(env);
    expect(rotated.tokens.verifyAccess(token).sub).toBe(user.id);
    const jwks = publicJwks(loadKeyRing(rotated.config.jwt));
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });

  it('publishes no keys in HS256 mode', () => {
    const { config } = serviceFor({});
    expect(publicJwks(loadKeyRing(config.jwt)).keys).toEqual([]);
  });

  it('refuses a key pair that does not match, and a key of the wrong type', () => {
    const a = rsaPair();
    const b = rsaPair();
    expect(() =>
      serviceFor({
        JWT_ALGORITHM: 'RS256',
        JWT_PRIVATE_KEY: a.privateKey,
        JWT_PUBLIC_KEY: b.publicKey,
      }),
    ).toThrow(/does not belong/);
    const ec = ecPair();
    expect(() =>
      serviceFor({
        JWT_ALGORITHM: 'RS256',
        JWT_PRIVATE_KEY: ec.privateKey,
        JWT_PUBLIC_KEY: ec.publicKey,
      }),
    ).toThrow(/RSA key/);
  });

  it('reports an expired token as TOKEN_EXPIRED only when its signature is good', () => {
    const { tokens, config } = serviceFor({ ACCESS_TOKEN_TTL: '1' });
    const now = Math.floor(Date.now() / 1000);
    const header = {
      alg: 'HS256' as const,
      typ: 'at+jwt',
      kid: loadKeyRing(config.jwt).signingKid,
    };
    const claims = {
      sub: user.id,
      role: 'customer',
      ver: 3,
      sid: sessionId,
      jti: 'x',
      iat: now - 100,
      exp: now - 10,
      iss: 'graphql-auth-api',
      aud: 'graphql-auth-api',
    };
    const expired = jwt.sign(claims, config.jwt.secret!, { header });
    expect(reasonOf(() => tokens.verifyAccess(expired))).toBe('TOKEN_EXPIRED');
    const forged = jwt.sign(claims, 'another secret that is long enough!!', { header });
    expect(reasonOf(() => tokens.verifyAccess(forged))).toBe('INVALID_TOKEN');
  });
});

import {
  type JsonWebKey,
  type KeyObject,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign,
  verify,
} from 'node:crypto';
import { type Config, ConfigError, type JwtAlgorithm } from '../config';

/**
 * Signing and verification keys, parsed once at start (never per request). Every key has a
 * `kid`; verification looks the `kid` up in this in-memory map only, so a token's header can
 * never point the server at a file, a URL or the database.
 */

export interface VerificationKey {
  kid: string;
  key: KeyObject;
  /** Public JWK for /.well-known/jwks.json (asymmetric keys only). */
  jwk: JsonWebKey | undefined;
}

export interface KeyRing {
  algorithm: JwtAlgorithm;
  signingKey: KeyObject;
  signingKid: string;
  verificationKeys: Map<string, VerificationKey>;
}

const base64url = (data: Buffer) => data.toString('base64url');

/** RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return base64url(createHash('sha256').update(JSON.stringify(members)).digest());
}

/** A kid for an HMAC secret that reveals nothing about the secret itself. */
function secretKid(secret: string): string {
  return 'hs-' + base64url(createHmac('sha256', secret).update('kid').digest()).slice(0, 22);
}

function checkKeyFits(key: KeyObject, algorithm: JwtAlgorithm, name: string): void {
  const details = key.asymmetricKeyDetails;
  if (algorithm === 'RS256') {
    if (key.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < 2048) {
      throw new ConfigError([`${name} must be an RSA key of at least 2048 bits for RS256`]);
    }
  } else if (algorithm === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
      throw new ConfigError([`${name} must be an EC P-256 key for ES256`]);
    }
  }
}

function publicKeyFromPem(pem: string, algorithm: JwtAlgorithm, name: string): VerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new ConfigError([
      `${name} is not a readable PEM public key (${(error as Error).message})`,
    ]);
  }
  checkKeyFits(key, algorithm, name);
  const exported = key.export({ format: 'jwk' });
  const kid = thumbprint(exported);
  return { kid, key, jwk: { ...exported, kid, alg: algorithm, use: 'sig' } };
}

export function loadKeyRing(jwt: Config['jwt']): KeyRing {
  const verificationKeys = new Map<string, VerificationKey>();

  if (jwt.algorithm === 'HS256') {
    const secret = jwt.secret!;
    for (const value of [secret, ...jwt.previousSecrets]) {
      const kid = secretKid(value);
      verificationKeys.set(kid, {
        kid,
        key: createSecretKey(Buffer.from(value, 'utf8')),
        jwk: undefined,
      });
    }
    const signingKid = secretKid(secret);
    return {
      algorithm: jwt.algorithm,
      signingKey: verificationKeys.get(signingKid)!.key,
      signingKid,
      verificationKeys,
    };
  }

  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(jwt.privateKey!);
  } catch (error) {
    throw new ConfigError([
      `JWT_PRIVATE_KEY is not a readable PEM private key (${(error as Error).message})`,
    ]);
  }
  checkKeyFits(signingKey, jwt.algorithm, 'JWT_PRIVATE_KEY');
  const current = publicKeyFromPem(jwt.publicKey!, jwt.algorithm, 'JWT_PUBLIC_KEY');

  // A mismatched pair would mint tokens nobody can verify; catch it at start instead.
  const probe = Buffer.from('key-pair-check');
  const digest = 'sha256';
  if (!verify(digest, probe, current.key, sign(digest, probe, signingKey))) {
    throw new ConfigError(['JWT_PUBLIC_KEY does not belong to JWT_PRIVATE_KEY']);
  }

  verificationKeys.set(current.kid, current);
  jwt.previousPublicKeys.forEach((pem, index) => {
    const previous = publicKeyFromPem(pem, jwt.algorithm, `JWT_PREVIOUS_PUBLIC_KEYS[${index}]`);
    if (!verificationKeys.has(previous.kid)) verificationKeys.set(previous.kid, previous);
  });
  return { algorithm: jwt.algorithm, signingKey, signingKid: current.kid, verificationKeys };
}

/** The JSON Web Key Set published at /.well-known/jwks.json (empty for HS256). */
export function publicJwks(ring: KeyRing): { keys: JsonWebKey[] } {
  return {
    keys: [...ring.verificationKeys.values()].flatMap((entry) => (entry.jwk ? [entry.jwk] : [])),
  };
}

import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { type Config } from '../config';
import { InvalidRefreshTokenError, TokenFailureReason, TokenRejectedError } from '../common/errors';
import { type Role, isRole } from '../users/role';
import { type KeyRing } from './keys';

/**
 * Access and refresh tokens are both JWTs signed with the same key ring, told apart by the
 * `typ` header (explicit typing, RFC 8725 §3.11): a refresh token is never accepted where an
 * access token is expected, nor the reverse.
 */

const ACCESS_TYPE = 'at+jwt';
const REFRESH_TYPE = 'rt+jwt';
/** A device cookie (OWASP "device cookies"): this client signed in to `sub` before. */
const DEVICE_TYPE = 'dv+jwt';
/** Longer than any token we mint; a longer header value is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;

export interface AccessClaims {
  sub: string;
  role: Role;
  /** The user's credential version when the token was issued. */
  ver: number;
  /** The session (refresh-token family) the token was issued for. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface RefreshClaims {
  sub: string;
  /** Session (refresh-token family) id. */
  sid: string;
  jti: string;
  exp: number;
  /** The family secret and this token's generation (absent in tokens minted before them). */
  fam?: string;
  gen?: number;
}

/** Where a refresh token stands in its family; its id is derived from both (session.service). */
export interface RefreshGeneration {
  family: string;
  generation: number;
}

type Failure = 'expired' | 'invalid';

export class TokenService {
  private readonly verifyOptions: jwt.VerifyOptions & { complete: false };
  /**
   * Access tokens already verified, by their exact text. Whether a token is valid depends on
   * its bytes, the key ring (fixed for the process) and the clock, so a client's repeated
   * token costs one lookup instead of two base64 decodes, two JSON parses and a signature
   * check. Revocation is not decided here: the credential version is checked on every request.
   */
  private readonly verifiedAccess = new LRUCache<string, AccessClaims>({ max: 20_000 });

  constructor(
    private readonly ring: KeyRing,
    private readonly jwtConfig: Config['jwt'],
    private readonly ttl: Config['tokens'],
  ) {
    this.verifyOptions = {
      algorithms: [ring.algorithm],
      issuer: jwtConfig.issuer,
      audience: jwtConfig.audience,
      clockTolerance: jwtConfig.clockToleranceSeconds,
      complete: false,
    };
  }

  get accessTtlSeconds(): number {
    return this.ttl.accessTtlSeconds;
  }

  signAccess(
    user: { id: string; role: Role; credentialVersion: number },
    sessionId: string,
  ): string {
    const payload = { role: user.role, ver: user.credentialVersion, sid: sessionId };
    return this.sign(payload, ACCESS_TYPE, user.id, randomUUID(), this.ttl.accessTtlSeconds);
  }

  signRefresh(
    userId: string,
    sessionId: string,
    tokenId: string,
    expiresAt: Date,
    position: RefreshGeneration,
  ): string {
    const lifetime = Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
    const payload = { sid: sessionId, fam: position.family, gen: position.generation };
    return this.sign(payload, REFRESH_TYPE, userId, tokenId, lifetime);
  }

  signDevice(userId: string, lifetimeSeconds: number): string {
    return this.sign({}, DEVICE_TYPE, userId, randomUUID(), lifetimeSeconds);
  }

  /** The device cookie's user and device id, or undefined for anything not a valid one. */
  verifyDevice(token: string): { userId: string; deviceId: string } | undefined {
    const result = this.verify(token, DEVICE_TYPE);
    return typeof result === 'string' ? undefined : { userId: result.sub!, deviceId: result.jti! };
  }

  /** Verifies an access token; throws the 401 the contract asks for. */
  verifyAccess(token: string): AccessClaims {
    const known = this.verifiedAccess.get(token);
    if (known) return known;
    const claims = this.verifyAccessUncached(token);
    // Good until exp (plus the allowed skew); an expired entry is gone, so an expired token
    // goes through full verification again and gets TOKEN_EXPIRED from there.
    const ttl = (claims.exp + this.jwtConfig.clockToleranceSeconds) * 1000 - Date.now();
    if (ttl > 0) this.verifiedAccess.set(token, claims, { ttl });
    return claims;
  }

  private verifyAccessUncached(token: string): AccessClaims {
    const result = this.verify(token, ACCESS_TYPE);
    if (typeof result === 'string') {
      throw new TokenRejectedError(
        result === 'expired' ? TokenFailureReason.TOKEN_EXPIRED : TokenFailureReason.INVALID_TOKEN,
      );
    }
    const { role, ver, sid } = result;
    if (!isRole(role) || !Number.isSafeInteger(ver) || typeof sid !== 'string') {
      throw new TokenRejectedError(TokenFailureReason.INVALID_TOKEN);
    }
    return result as unknown as AccessClaims;
  }

  verifyRefresh(token: string): RefreshClaims {
    const result = this.verify(token, REFRESH_TYPE);
    if (
      typeof result === 'string' ||
      typeof result.sid !== 'string' ||
      !/^[0-9a-f]{24}$/.test(result.sid) ||
      // Both or neither: a generation means nothing without its family.
      (result.fam === undefined) !== (result.gen === undefined) ||
      (result.fam !== undefined && typeof result.fam !== 'string') ||
      (result.gen !== undefined && !Number.isSafeInteger(result.gen))
    ) {
      throw new InvalidRefreshTokenError();
    }
    return result as unknown as RefreshClaims;
  }

  private sign(
    payload: Record<string, unknown>,
    typ: string,
    subject: string,
    jwtid: string,
    expiresIn: number,
  ): string {
    return jwt.sign(payload, this.ring.signingKey, {
      algorithm: this.ring.algorithm,
      header: { alg: this.ring.algorithm, typ, kid: this.ring.signingKid },
      issuer: this.jwtConfig.issuer,
      audience: this.jwtConfig.audience,
      subject,
      jwtid,
      expiresIn,
    });
  }

  private verify(token: string, expectedType: string): jwt.JwtPayload | Failure {
    if (token.length > MAX_TOKEN_LENGTH) return 'invalid';
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') return 'invalid';
    const { header } = decoded;
    // The key comes from our own ring by kid; jku / jwk / x5u headers are never followed.
    const entry = header.kid === undefined ? undefined : this.ring.verificationKeys.get(header.kid);
    if (!entry || header.typ !== expectedType || header.alg !== this.ring.algorithm)
      return 'invalid';

    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, entry.key, this.verifyOptions) as jwt.JwtPayload;
    } catch (error) {
      return error instanceof jwt.TokenExpiredError ? 'expired' : 'invalid';
    }
    // jsonwebtoken skips the expiry check when `exp` is absent; a token without one is refused.
    const now = Math.floor(Date.now() / 1000);
    const tolerance = this.jwtConfig.clockToleranceSeconds;
    if (
      typeof payload.exp !== 'number' ||
      typeof payload.iat !== 'number' ||
      payload.iat > now + tolerance ||
      typeof payload.sub !== 'string' ||
      !/^[0-9a-f]{24}$/.test(payload.sub) ||
      typeof payload.jti !== 'string'
    ) {
      return 'invalid';
    }
    return payload;
  }
}

import { type IncomingMessage } from 'node:http';
import { TokenFailureReason, TokenRejectedError } from '../common/errors';
import { type Principal } from '../users/principal';
import { type PrincipalCache } from './principal-cache';
import { type TokenService } from './tokens';

export interface Caller {
  user: Principal;
  /** The session the access token was issued for (marks `current` in `sessions`). */
  sessionId: string;
  /** The access token's `exp` (seconds since the epoch): a socket opened with it ends then. */
  expiresAt: number;
}

/** `Bearer <b64token>` (RFC 6750 §2.1); the scheme word is case-insensitive. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Every Authorization value the request carries. Node would silently reduce a repeated header
 * to its first value, so the raw headers are read when there may be more than one.
 */
function authorizationValues(req: IncomingMessage): readonly unknown[] {
  const header = req.headers.authorization;
  if (header === undefined) return [];
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'authorization') values.push(req.rawHeaders[i + 1]!);
  }
  return values.length > 1 ? values : [header];
}

/** Who is calling over HTTP: see `authenticateAuthorization`. */
export function authenticate(
  req: IncomingMessage,
  tokens: TokenService,
  principals: PrincipalCache,
): Promise<Caller | undefined> {
  return authenticateAuthorization(authorizationValues(req), tokens, principals);
}

/**
 * The one check of the Authorization values a caller presented, wherever they arrived (HTTP
 * headers, a socket's connectionParams): undefined when there is none; a verified,
 * still-current user for one `Bearer` token; otherwise a TokenRejectedError (401, or 400 for
 * more than one value).
 */
export async function authenticateAuthorization(
  presented: readonly unknown[],
  tokens: TokenService,
  principals: PrincipalCache,
): Promise<Caller | undefined> {
  if (presented.length === 0) return undefined;
  if (presented.length > 1) throw new TokenRejectedError(TokenFailureReason.INVALID_REQUEST);

  const value = presented[0];
  const match = typeof value === 'string' ? BEARER.exec(value) : null;
  if (!match) throw new TokenRejectedError(TokenFailureReason.INVALID_TOKEN);
  const claims = tokens.verifyAccess(match[1]!);

  // One cached lookup: the account must still exist and its credentials must not have moved
  // on (logoutAll, password or role change) since the token was issued.
  const user = await principals.load(claims.sub);
  if (!user || user.credentialVersion !== claims.ver)
    throw new TokenRejectedError(TokenFailureReason.INVALID_TOKEN);
  return { user, sessionId: claims.sid, expiresAt: claims.exp };
}

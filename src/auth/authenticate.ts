import { type IncomingMessage } from 'node:http';
import { TokenFailureReason, TokenRejectedError } from '../common/errors';
import { type Principal } from '../users/principal';
import { type PrincipalCache } from './principal-cache';
import { type TokenService } from './tokens';

export interface Caller {
  user: Principal;
  /** The session the access token was issued for (marks `current` in `sessions`). */
  sessionId: string;
}

/** `Bearer <b64token>` (RFC 6750 §2.1); the scheme word is case-insensitive. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function countAuthorizationHeaders(req: IncomingMessage): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'authorization') count += 1;
  }
  return count;
}

/**
 * Who is calling: undefined without an Authorization header; a verified, still-current user
 * with one; otherwise a TokenRejectedError (401, or 400 for a repeated header, which Node would
 * silently reduce to its first value).
 */
export async function authenticate(
  req: IncomingMessage,
  tokens: TokenService,
  principals: PrincipalCache,
): Promise<Caller | undefined> {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  if (countAuthorizationHeaders(req) > 1)
    throw new TokenRejectedError(TokenFailureReason.INVALID_REQUEST);

  const match = BEARER.exec(header);
  if (!match) throw new TokenRejectedError(TokenFailureReason.INVALID_TOKEN);
  const claims = tokens.verifyAccess(match[1]!);

  // One cached lookup: the account must still exist and its credentials must not have moved
  // on (logoutAll, password or role change) since the token was issued.
  const user = await principals.load(claims.sub);
  if (!user || user.credentialVersion !== claims.ver)
    throw new TokenRejectedError(TokenFailureReason.INVALID_TOKEN);
  return { user, sessionId: claims.sid };
}

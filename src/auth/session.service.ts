import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { type Config } from '../config';
import { InvalidRefreshTokenError, NotFoundError } from '../common/errors';
import { IP_MAX, USER_AGENT_MAX, clip } from '../common/clip';
import { type RequestMeta } from '../common/request-meta';
import { type AuditService } from '../audit/audit.service';
import { type SessionType } from './auth.types';
import { SessionModel, type SessionRecord } from './session.model';
import { type RefreshClaims, type RefreshGeneration, type TokenService } from './tokens';
import { type Role } from '../users/role';
import { UserModel } from '../users/user.model';

export interface IssuedRefreshToken {
  sessionId: string;
  refreshToken: string;
}

export interface RotatedSession extends IssuedRefreshToken {
  userId: string;
  credentialVersion: number;
}

/** A live session's user as stored now. */
export interface SessionHolder {
  userId: string;
  credentialVersion: number;
  role: Role;
}

/** Sessions per read in `holders` (keeps each command far below MongoDB's size limit). */
const HOLDERS_PER_READ = 5000;

const hashTokenId = (tokenId: string) => createHash('sha256').update(tokenId).digest('base64url');

/**
 * A generation's token id follows from the family secret (carried only inside the family's own
 * signed tokens, never stored) and the generation number. So the current token can be issued
 * again to a caller racing the one that rotated it, while the database still holds only hashes.
 */
const tokenIdOf = ({ family, generation }: RefreshGeneration) =>
  createHmac('sha256', family).update(String(generation)).digest('base64url');

const newFamilySecret = () => randomBytes(32).toString('base64url');

/**
 * Spent tokens remembered per family for the grace window. Clients refresh once per access
 * token lifetime, so more rotations than this within REFRESH_REUSE_GRACE (at most 60 s) do not
 * happen in honest use; an older one presented again counts as reuse.
 */
const SPENT_KEPT = 8;

/**
 * Refresh-token families (RFC 9700 §4.14.2): each login starts a family; each refresh spends
 * the presented token and issues the next one in a single conditional update, so the family
 * moves forward by exactly one generation per token. A token spent within REFRESH_REUSE_GRACE
 * (two tabs sharing a cookie, a retry after a lost response) is answered with the family's
 * current token; one spent longer ago means it was copied: the whole family ends.
 */
export class SessionService {
  constructor(
    private readonly tokens: TokenService,
    private readonly ttl: Config['tokens'],
    private readonly audit: AuditService,
    /** MAX_SESSIONS_PER_USER: a new sign-in beyond it ends the oldest ones. */
    private readonly maxSessions = Number.POSITIVE_INFINITY,
  ) {}

  async start(
    user: { id: string; credentialVersion: number },
    meta: RequestMeta,
  ): Promise<IssuedRefreshToken> {
    const userId = user.id;
    const now = Date.now();
    const absoluteExpiresAt = new Date(now + this.ttl.refreshTtlSeconds * 1000);
    const position = { family: newFamilySecret(), generation: 0 };
    const session = await SessionModel.create({
      user: userId,
      tokenHash: hashTokenId(tokenIdOf(position)),
      generation: position.generation,
      credentialVersion: user.credentialVersion,
      absoluteExpiresAt,
      expiresAt: this.idleDeadline(now, absoluteExpiresAt),
      lastUsedAt: new Date(now),
      userAgent: clip(meta.userAgent, USER_AGENT_MAX),
      ip: clip(meta.ip, IP_MAX),
    });
    const sessionId = session._id.toHexString();
    await this.endBeyondLimit(userId, now);
    return {
      sessionId,
      refreshToken: this.sign(userId, sessionId, position, absoluteExpiresAt),
    };
  }

  /**
   * Spends `refreshToken` and returns its successor, or the family's current token when it was
   * spent within the grace window; throws UNAUTHENTICATED otherwise.
   */
  async rotate(refreshToken: string, meta: RequestMeta): Promise<RotatedSession> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    const now = Date.now();
    const absoluteExpiresAt = new Date(claims.exp * 1000);
    // A token minted before generations existed starts its family secret here.
    const next = {
      family: claims.fam ?? newFamilySecret(),
      generation: (claims.gen ?? 0) + 1,
    };
    const rotated = await SessionModel.findOneAndUpdate(
      this.currentTokenFilter(claims, now),
      {
        $set: {
          tokenHash: hashTokenId(tokenIdOf(next)),
          generation: next.generation,
          lastUsedAt: new Date(now),
          expiresAt: this.idleDeadline(now, absoluteExpiresAt),
          userAgent: clip(meta.userAgent, USER_AGENT_MAX),
          ip: clip(meta.ip, IP_MAX),
        },
        $push: {
          recentlySpent: {
            $each: [{ tokenHash: hashTokenId(claims.jti), spentAt: new Date(now) }],
            $slice: -SPENT_KEPT,
          },
        },
      },
      { projection: { credentialVersion: 1 } },
    ).lean();
    if (rotated) {
      return {
        userId: claims.sub,
        sessionId: claims.sid,
        credentialVersion: rotated.credentialVersion,
        refreshToken: this.sign(claims.sub, claims.sid, next, absoluteExpiresAt),
      };
    }
    const current = await this.currentWithinGrace(claims, now);
    if (current) return current;
    return this.refuse(claims, now, meta);
  }

  /**
   * Ends the session `refreshToken` belongs to (logout). A token spent within the grace window
   * still names its session; one spent longer ago ends the family as reuse.
   */
  async end(
    refreshToken: string,
    meta: RequestMeta,
    callerId: string | undefined,
  ): Promise<{ userId: string; sessionId: string }> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    // A signed-in caller may only end their own sessions with this.
    if (callerId !== undefined && claims.sub !== callerId) throw new InvalidRefreshTokenError();
    const now = Date.now();
    const filter =
      this.graceSeconds(claims) > 0
        ? {
            ...this.aliveFamilyFilter(claims, now),
            $or: [
              { tokenHash: hashTokenId(claims.jti) },
              { recentlySpent: this.spentWithinGrace(claims, now) },
            ],
          }
        : this.currentTokenFilter(claims, now);
    const result = await SessionModel.updateOne(filter, {
      $set: { revokedAt: new Date(now), revokedReason: 'logout' },
    });
    if (result.modifiedCount === 0) return this.refuse(claims, now, meta);
    return { userId: claims.sub, sessionId: claims.sid };
  }

  async endAll(userId: string, reason: string): Promise<number> {
    const result = await SessionModel.updateMany(
      { user: userId, revokedAt: null },
      { $set: { revokedAt: new Date(), revokedReason: reason } },
    );
    return result.modifiedCount;
  }

  async endFamily(sessionId: string, reason: string): Promise<void> {
    await SessionModel.updateOne(
      { _id: new Types.ObjectId(sessionId), revokedAt: null },
      { $set: { revokedAt: new Date(), revokedReason: reason } },
    );
  }

  /** Ends one of the user's own sessions; someone else's is NOT_FOUND. */
  async endOne(userId: string, sessionId: Types.ObjectId, meta: RequestMeta): Promise<void> {
    const result = await SessionModel.updateOne(
      { _id: sessionId, user: userId, revokedAt: null, expiresAt: { $gt: new Date() } },
      { $set: { revokedAt: new Date(), revokedReason: 'revoked' } },
    );
    if (result.modifiedCount === 0) throw new NotFoundError('Session');
    await this.audit.record(
      { type: 'SESSION_REVOKED', userId, details: { sessionId: sessionId.toHexString() } },
      meta,
    );
  }

  async listActive(userId: string, currentSessionId: string | undefined): Promise<SessionType[]> {
    const sessions = await SessionModel.find(
      { user: userId, revokedAt: null, expiresAt: { $gt: new Date() } },
      { tokenHash: 0 },
    )
      .sort({ lastUsedAt: -1 })
      .lean<SessionRecord[]>();
    return sessions.map((session) => ({
      id: session._id.toHexString(),
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.expiresAt,
      userAgent: session.userAgent ?? null,
      ip: session.ip ?? null,
      current: session._id.toHexString() === currentSessionId,
    }));
  }

  /**
   * For each of these sessions that is still alive (neither revoked nor expired), its user as
   * stored now; a missing entry means the session or its user is gone. One read (a `$lookup`
   * from sessions to users) for any number of sessions: open sockets re-check their callers
   * with it.
   */
  async holders(sessionIds: readonly string[]): Promise<Map<string, SessionHolder>> {
    const ids = [...new Set(sessionIds)]
      .filter((id) => Types.ObjectId.isValid(id) && /^[0-9a-f]{24}$/.test(id))
      .map((id) => new Types.ObjectId(id));
    const holders = new Map<string, SessionHolder>();
    for (let start = 0; start < ids.length; start += HOLDERS_PER_READ) {
      const rows = await SessionModel.collection
        .aggregate<{
          _id: Types.ObjectId;
          holder: Array<{ _id: Types.ObjectId; credentialVersion: number; role: Role }>;
        }>([
          {
            $match: {
              _id: { $in: ids.slice(start, start + HOLDERS_PER_READ) },
              revokedAt: null,
              expiresAt: { $gt: new Date() },
            },
          },
          {
            $lookup: {
              from: UserModel.collection.collectionName,
              localField: 'user',
              foreignField: '_id',
              as: 'holder',
            },
          },
          { $project: { 'holder._id': 1, 'holder.credentialVersion': 1, 'holder.role': 1 } },
        ])
        .toArray();
      for (const row of rows) {
        const user = row.holder[0];
        if (!user) continue;
        holders.set(row._id.toHexString(), {
          userId: user._id.toHexString(),
          credentialVersion: user.credentialVersion,
          role: user.role,
        });
      }
    }
    return holders;
  }

  async deleteAllOf(userId: string): Promise<void> {
    await SessionModel.deleteMany({ user: userId });
  }

  /** The token's session, alive and unrevoked. */
  private aliveFamilyFilter(claims: RefreshClaims, now: number) {
    return {
      _id: new Types.ObjectId(claims.sid),
      user: new Types.ObjectId(claims.sub),
      revokedAt: null,
      expiresAt: { $gt: new Date(now) },
    };
  }

  /** The session whose current token is exactly this one, alive and unrevoked. */
  private currentTokenFilter(claims: RefreshClaims, now: number) {
    return { ...this.aliveFamilyFilter(claims, now), tokenHash: hashTokenId(claims.jti) };
  }

  /** Grace applies only to tokens whose family secret lets the current token be re-issued. */
  private graceSeconds(claims: RefreshClaims): number {
    return claims.fam === undefined ? 0 : this.ttl.refreshReuseGraceSeconds;
  }

  private spentWithinGrace(claims: RefreshClaims, now: number) {
    const since = new Date(now - this.graceSeconds(claims) * 1000);
    return { $elemMatch: { tokenHash: hashTokenId(claims.jti), spentAt: { $gt: since } } };
  }

  /**
   * The presented token was spent moments ago by a caller racing this one: hand out the
   * family's current token again (same id, so whichever copy is used next rotates the family
   * once). Nothing is written: the family has already moved forward.
   */
  private async currentWithinGrace(
    claims: RefreshClaims,
    now: number,
  ): Promise<RotatedSession | undefined> {
    if (this.graceSeconds(claims) === 0) return undefined;
    const session = await SessionModel.findOne(
      { ...this.aliveFamilyFilter(claims, now), recentlySpent: this.spentWithinGrace(claims, now) },
      { tokenHash: 1, generation: 1, credentialVersion: 1 },
    ).lean();
    if (!session || typeof session.generation !== 'number') return undefined;
    const current = { family: claims.fam!, generation: session.generation };
    // The current token must be of the presented token's family (always so for tokens we
    // minted; checked because the secret comes from the token).
    if (hashTokenId(tokenIdOf(current)) !== session.tokenHash) return undefined;
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      credentialVersion: session.credentialVersion,
      refreshToken: this.sign(claims.sub, claims.sid, current, new Date(claims.exp * 1000)),
    };
  }

  /**
   * A signed token of ours that is neither its family's current one nor spent within the grace
   * window was spent before: someone holds a copy. End the family (if still alive) and refuse.
   */
  private async refuse(claims: RefreshClaims, now: number, meta: RequestMeta): Promise<never> {
    const revoked = await SessionModel.updateOne(
      {
        ...this.aliveFamilyFilter(claims, now),
        tokenHash: { $ne: hashTokenId(claims.jti) },
        $nor: [{ recentlySpent: this.spentWithinGrace(claims, now) }],
      },
      { $set: { revokedAt: new Date(now), revokedReason: 'reuse' } },
    );
    if (revoked.modifiedCount > 0) {
      await this.audit.record(
        { type: 'REFRESH_REUSE_DETECTED', userId: claims.sub, details: { sessionId: claims.sid } },
        meta,
      );
    }
    throw new InvalidRefreshTokenError();
  }

  /** Ends the oldest active sessions of the user beyond MAX_SESSIONS_PER_USER. */
  private async endBeyondLimit(userId: string, now: number): Promise<void> {
    const surplus = await SessionModel.find(
      { user: userId, revokedAt: null, expiresAt: { $gt: new Date(now) } },
      { _id: 1 },
    )
      .sort({ createdAt: -1, _id: -1 })
      .skip(this.maxSessions)
      .lean();
    if (surplus.length === 0) return;
    await SessionModel.updateMany(
      { _id: { $in: surplus.map((session) => session._id) }, revokedAt: null },
      { $set: { revokedAt: new Date(now), revokedReason: 'session-limit' } },
    );
  }

  private sign(
    userId: string,
    sessionId: string,
    position: RefreshGeneration,
    absoluteExpiresAt: Date,
  ): string {
    return this.tokens.signRefresh(
      userId,
      sessionId,
      tokenIdOf(position),
      absoluteExpiresAt,
      position,
    );
  }

  private idleDeadline(now: number, absoluteExpiresAt: Date): Date {
    return new Date(
      Math.min(absoluteExpiresAt.getTime(), now + this.ttl.refreshIdleTtlSeconds * 1000),
    );
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { type Config } from '../config';
import { InvalidRefreshTokenError, NotFoundError } from '../common/errors';
import { type RequestMeta } from '../common/request-meta';
import { type AuditService } from '../audit/audit.service';
import { type SessionType } from './auth.types';
import { SessionModel, type SessionRecord } from './session.model';
import { type RefreshClaims, type TokenService } from './tokens';
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

/** Keeps stored strings bounded whatever a client sends in its headers. */
const clip = (value: string | undefined, max: number) => (value ? value.slice(0, max) : null);

/**
 * Refresh-token families (RFC 9700 §4.14.2): each login starts a family; each refresh spends
 * the presented token and issues the next one in a single conditional update, so two
 * concurrent refreshes with one token cannot both win. Presenting a token that was already
 * spent means it was copied: the whole family ends.
 */
export class SessionService {
  constructor(
    private readonly tokens: TokenService,
    private readonly ttl: Config['tokens'],
    private readonly audit: AuditService,
  ) {}

  async start(
    user: { id: string; credentialVersion: number },
    meta: RequestMeta,
  ): Promise<IssuedRefreshToken> {
    const userId = user.id;
    const now = Date.now();
    const absoluteExpiresAt = new Date(now + this.ttl.refreshTtlSeconds * 1000);
    const tokenId = randomUUID();
    const session = await SessionModel.create({
      user: userId,
      tokenHash: hashTokenId(tokenId),
      credentialVersion: user.credentialVersion,
      absoluteExpiresAt,
      expiresAt: this.idleDeadline(now, absoluteExpiresAt),
      lastUsedAt: new Date(now),
      userAgent: clip(meta.userAgent, 512),
      ip: clip(meta.ip, 64),
    });
    const sessionId = session._id.toHexString();
    return {
      sessionId,
      refreshToken: this.tokens.signRefresh(userId, sessionId, tokenId, absoluteExpiresAt),
    };
  }

  /** Spends `refreshToken` and returns its successor; throws UNAUTHENTICATED otherwise. */
  async rotate(refreshToken: string, meta: RequestMeta): Promise<RotatedSession> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    const now = Date.now();
    const absoluteExpiresAt = new Date(claims.exp * 1000);
    const nextTokenId = randomUUID();
    const rotated = await SessionModel.findOneAndUpdate(
      this.currentTokenFilter(claims, now),
      {
        $set: {
          tokenHash: hashTokenId(nextTokenId),
          lastUsedAt: new Date(now),
          expiresAt: this.idleDeadline(now, absoluteExpiresAt),
          userAgent: clip(meta.userAgent, 512),
          ip: clip(meta.ip, 64),
        },
      },
      { projection: { credentialVersion: 1 } },
    ).lean();
    if (!rotated) return this.refuse(claims, now, meta);
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      credentialVersion: rotated.credentialVersion,
      refreshToken: this.tokens.signRefresh(claims.sub, claims.sid, nextTokenId, absoluteExpiresAt),
    };
  }

  /** Ends the session `refreshToken` belongs to (logout); a spent token ends the family. */
  async end(
    refreshToken: string,
    meta: RequestMeta,
    callerId: string | undefined,
  ): Promise<{ userId: string; sessionId: string }> {
    const claims = this.tokens.verifyRefresh(refreshToken);
    // A signed-in caller may only end their own sessions with this.
    if (callerId !== undefined && claims.sub !== callerId) throw new InvalidRefreshTokenError();
    const now = Date.now();
    const result = await SessionModel.updateOne(this.currentTokenFilter(claims, now), {
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

  /** The session whose current token is exactly this one, alive and unrevoked. */
  private currentTokenFilter(claims: RefreshClaims, now: number) {
    return {
      _id: new Types.ObjectId(claims.sid),
      user: new Types.ObjectId(claims.sub),
      tokenHash: hashTokenId(claims.jti),
      revokedAt: null,
      expiresAt: { $gt: new Date(now) },
    };
  }

  /**
   * A signed token of ours that is not its family's current one was spent before: someone
   * holds a copy. End the family (if still alive) and refuse.
   */
  private async refuse(claims: RefreshClaims, now: number, meta: RequestMeta): Promise<never> {
    const revoked = await SessionModel.updateOne(
      {
        _id: new Types.ObjectId(claims.sid),
        user: new Types.ObjectId(claims.sub),
        tokenHash: { $ne: hashTokenId(claims.jti) },
        revokedAt: null,
        expiresAt: { $gt: new Date(now) },
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

  private idleDeadline(now: number, absoluteExpiresAt: Date): Date {
    return new Date(
      Math.min(absoluteExpiresAt.getTime(), now + this.ttl.refreshIdleTtlSeconds * 1000),
    );
  }
}

import { createHash } from 'node:crypto';
import { type Connection } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { type Config, type RateLimitScope, type RateLimitedOperation } from '../config';
import { addressKey } from '../common/client-address';
import { TooManyRequestsError } from '../common/errors';
import { canonicalEmail } from '../common/validation';

const COLLECTION = 'rateLimits';

export const RATE_LIMITED_MESSAGE = 'Too many requests; try again later';

/** Who a call comes from and whom it targets; either may be unknown. */
export interface RateLimitKeys {
  /** The client address as Express saw it (`meta.ip`); grouped by /64 here. */
  ip?: string | undefined;
  /** The account the call targets: an email (canonicalised here) or a user id. */
  account?: string | undefined;
}

/**
 * Calls per client address and per target account for every anonymous or password-hashing
 * operation (the table is RATE_LIMIT_DEFAULTS in config.ts). Counted in MongoDB, so every
 * instance shares the counts; each resolver call consumes one point, so aliases and retries
 * count. Failed password guesses are counted separately by LoginThrottle.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterMongo>();

  constructor(connection: Connection, table: Config['rateLimits']) {
    for (const [operation, scopes] of Object.entries(table)) {
      for (const [scope, limit] of Object.entries(scopes)) {
        if (!limit) continue;
        const limiter = new RateLimiterMongo({
          storeClient: connection.getClient(),
          dbName: connection.db!.databaseName,
          tableName: COLLECTION,
          keyPrefix: `${operation}:${scope}`,
          points: limit.points,
          duration: limit.windowSeconds,
          // Once the store has refused a key, this instance refuses it from memory until the
          // window ends: a flood past its limit costs no database round trip per request.
          inMemoryBlockOnConsumed: limit.points + 1,
        });
        this.limiters.set(`${operation}:${scope}`, limiter);
      }
    }
  }

  /**
   * Counts one call of `operation`; throws TOO_MANY_REQUESTS (429, Retry-After) when the
   * address or the account has used up its window.
   */
  async consume(operation: RateLimitedOperation, keys: RateLimitKeys): Promise<void> {
    const checks: Array<[RateLimitScope, string]> = [['ip', addressKey(keys.ip)]];
    if (keys.account !== undefined) checks.push(['account', accountKey(keys.account)]);
    const results = await Promise.allSettled(
      checks.flatMap(([scope, key]) => {
        const limiter = this.limiters.get(`${operation}:${scope}`);
        return limiter ? [limiter.consume(key)] : [];
      }),
    );
    let waitMs = -1;
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      // The store failed: not a limit decision, and not to be answered as one.
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      waitMs = Math.max(waitMs, result.reason.msBeforeNext);
    }
    if (waitMs >= 0) throw new TooManyRequestsError(waitMs / 1000, RATE_LIMITED_MESSAGE);
  }
}

/** Accounts are counted under a hash: the collection never holds an email. */
function accountKey(account: string): string {
  return createHash('sha256').update(canonicalEmail(account)).digest('base64url');
}

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
  /**
   * Keys the store has refused, until their window ends (epoch ms). A call with any refused
   * key is answered from here, before anything is counted: a flood past its limit costs no
   * database round trip, and a refused address spends none of an account's budget.
   */
  private readonly refused = new Map<string, number>();

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
    const checks: Array<{ limiter: RateLimiterMongo; key: string; stored: string }> = [];
    const add = (scope: RateLimitScope, key: string) => {
      const limiter = this.limiters.get(`${operation}:${scope}`);
      if (limiter) checks.push({ limiter, key, stored: limiter.getKey(key) });
    };
    add('ip', addressKey(keys.ip));
    if (keys.account !== undefined) add('account', accountKey(keys.account));

    const now = Date.now();
    let waitMs = -1;
    for (const { stored } of checks) {
      const until = this.refused.get(stored);
      if (until !== undefined && until > now) waitMs = Math.max(waitMs, until - now);
    }
    if (waitMs >= 0) throw new TooManyRequestsError(waitMs / 1000, RATE_LIMITED_MESSAGE);

    const results = await Promise.allSettled(
      checks.map(({ limiter, key }) => limiter.consume(key)),
    );
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      // The store failed: not a limit decision, and not to be answered as one.
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      waitMs = Math.max(waitMs, result.reason.msBeforeNext);
      this.remember(checks[i]!.stored, now + result.reason.msBeforeNext);
    });
    if (waitMs >= 0) throw new TooManyRequestsError(waitMs / 1000, RATE_LIMITED_MESSAGE);
  }

  private remember(key: string, until: number): void {
    if (this.refused.size >= MAX_REMEMBERED) {
      const now = Date.now();
      for (const [known, end] of this.refused) if (end <= now) this.refused.delete(known);
      // Still full of live keys: forget the oldest; the store still counts them.
      if (this.refused.size >= MAX_REMEMBERED)
        this.refused.delete(this.refused.keys().next().value!);
    }
    this.refused.set(key, until);
  }
}

/** Refused keys held in memory at most (each ~100 bytes); the store stays the authority. */
const MAX_REMEMBERED = 100_000;

/** Accounts are counted under a hash: the collection never holds an email. */
function accountKey(account: string): string {
  return createHash('sha256').update(canonicalEmail(account)).digest('base64url');
}

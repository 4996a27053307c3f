import { createHash } from 'node:crypto';
import { type Connection } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { type Config } from '../config';
import { TooManyRequestsError } from '../common/errors';

const COLLECTION = 'loginThrottle';

/**
 * Brute-force protection for password checks (login and changePassword), per account and per
 * client address, kept in MongoDB so every API instance shares the counts.
 *
 * Each attempt reserves a point *before* the password is checked, in one atomic upsert, and a
 * success gives it back. So however many requests, aliases or instances race, no more than the
 * limit of guesses are ever evaluated in a window; once the limit is reached even the right
 * password is refused until the window ends.
 */
export class LoginThrottle {
  private readonly perAccount: RateLimiterMongo;
  private readonly perIp: RateLimiterMongo;

  constructor(connection: Connection, settings: Config['loginThrottle']) {
    const common = {
      storeClient: connection.getClient(),
      dbName: connection.db!.databaseName,
      tableName: COLLECTION,
      duration: settings.windowSeconds,
    };
    this.perAccount = new RateLimiterMongo({
      ...common,
      keyPrefix: 'account',
      points: settings.maxFailuresPerAccount,
    });
    this.perIp = new RateLimiterMongo({
      ...common,
      keyPrefix: 'ip',
      points: settings.maxFailuresPerIp,
    });
  }

  /**
   * Reserves one attempt for the account and the address; throws TOO_MANY_REQUESTS when
   * either is spent. Returns what `succeeded` needs to give the reservation back.
   */
  async attempt(email: string, ip: string | undefined): Promise<() => Promise<void>> {
    const accountKey = createHash('sha256').update(email).digest('base64url');
    const ipKey = ip ?? 'unknown';
    const checks = [
      { limiter: this.perAccount, key: accountKey },
      { limiter: this.perIp, key: ipKey },
    ];
    const results = await Promise.allSettled(checks.map((c) => c.limiter.consume(c.key)));
    let refused = false;
    let waitMs = 0;
    let firstRefusal = false;
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') return;
      // The store failed: not a throttle decision, and not to be answered as one.
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      refused = true;
      waitMs = Math.max(waitMs, result.reason.msBeforeNext);
      if (result.reason.consumedPoints === checks[index]!.limiter.points + 1) firstRefusal = true;
    });
    if (refused) throw new LoginThrottledError(waitMs / 1000, firstRefusal);
    return async () => {
      await Promise.all([this.perAccount.delete(accountKey), this.perIp.reward(ipKey, 1)]);
    };
  }
}

export class LoginThrottledError extends TooManyRequestsError {
  constructor(
    retryAfterSeconds: number,
    /** True for the first refusal of a window: worth an audit event; the rest are not. */
    readonly firstRefusal: boolean,
  ) {
    super(retryAfterSeconds);
  }
}

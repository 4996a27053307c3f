import { createHash } from 'node:crypto';
import { type Connection, Types } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { type Config } from '../config';
import { addressKey } from '../common/client-address';
import { TooManyRequestsError } from '../common/errors';
import { type RequestMeta } from '../common/request-meta';
import { type TokenService } from './tokens';
import { TrustedAddressModel } from './trusted-address.model';

const COLLECTION = 'loginThrottle';

/** What an attempt reserved: `succeeded` after a right password, `release` if none was checked. */
export interface Reservation {
  succeeded(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Brute-force protection for password checks (login and changePassword), kept in MongoDB so
 * every API instance shares the counts. Lockout without denial of service (OWASP "device
 * cookies"): a client that signed in to the account before — it holds a device cookie, or
 * comes from an address that signed in — has a failure budget of its own; every other client
 * shares the account's budget. So guesses from anywhere lock out the guessers, not the owner
 * on a device they used before. Every client address also has a budget across all accounts.
 *
 * Each attempt reserves a point *before* the password is checked, in one atomic upsert, and a
 * success gives it back. So however many requests, aliases or instances race, no more than the
 * limit of guesses are ever evaluated in a window.
 */
export class LoginThrottle {
  private readonly untrusted: RateLimiterMongo;
  private readonly trusted: RateLimiterMongo;
  private readonly perIp: RateLimiterMongo;

  constructor(
    connection: Connection,
    private readonly settings: Config['loginThrottle'],
    private readonly tokens: TokenService,
  ) {
    const common = {
      storeClient: connection.getClient(),
      dbName: connection.db!.databaseName,
      tableName: COLLECTION,
      duration: settings.windowSeconds,
    };
    // As in RateLimits: a key the store refused is refused from memory until its window ends.
    const perAccount = {
      ...common,
      points: settings.maxFailuresPerAccount,
      inMemoryBlockOnConsumed: settings.maxFailuresPerAccount + 1,
    };
    this.untrusted = new RateLimiterMongo({ ...perAccount, keyPrefix: 'account' });
    this.trusted = new RateLimiterMongo({ ...perAccount, keyPrefix: 'device' });
    this.perIp = new RateLimiterMongo({
      ...common,
      keyPrefix: 'ip',
      points: settings.maxFailuresPerIp,
      inMemoryBlockOnConsumed: settings.maxFailuresPerIp + 1,
    });
  }

  /**
   * Which trusted client of the account this request is, if any: its device cookie, else its
   * address when the account signed in from there. Costs the same lookup whether or not the
   * account exists, so it tells nothing about that.
   */
  async trustedClient(
    userId: Types.ObjectId | undefined,
    meta: RequestMeta,
  ): Promise<string | undefined> {
    const device = meta.deviceToken ? this.tokens.verifyDevice(meta.deviceToken) : undefined;
    const address = addressKey(meta.ip);
    const known = await TrustedAddressModel.exists({
      user: userId ?? new Types.ObjectId(),
      address,
    });
    if (userId && device?.userId === userId.toHexString()) return `device:${device.deviceId}`;
    return known ? `address:${address}` : undefined;
  }

  /** After a sign-in: this address is now a trusted client of the account. */
  async remember(userId: string, meta: RequestMeta): Promise<void> {
    await TrustedAddressModel.updateOne(
      { user: new Types.ObjectId(userId), address: addressKey(meta.ip) },
      { $set: { expiresAt: new Date(Date.now() + this.settings.deviceTtlSeconds * 1000) } },
      { upsert: true },
    );
  }

  /** A fresh device cookie value for a client that just signed in. */
  deviceToken(userId: string): string {
    return this.tokens.signDevice(userId, this.settings.deviceTtlSeconds);
  }

  /**
   * Reserves one attempt for the account (from this trusted client, or from all untrusted
   * ones) and for the address; throws TOO_MANY_REQUESTS when either is spent.
   */
  async attempt(
    email: string,
    ip: string | undefined,
    trustedClient: string | undefined,
  ): Promise<Reservation> {
    const account = createHash('sha256').update(email).digest('base64url');
    const accountCheck = trustedClient
      ? { limiter: this.trusted, key: `${account}:${trustedClient}` }
      : { limiter: this.untrusted, key: account };
    const ipCheck = { limiter: this.perIp, key: addressKey(ip) };
    const checks = [accountCheck, ipCheck];
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
    const giveBack = () =>
      Promise.all(checks.map((c) => c.limiter.reward(c.key, 1))).then(() => undefined);
    return {
      // A trusted client that gets it right is its owner: its slate is wiped. The shared
      // budget of untrusted clients only gets its point back, or the owner signing in would
      // hand a guesser a fresh budget each time.
      succeeded: async () => {
        if (trustedClient) {
          await Promise.all([
            accountCheck.limiter.delete(accountCheck.key),
            ipCheck.limiter.reward(ipCheck.key, 1),
          ]);
        } else {
          await giveBack();
        }
      },
      release: giveBack,
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

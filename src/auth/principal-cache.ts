import { LRUCache } from 'lru-cache';
import { type Principal } from '../users/principal';

const MISSING = 'missing' as const;

/**
 * Who is calling, checked against the database at most once per AUTH_REVALIDATE_SECONDS per
 * user and process. A verified access token is honoured only while its credential version
 * matches the user's current one, so logoutAll, a password or role change and deletion end
 * older access tokens within that bound. This instance forgets an entry the moment it makes
 * such a change itself; other instances notice when their entry expires. Concurrent requests
 * for the same user share one lookup, and the cache is bounded so it cannot grow with traffic.
 */
export class PrincipalCache {
  private readonly cache: LRUCache<string, Principal | typeof MISSING> | undefined;

  constructor(
    revalidateSeconds: number,
    private readonly fetch: (userId: string) => Promise<Principal | undefined>,
    maxEntries = 50_000,
  ) {
    if (revalidateSeconds > 0) {
      this.cache = new LRUCache({
        max: maxEntries,
        ttl: revalidateSeconds * 1000,
        fetchMethod: async (id) => (await this.fetch(id)) ?? MISSING,
      });
    }
  }

  async load(userId: string): Promise<Principal | undefined> {
    if (!this.cache) return this.fetch(userId);
    // A hit (nearly every request) needs no promise from the cache.
    const entry = this.cache.get(userId) ?? (await this.cache.fetch(userId));
    return entry === MISSING || entry === undefined ? undefined : entry;
  }

  invalidate(userId: string): void {
    this.cache?.delete(userId);
  }
}

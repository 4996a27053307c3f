import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as argon2 from 'argon2';
import pLimit from 'p-limit';
import { type Config } from '../config';

/**
 * argon2 runs on libuv's thread pool and takes a core for tens of milliseconds per call. Left
 * alone, a burst of logins occupies every core and every other request waits behind it; so at
 * most all cores but one hash at a time, and the event loop always keeps a core of its own.
 * Logins queue instead, which under a storm is the behaviour wanted anyway.
 */
const hashingSlots = pLimit(Math.max(1, availableParallelism() - 1));

/**
 * argon2id hashing with the configured cost (OWASP's floor: m = 19 MiB, t = 2, p = 1).
 * `verifyUnknown` spends one verification against a hash made with the same parameters, so a
 * login for an email that does not exist costs what a wrong password costs.
 */
export class PasswordHasher {
  private readonly options: argon2.HashOptions;
  private dummyHash: Promise<string> | undefined;

  constructor(cost: Config['argon2']) {
    this.options = { type: argon2.argon2id, ...cost };
  }

  hash(password: string): Promise<string> {
    return hashingSlots(() => argon2.hash(password, this.options));
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await hashingSlots(() => argon2.verify(hash, password));
    } catch {
      // A malformed stored hash must not let anyone in, nor leak as a 500.
      return false;
    }
  }

  /** Burns one verification's worth of time for an unknown account; always false. */
  async verifyUnknown(password: string): Promise<false> {
    await this.verify(await this.dummy(), password);
    return false;
  }

  /** True when the hash was made with other parameters than today's (re-hash on login). */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, this.options);
    } catch {
      return true;
    }
  }

  /** Computes the dummy hash ahead of the first request, so it does not skew that one. */
  async warmUp(): Promise<void> {
    await this.dummy();
  }

  /** A hash of a random password, made once with today's parameters. */
  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url'));
    return this.dummyHash;
  }
}

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as argon2 from 'argon2';
import { type Config } from '../config';
import { addressKey } from '../common/client-address';
import { TooManyRequestsError } from '../common/errors';
import { RATE_LIMITED_MESSAGE } from './rate-limits';

/** Work the server does for itself (admin bootstrap, the dummy hash), not for a client. */
export const SERVER_CLIENT = 'server';

/**
 * argon2 runs on libuv's thread pool and takes a core for tens of milliseconds per call. Left
 * alone, a burst of hashing occupies every core and every other request waits behind it; so at
 * most all cores but one hash at a time, and the event loop always keeps a core of its own.
 *
 * Work beyond that waits in one queue per client address, served in turn (round robin), so a
 * login from one address waits for at most one hash of each other busy address, never behind
 * a flood's whole backlog. A client with `perClient` hashes already admitted, or a full queue,
 * is refused at once with TOO_MANY_REQUESTS: a flood is answered cheaply instead of queueing.
 */
export class HashAdmission {
  private running = 0;
  private waiting = 0;
  /** Waiting work by client; Map order is the turn order (a served client moves to the back). */
  private readonly queues = new Map<string, Array<() => void>>();
  /** Admitted (waiting or running) per client. */
  private readonly admitted = new Map<string, number>();

  constructor(
    private readonly slots: number,
    private readonly limits: Config['hashQueue'],
  ) {}

  async run<T>(client: string, work: () => Promise<T>): Promise<T> {
    const mine = this.admitted.get(client) ?? 0;
    const mustWait = this.running >= this.slots;
    if (mine >= this.limits.perClient || (mustWait && this.waiting >= this.limits.max)) {
      throw new TooManyRequestsError(1, RATE_LIMITED_MESSAGE);
    }
    this.admitted.set(client, mine + 1);
    try {
      if (mustWait) await this.turn(client);
      else this.running += 1;
      try {
        return await work();
      } finally {
        this.handOver();
      }
    } finally {
      const left = this.admitted.get(client)! - 1;
      if (left === 0) this.admitted.delete(client);
      else this.admitted.set(client, left);
    }
  }

  private turn(client: string): Promise<void> {
    this.waiting += 1;
    return new Promise((resolve) => {
      const queue = this.queues.get(client);
      if (queue) queue.push(resolve);
      else this.queues.set(client, [resolve]);
    });
  }

  /** A slot came free: it goes to the next client in turn (the slot count stays the same). */
  private handOver(): void {
    const next = this.queues.entries().next();
    if (next.done) {
      this.running -= 1;
      return;
    }
    const [client, queue] = next.value;
    const resume = queue.shift()!;
    this.queues.delete(client);
    if (queue.length > 0) this.queues.set(client, queue);
    this.waiting -= 1;
    resume();
  }
}

const clientKey = (client: string) => (client === SERVER_CLIENT ? client : addressKey(client));

/**
 * argon2id hashing with the configured cost (OWASP's floor: m = 19 MiB, t = 2, p = 1).
 * `verifyUnknown` spends one verification against a hash made with the same parameters, so a
 * login for an email that does not exist costs what a wrong password costs.
 */
export class PasswordHasher {
  private readonly options: argon2.HashOptions;
  private readonly admission: HashAdmission;
  private dummyHash: Promise<string> | undefined;

  constructor(cost: Config['argon2'], queue: Config['hashQueue']) {
    this.options = { type: argon2.argon2id, ...cost };
    this.admission = new HashAdmission(Math.max(1, availableParallelism() - 1), queue);
  }

  /**
   * `client` is the caller's address (`meta.ip`) for work done on a client's behalf; it decides
   * the fair share. May throw TOO_MANY_REQUESTS when that client or the queue is full.
   */
  hash(password: string, client: string | undefined = SERVER_CLIENT): Promise<string> {
    return this.admission.run(clientKey(client), () => argon2.hash(password, this.options));
  }

  async verify(
    hash: string,
    password: string,
    client: string | undefined = SERVER_CLIENT,
  ): Promise<boolean> {
    return this.admission.run(clientKey(client), async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        // A malformed stored hash must not let anyone in, nor leak as a 500.
        return false;
      }
    });
  }

  /** Burns one verification's worth of time for an unknown account; always false. */
  async verifyUnknown(password: string, client?: string): Promise<false> {
    await this.verify(await this.dummy(), password, client);
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

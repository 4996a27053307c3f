import { type RequestHandler, type Response } from 'express';
import { type Config } from '../config';
import { addressKey } from '../common/client-address';
import { ErrorCode } from '../common/errors';
import { RATE_LIMITED_MESSAGE } from '../auth/rate-limits';
import { sendError } from './body';
import { summarize } from './request-logging';

interface Client {
  running: number;
  /** Requests waiting for one of this address's slots, oldest first. */
  waiting: Array<{ res: Response; start: () => void }>;
  /** Until when (epoch ms) the address was told to come back: it gets fewer slots till then. */
  refusedUntil: number;
}

/** Addresses tracked before idle ones whose refusal has ended are swept. */
const SWEEP_AT = 10_000;

/**
 * How much of the server one client address may occupy at any moment. The rate limits decide
 * how many calls an address may make over time; this decides how many are in progress at once.
 *
 * Without it, an address that keeps 60 calls in flight fills the event loop even when every
 * call is refused at once, and each step of everyone else's request waits behind 60 of its
 * steps. So at most `running` requests per address are processed at once, and only
 * `runningWhenRefused` (one) while the address is being answered 429: a client that keeps
 * sending after a 429 slows only itself. More requests wait in a queue of at most `queued` per
 * address, bodies unread and costing no CPU; beyond that the answer is 429 at once, before the
 * body is parsed.
 *
 * Addresses behind one NAT share these slots, as they share the rate limits.
 */
export class AddressConcurrency {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly limits: Config['addressConcurrency']) {}

  /** Express middleware: passes the request on when its address has a free slot. */
  readonly middleware: RequestHandler = (req, res, next) => {
    // Express works `req.ip` out again (X-Forwarded-For under TRUST_PROXY) on every read: read
    // once here, it stays the same for everything after.
    const ip = req.ip;
    Object.defineProperty(req, 'ip', { value: ip, enumerable: true });
    const key = addressKey(ip);
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= SWEEP_AT) this.sweep();
      client = { running: 0, waiting: [], refusedUntil: 0 };
      this.clients.set(key, client);
    }
    const start = () => {
      // The slot comes back on the event loop's next turn, not as the response closes. A
      // request answered without any I/O (a refusal from memory) closes within the turn that
      // read it; freed at once, its slot would go to the next request of the same address read
      // in that turn, and all of them would run back to back while everyone else waited.
      res.once('close', () => setImmediate(() => this.release(key, client, res)));
      try {
        next();
      } catch (error) {
        next(error);
      }
    };
    if (client.running < this.slots(client, Date.now())) {
      client.running += 1;
      start();
    } else if (client.waiting.length < this.limits.queued) {
      client.waiting.push({ res, start });
    } else {
      refusedFor(client, 1);
      refuse(res);
    }
  };

  private slots(client: Client, now: number): number {
    return client.refusedUntil > now ? this.limits.runningWhenRefused : this.limits.running;
  }

  /**
   * A request of `key` ended (a turn ago): its slot goes to the oldest waiting one still
   * connected. That one starts now; if it too ends within this turn, its slot comes back only
   * on the next, so a queue is served at most `slots` requests per turn.
   */
  private release(key: string, client: Client, res: Response): void {
    client.running -= 1;
    if (res.statusCode === 429) refusedFor(client, Number(res.getHeader('retry-after')) || 1);
    const now = Date.now();
    while (client.running < this.slots(client, now)) {
      const next = client.waiting.shift();
      if (!next) break;
      // A client that gave up while waiting closed its socket; nobody would read the answer.
      if (next.res.socket === null || next.res.socket.destroyed) continue;
      client.running += 1;
      next.start();
    }
    if (idle(client, now)) this.clients.delete(key);
  }

  /** Forgets idle addresses whose refusal has ended (their next request starts afresh). */
  private sweep(): void {
    const now = Date.now();
    for (const [key, client] of this.clients) if (idle(client, now)) this.clients.delete(key);
  }
}

/** Nothing in progress or waiting, and no refusal to remember: the entry can go. */
const idle = (client: Client, now: number) =>
  client.running === 0 && client.waiting.length === 0 && client.refusedUntil <= now;

/** The address was told to come back in `seconds`: it has fewer slots until then. */
function refusedFor(client: Client, seconds: number): void {
  client.refusedUntil = Math.max(client.refusedUntil, Date.now() + seconds * 1000);
}

function refuse(res: Response): void {
  summarize(res, { outcome: ErrorCode.TOO_MANY_REQUESTS });
  res.set('retry-after', '1');
  sendError(res, 429, RATE_LIMITED_MESSAGE, { code: ErrorCode.TOO_MANY_REQUESTS, retryAfter: 1 });
}

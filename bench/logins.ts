import { type GraphQLBody, LOGIN, graphqlRequest, send } from './graphql';
import { median } from './load';
import { type BenchUser } from './seed';

type LoginBody = GraphQLBody<{ login: { accessToken: string } }>;

async function login(url: string, email: string, password: string) {
  return send<LoginBody>(url, graphqlRequest(LOGIN, { email, password }));
}

/** A refused sign-in must be the invalid-credentials answer, not a throttle or a crash. */
function assertInvalidCredentials(body: LoginBody): void {
  const code = body.errors?.[0]?.extensions?.code;
  if (code === 'UNAUTHENTICATED') return;
  const hint = code === 'TOO_MANY_REQUESTS' ? ' (login throttling: raise LOGIN_MAX_FAILURES*)' : '';
  throw new Error(`login timing: expected UNAUTHENTICATED, got ${JSON.stringify(body)}${hint}`);
}

export interface LoginTiming {
  attempts: number;
  unknownMedianMs: number;
  knownMedianMs: number;
}

/**
 * Client-side time of a failed sign-in for an email nobody has and for a known email with a
 * wrong password, one request at a time and alternating, so that drift (JIT, GC, the machine)
 * falls on both kinds alike. Each unknown attempt uses a fresh address, as an enumeration
 * would. A few rounds of each kind first are not counted.
 */
export async function measureLoginTiming(
  url: string,
  known: BenchUser,
  attempts: number,
): Promise<LoginTiming> {
  const warmup = 10;
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = -warmup; i < attempts; i++) {
    const pair: Array<[string, number[]]> = [
      [`nobody-${i + warmup}@example.com`, unknown],
      [known.email, wrong],
    ];
    // Alternate which kind goes first too, so neither always follows the other.
    if (i % 2 !== 0) pair.reverse();
    for (const [email, times] of pair) {
      const started = performance.now();
      const { body } = await login(url, email, 'not the password');
      const elapsed = performance.now() - started;
      assertInvalidCredentials(body);
      if (i >= 0) times.push(elapsed);
    }
  }
  return { attempts, unknownMedianMs: median(unknown), knownMedianMs: median(wrong) };
}

/** Clients signing in at once in `npm run bench`'s login storm (and the `login` profile). */
export const STORM_CLIENTS = 20;

export interface LoginStorm {
  /** Ends the storm once every client's request in flight has come back. */
  stop(): Promise<{ logins: number; failures: number; seconds: number }>;
}

/**
 * `clients` concurrent clients signing in with the right password, each sending its next
 * login as soon as the last one answers. Successful logins are the expensive path (argon2
 * verification plus a new session and its tokens), and they are not throttled.
 */
export function startLoginStorm(url: string, users: BenchUser[], clients: number): LoginStorm {
  let running = true;
  let logins = 0;
  let failures = 0;
  const started = performance.now();
  const loop = async (client: number) => {
    for (let n = 0; running; n++) {
      const user = users[(client + n) % users.length]!;
      try {
        const { status, body } = await login(url, user.email, user.password);
        if (status === 200 && body.data?.login.accessToken) logins++;
        else failures++;
      } catch {
        failures++;
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, client) => loop(client));
  return {
    async stop() {
      running = false;
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(loops);
      return { logins, failures, seconds };
    },
  };
}

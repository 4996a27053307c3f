import { randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { spawnEmbeddedServer } from '@graphql-auth-api/embedded-mongo';
import { serverEnv } from './api';
import { forkServer } from './children';
import { type GraphQLBody, graphqlRequest, send } from './graphql';
import { onStop, stopEverything } from './lifecycle';
import { median } from './load';
import { startMailSink } from './mail-sink';

const SIGN_UP = 'mutation SignUp($input: RegisterInput!) { signUp(input: $input) }';
const REQUEST_RESET = 'mutation Reset($email: String!) { requestPasswordReset(email: $email) }';
const PASSWORD = 'bench passphrase, long enough';

export interface KindTiming {
  knownMedianMs: number;
  unknownMedianMs: number;
}

export interface AccountTiming {
  attempts: number;
  signUp: KindTiming;
  requestPasswordReset: KindTiming;
  /** Median latency for an address with an account ÷ one without (target 0.9–1.1). */
  signup_timing_known_over_unknown: number;
  reset_timing_known_over_unknown: number;
}

/** Requests of each kind sent before the measured ones. */
const WARMUP = 10;
/** Pause after each request, longer than the background mail work of one. */
const SETTLE_MS = 25;

async function timedTrue(url: string, query: string, variables: Record<string, unknown>) {
  const started = performance.now();
  const { status, body } = await send<GraphQLBody<Record<string, boolean>>>(
    url,
    graphqlRequest(query, variables),
  );
  const elapsed = performance.now() - started;
  const answer = body.data ? Object.values(body.data)[0] : undefined;
  if (status !== 200 || answer !== true) {
    throw new Error(`account timing: expected true, got ${status} ${JSON.stringify(body)}`);
  }
  return elapsed;
}

/**
 * Alternates known and unknown addresses (and which goes first), one request at a time, so
 * drift falls on both kinds alike; a few rounds first are not counted. Every request uses an
 * address of its own, as an enumeration would: a known address repeated would hit the
 * server's per-variables query-cost cache every time while the fresh unknown ones miss it,
 * which once made known addresses look 13% faster.
 */
async function alternate(
  attempts: number,
  request: (email: string) => Promise<number>,
  knownEmails: string[],
  tag: string,
): Promise<KindTiming> {
  const known: number[] = [];
  const unknown: number[] = [];
  const run = randomBytes(4).toString('hex');
  for (let i = -WARMUP; i < attempts; i++) {
    const pair: Array<[string, number[]]> = [
      [knownEmails[(i + WARMUP) % knownEmails.length]!, known],
      [`${tag}-${run}-${i + WARMUP}@example.com`, unknown],
    ];
    if (i % 2 !== 0) pair.reverse();
    for (const [email, times] of pair) {
      const elapsed = await request(email);
      if (i >= 0) times.push(elapsed);
      // The mail work a known address starts after its answer must not land on the next
      // measured request: what is compared is each answer's own time.
      await setTimeout(SETTLE_MS);
    }
  }
  return { knownMedianMs: median(known), unknownMedianMs: median(unknown) };
}

/**
 * `signUp` and `requestPasswordReset` for an address that has an account and for one that
 * does not: the ratio of their median latencies, known ÷ unknown, `attempts` of each.
 * The product must run with rate limits on these operations raised above 2 × attempts + 20
 * from one address (or off), or the bench stops on the 429.
 */
export async function measureAccountTiming(url: string, attempts = 200): Promise<AccountTiming> {
  const signUp = (email: string) =>
    timedTrue(url, SIGN_UP, { input: { email, password: PASSWORD, name: 'Bench' } });
  const tag = randomBytes(4).toString('hex');
  const knownEmails = Array.from(
    { length: attempts + WARMUP },
    (_, i) => `bench-known-${tag}-${i}@example.com`,
  );
  for (const email of knownEmails) await signUp(email);

  const signUpTiming = await alternate(attempts, signUp, knownEmails, 'bench-signup');
  const resetTiming = await alternate(
    attempts,
    (email) => timedTrue(url, REQUEST_RESET, { email }),
    knownEmails,
    'bench-reset',
  );
  return {
    attempts,
    signUp: signUpTiming,
    requestPasswordReset: resetTiming,
    signup_timing_known_over_unknown: signUpTiming.knownMedianMs / signUpTiming.unknownMedianMs,
    reset_timing_known_over_unknown: resetTiming.knownMedianMs / resetTiming.unknownMedianMs,
  };
}

/**
 * Standalone: `node -r ts-node/register/transpile-only bench/accounts-timing.ts [attempts]`
 * starts an embedded database, a mail sink and a production product child, and prints the
 * measurement as JSON.
 */
async function main(): Promise<void> {
  const attempts = Number(process.argv[2] ?? 200);
  const db = await spawnEmbeddedServer({ port: 0 });
  onStop(() => db.stop());
  const sink = await startMailSink();
  onStop(() => sink.stop());
  const product = await forkServer('product', {
    env: { ...serverEnv(db.uri, randomBytes(48).toString('base64url')), ...sink.env },
    options: { dbName: 'bench-accounts' },
  });
  try {
    const timing = await measureAccountTiming(product.url, attempts);
    process.stdout.write(
      `${JSON.stringify({ ...timing, mailsAccepted: sink.received() }, null, 2)}\n`,
    );
  } finally {
    await stopEverything();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    async (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      await stopEverything();
      process.exit(1);
    },
  );
}

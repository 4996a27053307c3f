import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type GraphQLBody, LOGIN, REGISTER, graphqlRequest, send } from './graphql';
import { median, round } from './load';

export interface RegisterFlood {
  /** Median of the sign-ins made one at a time with nothing else going on. */
  quietMedianMs: number;
  /** The same while `concurrency` anonymous registrations from one other address are in flight. */
  floodMedianMs: number;
  /** floodMedianMs ÷ (2 × quietMedianMs + 50 ms): at most 1 meets the target. */
  login_under_register_flood: number;
  /** Share of the flood's registrations answered 429 TOO_MANY_REQUESTS. */
  floodRefusedShare: number;
  floodRequests: number;
}

/** An address nobody used before (198.18.0.0/15 is set aside for benchmarks). */
const freshAddress = () => {
  const [a, b, c] = randomBytes(3);
  return `198.${18 + (a! % 2)}.${b}.${c! % 254 || 1}`;
};

const withAddress = (request: ReturnType<typeof graphqlRequest>, address: string) => ({
  ...request,
  headers: { ...request.headers, 'x-forwarded-for': address },
});

/**
 * How much one address flooding `register` slows sign-ins from another address. The server
 * must believe X-Forwarded-For from the bench (TRUST_PROXY=loopback), or every request is
 * one client. The flood keeps `concurrency` registrations of fresh emails (each one a hash if
 * admitted) in flight, from a process of its own.
 *
 * Quiet and flooded sign-ins alternate in `blocks` (each `logins` quiet, then `logins` with the
 * flood running, then the flood paused until every registration in flight has come back), so
 * that this machine's drift falls on both alike; each median is over all blocks. The flooding
 * address stays the same: its first block meets the registrations the limits admit (each a
 * hash), the later ones the flood refused.
 */
export async function measureRegisterFlood(
  url: string,
  options: { blocks?: number; logins?: number; concurrency?: number } = {},
): Promise<RegisterFlood> {
  const blocks = options.blocks ?? 4;
  const logins = options.logins ?? 10;
  const concurrency = options.concurrency ?? 60;
  const loginAddress = freshAddress();
  const email = `flood-bench-${randomBytes(6).toString('hex')}@example.com`;
  const password = 'flood bench password';
  const registered = await send<GraphQLBody<unknown>>(
    url,
    withAddress(
      graphqlRequest(REGISTER, { input: { email, password, name: 'Bench' } }),
      loginAddress,
    ),
  );
  if (registered.status !== 200 || registered.body.errors) {
    throw new Error(`register-flood: setup failed: ${JSON.stringify(registered.body)}`);
  }

  const timedLogins = async (count: number, times: number[] = []): Promise<number[]> => {
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      const { status, body } = await send<GraphQLBody<unknown>>(
        url,
        withAddress(graphqlRequest(LOGIN, { email, password }), loginAddress),
      );
      times.push(performance.now() - started);
      if (status !== 200 || body.errors) {
        throw new Error(`register-flood: login failed (${status}): ${JSON.stringify(body)}`);
      }
    }
    return times;
  };

  // The flood runs in a process of its own: in this one, its client-side work would delay the
  // measured logins' responses on this event loop and count as the server's slowness.
  const flood = fork(
    path.join(__dirname, 'flood-client.ts'),
    [url, String(concurrency), freshAddress()],
    {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    flood.once('exit', (code) =>
      reject(new Error(`register-flood: flood client exited (${code})`)),
    ),
  );
  exited.catch(() => undefined);
  const reply = <T>(accept: (message: unknown) => message is T): Promise<T> =>
    Promise.race([
      exited,
      new Promise<T>((resolve) => {
        const listener = (message: unknown) => {
          if (!accept(message)) return;
          flood.off('message', listener);
          resolve(message);
        };
        flood.on('message', listener);
      }),
    ]);
  const word =
    (expected: string) =>
    (message: unknown): message is string =>
      message === expected;

  const quiet: number[] = [];
  const flooded: number[] = [];
  try {
    await reply(word('ready'));
    // The round's product is warm for requests, not for sign-ins: a few go first, uncounted.
    await timedLogins(3);
    for (let block = 0; block < blocks; block += 1) {
      await timedLogins(logins, quiet);
      flood.send('flood');
      // Let the whole flood arrive before the first measured login.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await timedLogins(logins, flooded);
      flood.send('pause');
      await reply(word('paused'));
    }
  } finally {
    if (flood.connected) flood.send('stop');
  }
  const { sent, refused } = await reply(
    (message): message is { sent: number; refused: number } =>
      typeof message === 'object' && message !== null,
  );

  const quietMedianMs = median(quiet);
  const floodMedianMs = median(flooded);
  return {
    quietMedianMs: round(quietMedianMs, 2),
    floodMedianMs: round(floodMedianMs, 2),
    login_under_register_flood: round(floodMedianMs / (2 * quietMedianMs + 50), 3),
    floodRefusedShare: round(refused / Math.max(1, sent), 3),
    floodRequests: sent,
  };
}

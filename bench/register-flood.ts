import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type GraphQLBody, LOGIN, REGISTER, graphqlRequest, send } from './graphql';
import { median, round } from './load';

export interface RegisterFlood {
  /** Median of `logins` sign-ins, one at a time, with nothing else going on. */
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
 * admitted) in flight for as long as the measured logins run, from a process of its own.
 */
export async function measureRegisterFlood(
  url: string,
  options: { logins?: number; concurrency?: number } = {},
): Promise<RegisterFlood> {
  const logins = options.logins ?? 20;
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

  const timedLogins = async (): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < logins; i += 1) {
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

  const quiet = await timedLogins();

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
  const report = new Promise<{ sent: number; refused: number }>((resolve, reject) => {
    flood.on('message', (message) => {
      if (typeof message === 'object' && message !== null) resolve(message as never);
    });
    flood.once('exit', (code) =>
      reject(new Error(`register-flood: flood client exited (${code})`)),
    );
  });
  await new Promise<void>((resolve) => flood.once('message', () => resolve()));
  // Let the whole flood arrive before the first measured login.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const flooded = await timedLogins();
  flood.send('stop');
  const { sent, refused } = await report;

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

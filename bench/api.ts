import { randomBytes } from 'node:crypto';
import { type ServerChild, type ServerName, forkServer } from './children';
import { type CpuUse, cpuMeter } from './cpu';
import { type GraphQLBody, ME, graphql, graphqlRequest, myTodos, send } from './graphql';
import { type HttpRequest, type LoadSettings, type Sample, drive, measure } from './load';
import { onStop } from './lifecycle';
import { type LoginTiming, measureLoginTiming, startLoginStorm } from './logins';
import { startMailSink } from './mail-sink';
import { type BenchUser, seed } from './seed';

export interface ApiSettings {
  /** Rounds of the throughput scenarios; ratios are medians over rounds. */
  rounds: number;
  load: LoadSettings;
  /** `me` requests after which the product's heap is read (the ratio is second / first). */
  heapAt: [number, number];
  loginAttempts: number;
  stormClients: number;
  users: number;
  /** When set, the product children of the rounds write V8 CPU profiles here. */
  cpuProfileDir?: string;
}

export const SCENARIOS = ['hello', 'rest_peer', 'me', 'my_todos', 'login_storm'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export type ScenarioResult = Sample & { cpu: CpuUse };

export interface Round {
  samples: Record<Scenario, ScenarioResult>;
  /** Successful logins per second during `login_storm`. */
  stormLoginsPerSecond: number;
}

export interface ApiResults {
  rounds: Round[];
  loginTiming: LoginTiming;
  heap: { requests: [number, number]; heapUsedBytes: [number, number] };
  dbCommands: { myTodosFirst5: number; myTodosFirst100: number };
  /** Product settings that differ from its defaults, and why. */
  productSettings: Record<string, string>;
}

const DB_NAME = 'bench-api';

/**
 * Differences from the product's defaults, printed with the results. Throttling is raised so
 * the timing and storm measurements are not answered with 429 (the limits' upper bounds);
 * the access-token lifetime so the tokens minted while seeding outlive a full run (verifying
 * a token costs the same whatever its lifetime). Issuer and audience are the product's
 * defaults, set explicitly so that the REST peer reads the same values.
 */
export const PRODUCT_SETTINGS: Record<string, string> = {
  NODE_ENV: 'production',
  LOGIN_MAX_FAILURES: '1000',
  LOGIN_MAX_FAILURES_PER_IP: '100000',
  ACCESS_TOKEN_TTL: '1h',
  JWT_ISSUER: 'graphql-auth-api',
  JWT_AUDIENCE: 'graphql-auth-api',
};

/**
 * One environment for every server under test: what Node and the TypeScript loader need from
 * ours, then the product's settings. Nothing else of the caller's environment (a LOG_LEVEL,
 * say) reaches what is measured.
 */
export function serverEnv(uri: string, secret: string): Record<string, string> {
  const inherited = Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined &&
      /^(PATH|HOME|TMPDIR|NODE_OPTIONS|SWC_\w+|TS_NODE_\w+)$/.test(entry[0]),
  );
  return {
    ...Object.fromEntries(inherited),
    ...PRODUCT_SETTINGS,
    MONGODB_URI: uri,
    JWT_SECRET: secret,
  };
}

interface Target {
  server: ServerName;
  requests: HttpRequest[];
  /** One request through fetch whose answer must be the right one before any load. */
  check(url: string): Promise<void>;
}

function expect(condition: boolean, what: string, got: unknown): void {
  if (!condition) throw new Error(`${what}: unexpected answer ${JSON.stringify(got)}`);
}

function targets(users: BenchUser[]): Record<Exclude<Scenario, 'login_storm'>, Target> {
  const [first] = users as [BenchUser];
  const meRequests = users.map((user) => graphqlRequest(ME, undefined, user.token));
  return {
    hello: {
      server: 'hello',
      requests: [graphqlRequest('{ hello }')],
      async check(url) {
        const data = await graphql<{ hello: string }>(url, '{ hello }');
        expect(data.hello === 'world', 'hello', data);
      },
    },
    rest_peer: {
      server: 'rest-peer',
      requests: users.map((user) => ({
        method: 'GET',
        path: '/me',
        headers: { authorization: `Bearer ${user.token}` },
      })),
      async check(url) {
        const { status, body } = await send<{ email?: string }>(url, {
          method: 'GET',
          path: '/me',
          headers: { authorization: `Bearer ${first.token}` },
        });
        expect(status === 200 && body.email === first.email, 'rest_peer', body);
      },
    },
    me: {
      server: 'product',
      requests: meRequests,
      async check(url) {
        const data = await graphql<{ me: { email: string } }>(url, ME, undefined, first.token);
        expect(data.me.email === first.email, 'me', data);
      },
    },
    my_todos: {
      server: 'product',
      requests: users.map((user) => graphqlRequest(myTodos(20), undefined, user.token)),
      async check(url) {
        const { status, body } = await send<
          GraphQLBody<{ myTodos: { edges: Array<{ node: { owner: { email: string } } }> } }>
        >(url, graphqlRequest(myTodos(20), undefined, first.token));
        const edges = body.data?.myTodos.edges ?? [];
        expect(
          status === 200 &&
            edges.length === 20 &&
            edges.every((edge) => edge.node.owner.email === first.email),
          'my_todos',
          body,
        );
      },
    },
  };
}

/**
 * Database commands the product sends for one `myTodos` page of 5 and one of 100, counted in
 * the product process after a warm-up request (so the caller's lookup is cached, as it is for
 * nearly every request in production).
 */
async function countDbCommands(
  probe: ServerChild,
  user: BenchUser,
): Promise<ApiResults['dbCommands']> {
  await graphql(probe.url, myTodos(20), undefined, user.token);
  const count = async (first: number) => {
    await probe.ask('resetCommands');
    const data = await graphql<{ myTodos: { edges: unknown[] } }>(
      probe.url,
      myTodos(first),
      undefined,
      user.token,
    );
    expect(data.myTodos.edges.length === first, `myTodos(first: ${first})`, data);
    return probe.ask('commandCount');
  };
  return { myTodosFirst5: await count(5), myTodosFirst100: await count(100) };
}

async function measureHeap(
  probe: ServerChild,
  requests: HttpRequest[],
  settings: ApiSettings,
): Promise<ApiResults['heap']> {
  const [first, second] = settings.heapAt;
  await drive('heap: me', probe.url, requests, first, settings.load);
  const atFirst = await probe.ask('heapUsed');
  await drive('heap: me', probe.url, requests, second - first, settings.load);
  const atSecond = await probe.ask('heapUsed');
  return { requests: [first, second], heapUsedBytes: [atFirst, atSecond] };
}

/**
 * The API section. One database for everything; each server under test in a child process of
 * its own, one at a time, loaded by autocannon from this process with the same settings.
 *
 * First a probe product (command counting on, `--expose-gc`) seeds the data through the API
 * and takes the one-off measurements: database commands per page, login timing, heap growth.
 * Then each round forks hello, the REST peer and the product afresh (so rounds are
 * independent samples, JIT state included) and measures the throughput scenarios; the product
 * of a round serves `me`, `my_todos` and `login_storm` in that order. Rounds' product children
 * run with command monitoring off, as production does.
 */
export async function benchApi(
  db: { uri: string; pid: number | undefined },
  settings: ApiSettings,
  progress: (line: string) => void,
): Promise<ApiResults> {
  // The product needs SMTP_URL and APP_URL in production; its mails go to a sink.
  const mail = await startMailSink();
  onStop(() => mail.stop());
  const env = { ...serverEnv(db.uri, randomBytes(48).toString('base64url')), ...mail.env };
  const start = (server: ServerName, nodeFlags: string[] = [], monitorCommands = false) =>
    forkServer(server, { env, options: { dbName: DB_NAME, monitorCommands }, nodeFlags });

  progress('probe product: seeding through the API');
  const probe = await start('product', ['--expose-gc'], true);
  let users: BenchUser[];
  let all: ReturnType<typeof targets>;
  let dbCommands: ApiResults['dbCommands'];
  let loginTiming: LoginTiming;
  let heap: ApiResults['heap'];
  try {
    users = await seed(probe.url, { users: settings.users, todosEach: 30, todosForFirst: 110 });
    all = targets(users);
    progress('probe product: database commands per myTodos page');
    dbCommands = await countDbCommands(probe, users[0]!);
    progress(`probe product: login timing (${settings.loginAttempts} of each kind)`);
    loginTiming = await measureLoginTiming(probe.url, users[0]!, settings.loginAttempts);
    progress(`probe product: heap after ${settings.heapAt.join(' and ')} me requests`);
    heap = await measureHeap(probe, all.me.requests, settings);
  } finally {
    await probe.stop();
  }

  const profileFlags = settings.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`]
    : [];
  const rounds: Round[] = [];
  for (let r = 1; r <= settings.rounds; r++) {
    const samples: Partial<Record<Scenario, ScenarioResult>> = {};
    const measured = async (scenario: Scenario, child: ServerChild, requests: HttpRequest[]) => {
      const meter = cpuMeter({ server: child.pid, database: db.pid });
      const sample = await measure(scenario, child.url, requests, settings.load);
      samples[scenario] = { ...sample, cpu: meter.stop() };
    };
    const run = async (child: ServerChild, scenario: Exclude<Scenario, 'login_storm'>) => {
      progress(`round ${r}/${settings.rounds}: ${scenario}`);
      await all[scenario].check(child.url);
      await measured(scenario, child, all[scenario].requests);
    };
    for (const scenario of ['hello', 'rest_peer'] as const) {
      const child = await start(all[scenario].server);
      try {
        await run(child, scenario);
      } finally {
        await child.stop();
      }
    }

    const product = await start('product', profileFlags);
    let stormLoginsPerSecond: number;
    try {
      await run(product, 'me');
      await run(product, 'my_todos');
      progress(`round ${r}/${settings.rounds}: login_storm (${settings.stormClients} clients)`);
      const storm = startLoginStorm(product.url, users, settings.stormClients);
      try {
        await measured('login_storm', product, all.me.requests);
      } catch (error) {
        await storm.stop();
        throw error;
      }
      const result = await storm.stop();
      if (result.failures > 0) {
        throw new Error(`login_storm: ${result.failures} logins failed (throttled or errors)`);
      }
      stormLoginsPerSecond = result.logins / result.seconds;
    } finally {
      await product.stop();
    }
    rounds.push({ samples: samples as Record<Scenario, ScenarioResult>, stormLoginsPerSecond });
  }

  return { rounds, loginTiming, heap, dbCommands, productSettings: PRODUCT_SETTINGS };
}

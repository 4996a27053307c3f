import { randomBytes } from 'node:crypto';
import { type ServerChild, type ServerName, forkServer } from './children';
import { type CpuUse, cpuMeter } from './cpu';
import { NEST_PEER_ENTRY } from './build';
import { type GraphQLBody, ME, graphql, graphqlRequest, myTodos, send } from './graphql';
import {
  type HttpRequest,
  type LoadSettings,
  type Sample,
  type Slice,
  drive,
  measureSlice,
  round,
  summarize,
  warmUp,
} from './load';
import { onStop } from './lifecycle';
import { type LoginTiming, measureLoginTiming, startLoginStorm } from './logins';
import { type AccountTiming, measureAccountTiming } from './accounts-timing';
import { startMailSink } from './mail-sink';
import { type RegisterFlood, measureRegisterFlood } from './register-flood';
import { type SubscriptionBenchResult, benchSubscriptions } from './subscriptions';
import { readFileSync } from 'node:fs';
import { type BenchUser, seed } from './seed';

export interface ApiSettings {
  /** Rounds of the throughput scenarios; ratios are medians over rounds. */
  rounds: number;
  load: LoadSettings;
  /**
   * Each server of a round, once started, answers this many requests of its scenarios (or
   * for this long) before any is measured: `myTodos` keeps getting cheaper for 5-20 s.
   */
  serverWarmup: { amount: number; maxSeconds: number };
  /** Each scenario's measured time comes in this many slices, the scenarios taking turns. */
  slices: number;
  /** Unmeasured load right before each slice. */
  sliceWarmupSeconds: number;
  /** Scenarios whose slices run this many times as long as the others'. */
  longerSlices: Partial<Record<Scenario, number>>;
  /** `me` requests after which the product's heap is read (the ratio is second / first). */
  heapAt: [number, number];
  loginAttempts: number;
  stormClients: number;
  users: number;
  /** Idle subscribed sockets for the memory and fan-out measurement. */
  sockets: number;
  /** When set, the product children of the rounds write V8 CPU profiles here. */
  cpuProfileDir?: string;
}

/**
 * The scenarios of a round, in the order they run: product and peers interleave, so that the
 * machine's drift during a round falls on all of them alike and ratios within a round compare.
 */
export const SCENARIOS = [
  'hello',
  'hello_protos',
  'me',
  'nest_me',
  'nest_string_me',
  'rest_peer',
  'my_todos',
  'nest_my_todos',
  'nest_string_my_todos',
  'login_storm',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * The order in which the scenarios take a turn (SCENARIOS is the order they are reported in).
 * The two sides of every target ratio run next to each other or one slot apart, the
 * information-only scenarios last: this machine's speed moves from one second to the next, and
 * in the 04:01 run of 2026-12-01 (the order of SCENARIOS) slices one slot apart moved together
 * with a correlation of 0.46, two apart 0.35, four apart 0.28 and six apart 0.13, while
 * `my_todos` ran six slots from `hello` and the storm seven from `me`.
 */
const TURN_ORDER: readonly Scenario[] = [
  'login_storm',
  'nest_me',
  'me',
  'rest_peer',
  'hello',
  'my_todos',
  'nest_my_todos',
  'hello_protos',
  'nest_string_me',
  'nest_string_my_todos',
];
if (TURN_ORDER.length !== SCENARIOS.length || SCENARIOS.some((s) => !TURN_ORDER.includes(s))) {
  throw new Error('TURN_ORDER must name every scenario once');
}

export type ScenarioResult = Sample & {
  cpu: CpuUse;
  /** CPU time per request over the measured window (user + system), µs. */
  serverMicrosPerRequest?: number;
  databaseMicrosPerRequest?: number;
  /**
   * Each slice on its own, in the order measured (information only: the figures above add the
   * slices up). They tell whether a round's spread comes from single slices or whole processes.
   */
  slices?: ScenarioResult[];
};

export interface Round {
  samples: Record<Scenario, ScenarioResult>;
  /** Successful logins per second during `login_storm`'s slices. */
  stormLoginsPerSecond: number;
  /** Logins from one address while another floods `register` (issue 10), after the turns. */
  registerFlood: RegisterFlood;
}

export interface ApiResults {
  rounds: Round[];
  loginTiming: LoginTiming;
  heap: { requests: [number, number]; heapUsedBytes: [number, number] };
  dbCommands: { myTodosFirst5: number; myTodosFirst100: number };
  /** signUp and requestPasswordReset, known ÷ unknown address (issue 9). */
  accountTiming: AccountTiming;
  /** Memory per idle subscribed socket and fan-out latency (issue 13). */
  subscriptions: SubscriptionBenchResult;
  /** Product settings that differ from its defaults, and why. */
  productSettings: Record<string, string>;
}

const DB_NAME = 'bench-api';

/**
 * Differences from the product's defaults, printed with the results. Throttling is raised so
 * the timing and storm measurements are not answered with 429 (the limits' upper bounds);
 * the access-token lifetime so the tokens minted while seeding outlive both runs (verifying
 * a token costs the same whatever its lifetime). Issuer and audience are the product's
 * defaults, set explicitly so that the REST peer reads the same values.
 */
export const PRODUCT_SETTINGS: Record<string, string> = {
  NODE_ENV: 'production',
  LOGIN_MAX_FAILURES: '1000',
  LOGIN_MAX_FAILURES_PER_IP: '100000',
  // The storm signs in from one address as fast as it can; the register flood tells its
  // clients apart by X-Forwarded-For, which the bench (on loopback) plays the proxy for.
  RATE_LIMIT_LOGIN_PER_IP: 'off',
  // The login timing and the storm sign the seeded users in thousands of times; with the
  // default cap each new sign-in would end the seeded sessions the sockets subscribe with.
  MAX_SESSIONS_PER_USER: '10000',
  // The timing bench sends 2 × 200 signUp and requestPasswordReset calls from one address,
  // repeatedly for one known account.
  RATE_LIMIT_SIGN_UP_PER_IP: 'off',
  RATE_LIMIT_SIGN_UP_PER_ACCOUNT: 'off',
  RATE_LIMIT_REQUEST_PASSWORD_RESET_PER_IP: 'off',
  RATE_LIMIT_REQUEST_PASSWORD_RESET_PER_ACCOUNT: 'off',
  ARGON2_QUEUE_PER_CLIENT: '64',
  // autocannon's 10 connections and the storm's 20 clients stand for as many users; from one
  // address the default of 8 in progress would queue the rest (MAX_CONCURRENT_REQUESTS_PER_IP).
  MAX_CONCURRENT_REQUESTS_PER_IP: '32',
  // The subscription bench opens its 1,000 sockets from one address.
  WS_MAX_SOCKETS_PER_IP: '100000',
  TRUST_PROXY: 'loopback',
  ACCESS_TOKEN_TTL: '4h',
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

/** The processes of a round, started in this order: each scenario runs against one of them. */
const ROUND_SERVERS = [
  'hello',
  'hello_protos',
  'rest_peer',
  'product',
  'nest',
  'nest_string',
] as const;
type RoundServer = (typeof ROUND_SERVERS)[number];

/** The environment that makes `servers/hello.ts` serve R0 the way the product serves itself. */
export const HELLO_PROTOS_ENV = { BENCH_HELLO_SERVER: 'product' };

interface Target {
  server: RoundServer;
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
  const todosRequests = users.map((user) => graphqlRequest(myTodos(20), undefined, user.token));
  // The product and the NestJS peer answer the same two operations the same way.
  const me = (server: RoundServer): Target => ({
    server,
    requests: meRequests,
    async check(url) {
      const data = await graphql<{ me: { email: string } }>(url, ME, undefined, first.token);
      expect(data.me.email === first.email, `${server} me`, data);
    },
  });
  const todos = (server: RoundServer): Target => ({
    server,
    requests: todosRequests,
    async check(url) {
      const { status, body } = await send<
        GraphQLBody<{ myTodos: { edges: Array<{ node: { owner: { email: string } } }> } }>
      >(url, graphqlRequest(myTodos(20), undefined, first.token));
      const edges = body.data?.myTodos.edges ?? [];
      expect(
        status === 200 &&
          edges.length === 20 &&
          edges.every((edge) => edge.node.owner.email === first.email),
        `${server} myTodos`,
        body,
      );
    },
  });
  const hello = (server: RoundServer): Target => ({
    server,
    requests: [graphqlRequest('{ hello }')],
    async check(url) {
      const data = await graphql<{ hello: string }>(url, '{ hello }');
      expect(data.hello === 'world', server, data);
    },
  });
  return {
    hello: hello('hello'),
    hello_protos: hello('hello_protos'),
    rest_peer: {
      server: 'rest_peer',
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
    me: me('product'),
    nest_me: me('nest'),
    nest_string_me: me('nest_string'),
    my_todos: todos('product'),
    nest_my_todos: todos('nest'),
    nest_string_my_todos: todos('nest_string'),
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

/** What every run of the API section shares: the database, the seeded users, how to fork. */
export interface ApiSetup {
  db: { uri: string; pid: number | undefined };
  users: BenchUser[];
  start(server: RoundServer, nodeFlags?: string[], monitorCommands?: boolean): Promise<ServerChild>;
}

/**
 * Seeds the database once through a product (users, their tokens, their todos); every run
 * then reads the same data with the same tokens.
 */
export async function setUpApi(
  db: ApiSetup['db'],
  settings: Pick<ApiSettings, 'users'>,
  progress: (line: string) => void,
): Promise<ApiSetup> {
  // The product needs SMTP_URL and APP_URL in production; its mails go to a sink.
  const mail = await startMailSink();
  onStop(() => mail.stop());
  const env = { ...serverEnv(db.uri, randomBytes(48).toString('base64url')), ...mail.env };
  const servers: Record<RoundServer, { name: ServerName; env: Record<string, string> }> = {
    hello: { name: 'hello', env },
    hello_protos: { name: 'hello', env: { ...env, ...HELLO_PROTOS_ENV } },
    rest_peer: { name: 'rest-peer', env },
    product: { name: 'product', env },
    nest: { name: 'nest', env: { ...env, BENCH_NEST_SECRET: 'key' } },
    nest_string: { name: 'nest', env: { ...env, BENCH_NEST_SECRET: 'string' } },
  };
  const start: ApiSetup['start'] = (server, nodeFlags = [], monitorCommands = false) =>
    forkServer(servers[server].name, {
      env: servers[server].env,
      options: { dbName: DB_NAME, monitorCommands, peerEntry: NEST_PEER_ENTRY },
      nodeFlags,
    });
  progress('seeding through the API');
  const seeder = await start('product');
  try {
    const users = await seed(seeder.url, {
      users: settings.users,
      todosEach: 30,
      todosForFirst: 110,
    });
    return { db, users, start };
  } finally {
    await seeder.stop();
  }
}

/**
 * One full run of the API section. Each server under test runs in a child process of its
 * own, loaded by autocannon from this process with the same settings.
 *
 * First a probe product (command counting on, `--expose-gc`) takes the one-off measurements:
 * database commands per page, login and account timing, heap growth, subscriptions. Then each
 * round forks every server afresh (so rounds are independent samples, JIT state included),
 * runs the scenarios in turns, in TURN_ORDER, and ends with the register flood on
 * its product; the CPU meters cover only the measured slices. Rounds' product children run
 * with command monitoring off, as production does.
 */
export async function benchApi(
  setup: ApiSetup,
  settings: ApiSettings,
  progress: (line: string) => void,
): Promise<ApiResults> {
  const { db, users, start } = setup;
  const all = targets(users);

  progress('probe product: database commands, login timing, heap');
  const probe = await start('product', ['--expose-gc'], true);
  let dbCommands: ApiResults['dbCommands'];
  let loginTiming: LoginTiming;
  let heap: ApiResults['heap'];
  let accountTiming: AccountTiming;
  let subscriptions: SubscriptionBenchResult;
  try {
    dbCommands = await countDbCommands(probe, users[0]!);
    progress(`probe product: login timing (${settings.loginAttempts} of each kind)`);
    loginTiming = await measureLoginTiming(probe.url, users[0]!, settings.loginAttempts);
    progress(`probe product: heap after ${settings.heapAt.join(' and ')} me requests`);
    heap = await measureHeap(probe, all.me.requests, settings);
    progress(
      `probe product: signUp / requestPasswordReset timing (${settings.loginAttempts} each)`,
    );
    accountTiming = await measureAccountTiming(probe.url, settings.loginAttempts);
    progress(`probe product: ${settings.sockets} subscribed sockets`);
    subscriptions = await benchSubscriptions({
      url: probe.url,
      token: users[0]!.token,
      sockets: settings.sockets,
      serverMemory: async () => ({ heapUsed: await probe.ask('heapUsed'), rss: rssOf(probe.pid) }),
    });
  } finally {
    await probe.stop();
  }

  const profileFlags = settings.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`]
    : [];
  const rounds: Round[] = [];
  for (let r = 1; r <= settings.rounds; r++) {
    const children = new Map<RoundServer, ServerChild>();
    try {
      progress(`round ${r}/${settings.rounds}: starting the servers`);
      for (const server of ROUND_SERVERS) {
        children.set(server, await start(server, server === 'product' ? profileFlags : []));
      }
      for (const [server, child] of children) {
        const requests = SCENARIOS.flatMap((scenario) =>
          scenario !== 'login_storm' && all[scenario].server === server
            ? all[scenario].requests
            : [],
        );
        progress(`round ${r}/${settings.rounds}: warming ${server} up`);
        await warmUp(server, child.url, requests, settings.serverWarmup, settings.load);
      }
      // The scenarios take turns, a slice each, so that drift during the round (this machine's
      // speed moves by up to 2x over tens of seconds) falls on all of them alike. The storm
      // takes its turns too: it runs only through its own slices (and their warm-ups), so its
      // `me` and the quiet `me` are measured in the same stretch of the round.
      // Each slice follows its own unmeasured warm-up, so that connection set-up and a server's
      // first moments after idling (while the others ran) fall outside the measurement.
      for (const scenario of SCENARIOS) {
        if (scenario === 'login_storm') continue;
        progress(`round ${r}/${settings.rounds}: checking ${scenario}`);
        await all[scenario].check(children.get(all[scenario].server)!.url);
      }
      const storm = { logins: 0, seconds: 0, failures: 0 };
      /**
       * One slice of `scenario` after its warm-up (for the storm, with the storm through both).
       * Unless `counted`, its successful sign-ins go uncounted (failed ones always count).
       */
      const slice = async (
        scenario: Scenario,
        counted: boolean,
      ): Promise<{ slice: Slice; cpu: CpuUse }> => {
        const { server, requests } = all[scenario === 'login_storm' ? 'me' : scenario];
        const child = children.get(server)!;
        const logins =
          scenario === 'login_storm'
            ? startLoginStorm(child.url, users, settings.stormClients)
            : undefined;
        try {
          const sliceWarmup = { maxSeconds: settings.sliceWarmupSeconds };
          await warmUp(scenario, child.url, requests, sliceWarmup, settings.load);
          const meter = cpuMeter({ server: child.pid, database: db.pid });
          const seconds =
            (settings.load.durationSeconds / settings.slices) *
            (settings.longerSlices[scenario] ?? 1);
          const measuredSlice = await measureSlice(
            scenario,
            child.url,
            requests,
            seconds,
            settings.load,
          );
          return { slice: measuredSlice, cpu: meter.stop() };
        } finally {
          // Every sign-in in flight comes back before the next scenario's turn.
          const result = await logins?.stop();
          if (result) storm.failures += result.failures;
          if (result && counted) {
            storm.logins += result.logins;
            storm.seconds += result.seconds;
          }
        }
      };
      // A first turn goes unmeasured: in it, servers fresh from their warm-up still cost more
      // per request than in the turns after (22-48% above their round's geometric mean for
      // hello, me, nest_me and rest_peer; see the README): it measured how they settle, not
      // how they run.
      progress(`round ${r}/${settings.rounds}: a turn unmeasured`);
      for (const scenario of TURN_ORDER) await slice(scenario, false);
      const parts = new Map<Scenario, Array<{ slice: Slice; cpu: CpuUse }>>();
      for (let turn = 1; turn <= settings.slices; turn++) {
        progress(`round ${r}/${settings.rounds}: turn ${turn}/${settings.slices}`);
        for (const scenario of TURN_ORDER) {
          parts.set(scenario, [...(parts.get(scenario) ?? []), await slice(scenario, true)]);
        }
      }
      if (storm.failures > 0) {
        throw new Error(`login_storm: ${storm.failures} logins failed (throttled or errors)`);
      }
      const samples = Object.fromEntries(
        [...parts].map(([scenario, measuredParts]) => [scenario, combine(measuredParts)]),
      ) as Record<Scenario, ScenarioResult>;

      progress(`round ${r}/${settings.rounds}: logins under a register flood`);
      const registerFlood = await measureRegisterFlood(children.get('product')!.url);
      rounds.push({
        samples,
        stormLoginsPerSecond: storm.logins / storm.seconds,
        registerFlood,
      });
    } finally {
      for (const child of children.values()) await child.stop();
    }
  }

  return {
    rounds,
    loginTiming,
    heap,
    dbCommands,
    accountTiming,
    subscriptions,
    productSettings: PRODUCT_SETTINGS,
  };
}

/** A sample with the CPU it cost: cores used, and CPU time per request. */
function withCpu(sample: Sample, cpu: CpuUse): ScenarioResult {
  const perRequest = (seconds: number | undefined) =>
    seconds === undefined ? undefined : round((seconds * 1e6) / sample.requests, 1);
  return {
    ...sample,
    cpu,
    serverMicrosPerRequest: perRequest(cpu.serverSeconds),
    databaseMicrosPerRequest: perRequest(cpu.databaseSeconds),
  };
}

/**
 * One scenario's slices of a round as one sample: requests, latencies and CPU added up; each
 * slice's own figures beside them.
 */
function combine(parts: Array<{ slice: Slice; cpu: CpuUse }>): ScenarioResult {
  return { ...addUp(parts), slices: parts.map((part) => addUp([part])) };
}

function addUp(parts: Array<{ slice: Slice; cpu: CpuUse }>): ScenarioResult {
  const sample = summarize(parts.map((part) => part.slice));
  const total = (pick: (cpu: CpuUse) => number | undefined, weighted = false) => {
    let sum = 0;
    for (const { slice, cpu } of parts) {
      const value = pick(cpu);
      if (value === undefined) return undefined;
      sum += weighted ? value * slice.seconds : value;
    }
    return sum;
  };
  // Cores are averages over time: each slice weighs by its length.
  const cores = (pick: (cpu: CpuUse) => number | undefined) => {
    const sum = total(pick, true);
    return sum === undefined ? undefined : round(sum / sample.seconds, 2);
  };
  return withCpu(sample, {
    server: cores((cpu) => cpu.server),
    database: cores((cpu) => cpu.database),
    bench: cores((cpu) => cpu.bench),
    other: cores((cpu) => cpu.other),
    serverSeconds: total((cpu) => cpu.serverSeconds),
    databaseSeconds: total((cpu) => cpu.databaseSeconds),
  });
}

/** Resident memory of a process, from /proc (Linux); undefined elsewhere. */
function rssOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

import os from 'node:os';
import {
  type ApiResults,
  type ApiSettings,
  type Round,
  SCENARIOS,
  type Scenario,
  type ScenarioResult,
} from './api';
import { median, round } from './load';

/** One full run: every section once. `npm run bench` makes two and compares them. */
export interface RunOutcome {
  embeddedDb: Record<string, number>;
  api: ApiResults;
  seconds: { embeddedDb: number; api: number };
}

export interface BenchOutcome {
  quick: boolean;
  /** Share of the machine's CPU busy just before the start: other work skews every number. */
  busyAtStart: number;
  settings: ApiSettings;
  runs: RunOutcome[];
}

interface Target {
  text: string;
  met(value: number): boolean;
}

const atLeast = (min: number): Target => ({ text: `>= ${min.toFixed(2)}`, met: (v) => v >= min });
const atMost = (max: number): Target => ({ text: `<= ${max.toFixed(2)}`, met: (v) => v <= max });
const between = (min: number, max: number): Target => ({
  text: `${min.toFixed(2)}-${max.toFixed(2)}`,
  met: (v) => v >= min && v <= max,
});

/** Two runs agree when their medians of every ratio are within this share of each other. */
export const MAX_SPREAD = 0.1;

/**
 * A ratio of the report. `values` gives one run's samples: one per round for the throughput
 * scenarios (each taken within its round, so drift between rounds cancels out), or a single
 * value for one-off measurements. A run's figure is the median of its samples.
 */
export interface RatioSpec {
  name: string;
  values(run: RunOutcome): number[];
  /** Without one, the ratio is printed for information. */
  target?: Target;
}

const perRound =
  (ratio: (s: Round['samples']) => number | undefined) =>
  (run: RunOutcome): number[] =>
    run.api.rounds
      .map((r) => ratio(r.samples))
      .filter((v): v is number => v !== undefined && Number.isFinite(v));

const cpu = (s: ScenarioResult) => s.serverMicrosPerRequest;
const cpuRatio = (a: ScenarioResult, b: ScenarioResult) => {
  const [x, y] = [cpu(a), cpu(b)];
  return x === undefined || y === undefined ? undefined : x / y;
};
const rps = (s: ScenarioResult) => s.requestsPerSecond;

/**
 * The registry: results.json's `ratios` and the printed table follow this order. A new
 * figure (another issue's) is one entry here.
 */
export const RATIOS: RatioSpec[] = [
  // CPU time per request is the figure against `hello`: it does not depend on how busy
  // the rest of the machine is the way throughput does.
  {
    name: 'me_cpu_over_hello',
    values: perRound((s) => cpuRatio(s.me, s.hello)),
    target: atMost(1.2),
  },
  {
    name: 'my_todos_cpu_over_hello',
    values: perRound((s) => cpuRatio(s.my_todos, s.hello)),
    target: atMost(3.0),
  },
  // The same, against `hello` served the way the product serves itself (information): what the
  // product adds to Apollo + Express once both build requests with Express's prototypes.
  {
    name: 'me_cpu_over_hello_protos',
    values: perRound((s) => cpuRatio(s.me, s.hello_protos)),
  },
  {
    name: 'my_todos_cpu_over_hello_protos',
    values: perRound((s) => cpuRatio(s.my_todos, s.hello_protos)),
  },
  // Throughput is the figure against peers: it is what a user of either would see.
  {
    name: 'me_over_nest',
    values: perRound((s) => rps(s.me) / rps(s.nest_me)),
    target: atLeast(4.0),
  },
  {
    name: 'my_todos_over_nest',
    values: perRound((s) => rps(s.my_todos) / rps(s.nest_my_todos)),
    target: atLeast(3.0),
  },
  {
    name: 'me_over_nest_string_secret',
    values: perRound((s) => rps(s.me) / rps(s.nest_string_me)),
  },
  {
    name: 'my_todos_over_nest_string_secret',
    values: perRound((s) => rps(s.my_todos) / rps(s.nest_string_my_todos)),
  },
  {
    name: 'me_over_rest_peer',
    values: perRound((s) => rps(s.me) / rps(s.rest_peer)),
    target: atLeast(2.0),
  },
  // "me alone" is the round's `me` scenario: same product child, same load settings.
  {
    name: 'login_storm_p99_ratio',
    values: perRound((s) => s.login_storm.p99 / s.me.p99),
    target: atMost(2.0),
  },
  {
    name: 'heap_growth_100k_over_50k',
    values: ({ api }) => [api.heap.heapUsedBytes[1] / api.heap.heapUsedBytes[0]],
    target: atMost(1.05),
  },
  {
    name: 'login_timing_unknown_over_known',
    values: ({ api }) => [api.loginTiming.unknownMedianMs / api.loginTiming.knownMedianMs],
    target: between(0.9, 1.1),
  },
  {
    name: 'signup_timing_known_over_unknown',
    values: ({ api }) => [api.accountTiming.signup_timing_known_over_unknown],
    target: between(0.9, 1.1),
  },
  {
    name: 'reset_timing_known_over_unknown',
    values: ({ api }) => [api.accountTiming.reset_timing_known_over_unknown],
    target: between(0.9, 1.1),
  },
  // Flood median ÷ (2 × quiet median + 50 ms): at most 1 means within the issue's bound.
  {
    name: 'login_under_register_flood',
    values: ({ api }) => api.rounds.map((r) => r.registerFlood.login_under_register_flood),
    target: atMost(1.0),
  },
  {
    name: 'register_flood_refused_share',
    values: ({ api }) => api.rounds.map((r) => r.registerFlood.floodRefusedShare),
    target: atLeast(0.5),
  },
  // Not ratios: absolute figures of the subscription bench, printed for information.
  {
    name: 'ws_heap_bytes_per_idle_socket',
    values: ({ api }) => [api.subscriptions.bytesPerSocket.heapUsed],
  },
  {
    name: 'ws_fanout_p99_ms',
    values: ({ api }) => [api.subscriptions.fanout.p99Ms],
  },
  {
    name: 'embedded_findone_100k_over_1k',
    values: ({ embeddedDb }) => {
      const ratio = embeddedDb['findOne ratio 100k/1k (median of pairs)'];
      return ratio === undefined ? [] : [ratio];
    },
  },
];

export interface RatioResult {
  /** Median of every sample of every run. */
  value: number;
  /** Largest over smallest run median, minus one: 0.08 means the runs agree within 8%. */
  spread: number | null;
  runs: Array<{ median: number; min: number; max: number; samples: number }>;
  target: string | null;
  met: boolean | null;
}

export function computeRatios(outcome: BenchOutcome): Record<string, RatioResult> {
  const results: Record<string, RatioResult> = {};
  for (const spec of RATIOS) {
    const perRun = outcome.runs.map((run) => spec.values(run)).filter((v) => v.length > 0);
    if (perRun.length === 0) continue;
    const runs = perRun.map((values) => ({
      median: round(median(values), 3),
      min: round(Math.min(...values), 3),
      max: round(Math.max(...values), 3),
      samples: values.length,
    }));
    const medians = runs.map((r) => r.median);
    const value = round(median(perRun.flat()), 3);
    results[spec.name] = {
      value,
      spread: runs.length > 1 ? round(Math.max(...medians) / Math.min(...medians) - 1, 3) : null,
      runs,
      target: spec.target?.text ?? null,
      met: spec.target ? spec.target.met(value) : null,
    };
  }
  return results;
}

const MAX_DB_COMMANDS = 3;
const DB_COMMANDS_TARGET = `same, <= ${MAX_DB_COMMANDS}`;

/** One page costs the same number of commands whatever its size, and few of them. */
function dbCommandsMet({ myTodosFirst5, myTodosFirst100 }: ApiResults['dbCommands']): boolean {
  return myTodosFirst5 === myTodosFirst100 && myTodosFirst100 <= MAX_DB_COMMANDS;
}

function medianSample(api: ApiResults, scenario: Scenario) {
  const pick = (value: (s: ScenarioResult) => number | undefined) => {
    const values = api.rounds
      .map((r) => value(r.samples[scenario]))
      .filter((v): v is number => v !== undefined);
    return values.length > 0 ? round(median(values), 3) : undefined;
  };
  return {
    requestsPerSecond: pick((s) => s.requestsPerSecond)!,
    p50: pick((s) => s.p50)!,
    p99: pick((s) => s.p99)!,
    serverMicrosPerRequest: pick((s) => s.serverMicrosPerRequest),
    databaseMicrosPerRequest: pick((s) => s.databaseMicrosPerRequest),
    cpu: {
      server: pick((s) => s.cpu.server),
      database: pick((s) => s.cpu.database),
      bench: pick((s) => s.cpu.bench),
      other: pick((s) => s.cpu.other),
    },
  };
}

const DESCRIPTIONS: Record<Scenario, string> = {
  hello: 'bare Apollo Server 5 + Express 5 answering { hello } (R0)',
  hello_protos: "R0 on the product's HTTP server (Express's prototypes; information)",
  me: 'product, { me { id email role } } with a Bearer token',
  nest_me: 'NestJS peer (docs recipe, KeyObject secret), same query',
  nest_string_me: 'NestJS peer, docs-verbatim string secret (information)',
  rest_peer: 'Express + jsonwebtoken, GET /me, User.findById on every request',
  my_todos: 'product, myTodos(first: 20) { edges { node { id title completed owner { email } } } }',
  nest_my_todos: 'NestJS peer (KeyObject secret), same query, owner through a DataLoader',
  nest_string_my_todos: 'NestJS peer, string secret (information)',
  login_storm: 'product, me while 20 other clients log in continuously',
};

export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores, node ${process.version}`;
}

/** The scenarios measured for longer, and how long: " (login_storm 24 s, me 24 s)". */
function longer({ longerSlices, load }: ApiSettings): string {
  const parts = Object.entries(longerSlices).map(
    ([scenario, times]) => `${scenario} ${times * load.durationSeconds} s`,
  );
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function formatRun(run: RunOutcome, index: number, settings: ApiSettings): string[] {
  const { api } = run;
  const rounds = api.rounds.length;
  const n = (value: number | undefined, digits = 0) =>
    value === undefined ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: digits });
  const lines = [
    '',
    `run ${index + 1}: api ${run.seconds.api.toFixed(0)} s, embedded-db ${run.seconds.embeddedDb.toFixed(0)} s; ` +
      `medians of ${rounds} round${rounds > 1 ? 's' : ''}; ${settings.load.connections} connections, ` +
      `each server warmed up with ${settings.serverWarmup.amount.toLocaleString('en-US')} requests ` +
      `(at most ${settings.serverWarmup.maxSeconds} s), then ` +
      `one turn unmeasured, then ${settings.load.durationSeconds} s measured per scenario` +
      `${longer(settings)} in ${settings.slices} turns, ` +
      `each after ${settings.sliceWarmupSeconds} s unmeasured (login_storm's sign-ins run ` +
      `through its own slices and their warm-ups)`,
    '-'.repeat(104),
    `${'scenario'.padEnd(21)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}` +
      ` ${'µs/req'.padStart(7)} ${'db µs'.padStart(6)}   cores: ${'srv'.padStart(4)} ${'db'.padStart(4)} ${'other'.padStart(5)}   req/s per round`,
  ];
  for (const scenario of SCENARIOS) {
    const m = medianSample(api, scenario);
    lines.push(
      `${scenario.padEnd(21)} ${n(m.requestsPerSecond).padStart(7)} ${m.p50.toFixed(2).padStart(7)} ` +
        `${m.p99.toFixed(2).padStart(7)} ${n(m.serverMicrosPerRequest).padStart(7)} ${n(m.databaseMicrosPerRequest).padStart(6)}` +
        `          ${n(m.cpu.server, 2).padStart(4)} ${n(m.cpu.database, 2).padStart(4)} ${n(m.cpu.other, 2).padStart(5)}   ` +
        api.rounds.map((r) => Math.round(r.samples[scenario].requestsPerSecond)).join(' '),
    );
  }
  const logins = median(api.rounds.map((r) => r.stormLoginsPerSecond));
  const { loginTiming, heap, dbCommands } = api;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  const k = (count: number) => `${count / 1000}k`;
  lines.push(
    `login_storm: ${logins.toFixed(1)} successful logins/s alongside me; ` +
      `login timing: unknown ${loginTiming.unknownMedianMs.toFixed(2)} ms, known + wrong password ${loginTiming.knownMedianMs.toFixed(2)} ms`,
    `heap after gc: ${mb(heap.heapUsedBytes[0])} after ${k(heap.requests[0])} me requests, ` +
      `${mb(heap.heapUsedBytes[1])} after ${k(heap.requests[1])}; ` +
      `db commands per myTodos page: first 5 ${dbCommands.myTodosFirst5}, first 100 ${dbCommands.myTodosFirst100}`,
    `embedded-db: ${Object.entries(run.embeddedDb)
      .map(([name, value]) => `${name} ${value.toLocaleString('en-US')}`)
      .join('; ')}`,
  );
  return lines;
}

export function formatReport(outcome: BenchOutcome, ratios: Record<string, RatioResult>): string {
  const lines: string[] = [];
  outcome.runs.forEach((run, i) => lines.push(...formatRun(run, i, outcome.settings)));
  lines.push('');
  for (const scenario of SCENARIOS)
    lines.push(`  ${scenario.padEnd(21)} ${DESCRIPTIONS[scenario]}`);
  lines.push(
    '  µs/req: CPU time (user + system) of the server per request over the measured window;',
    '  db µs: the same for the database process. cores: average use during the window by the',
    '  server, the database and everything else on the machine ("other" well above 0: skewed).',
    '',
    `ratios: median (min-max over rounds) per run, spread between runs (target <= ${MAX_SPREAD * 100}%)`,
    '-'.repeat(104),
  );
  const range = (r: RatioResult['runs'][number]) =>
    r.samples > 1
      ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`
      : r.median.toFixed(3);
  for (const [name, result] of Object.entries(ratios)) {
    const verdict = result.met === null ? 'info' : result.met ? 'PASS' : 'MISS';
    const spread =
      result.spread === null
        ? '-'
        : `${(result.spread * 100).toFixed(1)}%${result.spread <= MAX_SPREAD ? '' : ' !'}`;
    lines.push(
      `${name.padEnd(33)} ${result.value.toFixed(3).padStart(6)}  ${(result.target ?? '-').padEnd(10)} ${verdict}` +
        `   runs: ${result.runs.map(range).join('  |  ').padEnd(36)} spread ${spread}`,
    );
  }
  for (const [i, run] of outcome.runs.entries()) {
    const { dbCommands } = run.api;
    lines.push(
      `${`db_commands_per_request (run ${i + 1})`.padEnd(33)} ${`${dbCommands.myTodosFirst5}/${dbCommands.myTodosFirst100}`.padStart(6)}  ${DB_COMMANDS_TARGET.padEnd(10)} ${dbCommandsMet(dbCommands) ? 'PASS' : 'MISS'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `bench/out/results.json`: the issue's keys first, then the raw numbers behind them. */
export function resultsJson(outcome: BenchOutcome, ratios: Record<string, RatioResult>) {
  const cpus = os.cpus();
  return {
    ratios,
    max_spread: MAX_SPREAD,
    runs: outcome.runs.map((run) => ({
      db_commands_per_request: {
        my_todos_first5: run.api.dbCommands.myTodosFirst5,
        my_todos_first100: run.api.dbCommands.myTodosFirst100,
        target: DB_COMMANDS_TARGET,
        met: dbCommandsMet(run.api.dbCommands),
      },
      scenarios: Object.fromEntries(
        SCENARIOS.map((scenario) => [
          scenario,
          {
            median: medianSample(run.api, scenario),
            rounds: run.api.rounds.map((r) => r.samples[scenario]),
          },
        ]),
      ),
      login_storm_logins_per_second: run.api.rounds.map((r) => round(r.stormLoginsPerSecond, 1)),
      login_timing: run.api.loginTiming,
      heap: run.api.heap,
      embedded_db: run.embeddedDb,
      seconds: run.seconds,
    })),
    settings: { ...outcome.settings, product: outcome.runs[0]?.api.productSettings },
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      busyBeforeStart: round(outcome.busyAtStart, 2),
    },
    quick: outcome.quick,
    measuredAt: new Date().toISOString(),
  };
}

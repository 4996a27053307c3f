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

export const RATIO_NAMES = [
  'me_over_hello',
  'me_over_rest_peer',
  'my_todos_over_hello',
  'login_storm_p99_ratio',
  'login_timing_unknown_over_known',
  'embedded_findone_100k_over_1k',
  'heap_growth_100k_over_50k',
] as const;
export type RatioName = (typeof RATIO_NAMES)[number];

interface Target {
  text: string;
  met(value: number): boolean;
}

const atLeast = (min: number): Target => ({ text: `>= ${min.toFixed(2)}`, met: (v) => v >= min });
const atMost = (max: number): Target => ({ text: `<= ${max.toFixed(2)}`, met: (v) => v <= max });

/** The issue's targets; a ratio without one is reported for information. */
const TARGETS: Partial<Record<RatioName, Target>> = {
  me_over_hello: atLeast(0.85),
  me_over_rest_peer: atLeast(1.0),
  my_todos_over_hello: atLeast(0.5),
  login_storm_p99_ratio: atMost(2.0),
  login_timing_unknown_over_known: { text: '0.90-1.10', met: (v) => v >= 0.9 && v <= 1.1 },
  heap_growth_100k_over_50k: atMost(1.05),
};

const MAX_DB_COMMANDS = 3;
const DB_COMMANDS_TARGET = `same, <= ${MAX_DB_COMMANDS}`;

/** One page costs the same number of commands whatever its size, and few of them. */
function dbCommandsMet({ myTodosFirst5, myTodosFirst100 }: ApiResults['dbCommands']): boolean {
  return myTodosFirst5 === myTodosFirst100 && myTodosFirst100 <= MAX_DB_COMMANDS;
}

export interface BenchOutcome {
  quick: boolean;
  /** Share of the machine's CPU busy just before the start: other work skews every number. */
  busyAtStart: number;
  settings: ApiSettings;
  embeddedDb: Record<string, number>;
  api: ApiResults;
  seconds: { embeddedDb: number; api: number };
}

/**
 * A throughput ratio is taken within each round (its two numbers measured a minute or two
 * apart, so slow drift of the machine cancels out), then the median over rounds is reported.
 */
function medianOverRounds(api: ApiResults, ratio: (s: Round['samples']) => number): number {
  return round(median(api.rounds.map((r) => ratio(r.samples))), 3);
}

export function computeRatios(outcome: BenchOutcome): Record<RatioName, number> {
  const { api, embeddedDb } = outcome;
  const rps = (s: ScenarioResult) => s.requestsPerSecond;
  return {
    me_over_hello: medianOverRounds(api, (s) => rps(s.me) / rps(s.hello)),
    me_over_rest_peer: medianOverRounds(api, (s) => rps(s.me) / rps(s.rest_peer)),
    my_todos_over_hello: medianOverRounds(api, (s) => rps(s.my_todos) / rps(s.hello)),
    // "me alone" is the round's `me` scenario: same product child, same load settings.
    login_storm_p99_ratio: medianOverRounds(api, (s) => s.login_storm.p99 / s.me.p99),
    login_timing_unknown_over_known: round(
      api.loginTiming.unknownMedianMs / api.loginTiming.knownMedianMs,
      3,
    ),
    embedded_findone_100k_over_1k: round(
      embeddedDb['findOne by unique field/s @100k']! / embeddedDb['findOne by unique field/s @1k']!,
      3,
    ),
    heap_growth_100k_over_50k: round(api.heap.heapUsedBytes[1] / api.heap.heapUsedBytes[0], 3),
  };
}

function medianSample(api: ApiResults, scenario: Scenario) {
  const pick = (value: (r: Round) => number | undefined) => {
    const values = api.rounds.map(value).filter((v): v is number => v !== undefined);
    return values.length > 0 ? median(values) : undefined;
  };
  return {
    requestsPerSecond: pick((r) => r.samples[scenario].requestsPerSecond)!,
    p50: pick((r) => r.samples[scenario].p50)!,
    p99: pick((r) => r.samples[scenario].p99)!,
    cpu: {
      server: pick((r) => r.samples[scenario].cpu.server),
      database: pick((r) => r.samples[scenario].cpu.database),
      bench: pick((r) => r.samples[scenario].cpu.bench),
      other: pick((r) => r.samples[scenario].cpu.other),
    },
  };
}

const DESCRIPTIONS: Record<Scenario, string> = {
  hello: 'bare Apollo Server 5 + Express 5 answering { hello } (R0)',
  rest_peer: 'Express + jsonwebtoken, GET /me, User.findById on every request',
  me: 'product, { me { id email role } } with a Bearer token',
  my_todos: 'product, myTodos(first: 20) { edges { node { id title owner { email } } } }',
  login_storm: 'product, me while 20 other clients log in continuously',
};

export function formatReport(outcome: BenchOutcome, ratios: Record<RatioName, number>): string {
  const { api, settings } = outcome;
  const lines: string[] = [];
  const rounds = api.rounds.length;
  const cores = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(2));
  lines.push(
    '',
    `api (${outcome.seconds.api.toFixed(1)} s): ${rounds} round${rounds > 1 ? 's, medians' : ' (quick)'}; ` +
      `${settings.load.connections} connections, pipelining 1, ` +
      `${settings.load.warmupSeconds} s warm-up + ${settings.load.durationSeconds} s per scenario`,
    '-'.repeat(94),
    `${'scenario'.padEnd(12)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}` +
      `   cpu: ${'server'.padStart(6)} ${'db'.padStart(5)} ${'bench'.padStart(5)} ${'other'.padStart(5)}   req/s per round`,
  );
  for (const scenario of SCENARIOS) {
    const m = medianSample(api, scenario);
    const perRoundRps = api.rounds
      .map((r) => Math.round(r.samples[scenario].requestsPerSecond))
      .join(' ');
    lines.push(
      `${scenario.padEnd(12)} ${Math.round(m.requestsPerSecond).toLocaleString('en-US').padStart(8)} ` +
        `${m.p50.toFixed(2).padStart(8)} ${m.p99.toFixed(2).padStart(8)}` +
        `        ${cores(m.cpu.server).padStart(6)} ${cores(m.cpu.database).padStart(5)} ${cores(m.cpu.bench).padStart(5)} ${cores(m.cpu.other).padStart(5)}   ${perRoundRps}`,
    );
  }
  lines.push('');
  for (const scenario of SCENARIOS)
    lines.push(`  ${scenario.padEnd(12)} ${DESCRIPTIONS[scenario]}`);
  lines.push(
    '  cpu: cores used on average during the scenario by the server under test, the database,',
    '  this process (autocannon, login clients) and everything else on the machine; a server',
    '  near 1.00 is CPU-bound, and "other" well above 0 means the numbers are skewed.',
  );
  const logins = median(api.rounds.map((r) => r.stormLoginsPerSecond));
  const { loginTiming, heap, dbCommands } = api;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  const k = (n: number) => `${n / 1000}k`;
  lines.push(
    '',
    `login_storm: ${logins.toFixed(1)} successful logins/s (right password, round-robin over ${settings.users} users) alongside me`,
    `login timing: unknown email ${loginTiming.unknownMedianMs.toFixed(2)} ms, known email + wrong password ` +
      `${loginTiming.knownMedianMs.toFixed(2)} ms (medians of ${loginTiming.attempts} each, sequential, interleaved)`,
    `heap used after gc: ${mb(heap.heapUsedBytes[0])} after ${k(heap.requests[0])} me requests, ` +
      `${mb(heap.heapUsedBytes[1])} after ${k(heap.requests[1])}` +
      (outcome.quick ? ' (quick: scaled down from 50k/100k)' : ''),
    `db commands per request: myTodos(first: 5) ${dbCommands.myTodosFirst5}, myTodos(first: 100) ${dbCommands.myTodosFirst100}`,
    `product settings: ${Object.entries(api.productSettings)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')} (login throttling raised so no measurement is refused with 429)`,
    '',
    `ratios${rounds > 1 ? ` (medians of ${rounds} rounds)` : ' (1 round: quick)'}`,
    '-'.repeat(64),
  );
  for (const name of RATIO_NAMES) {
    const target = TARGETS[name];
    const verdict = target ? (target.met(ratios[name]) ? 'PASS' : 'MISS') : 'info';
    lines.push(
      `${name.padEnd(34)} ${ratios[name].toFixed(3).padStart(8)}   ${(target?.text ?? '-').padEnd(11)} ${verdict}`,
    );
  }
  lines.push(
    `${'db_commands_per_request'.padEnd(34)} ${`${dbCommands.myTodosFirst5}/${dbCommands.myTodosFirst100}`.padStart(8)}   ${DB_COMMANDS_TARGET.padEnd(11)} ${dbCommandsMet(dbCommands) ? 'PASS' : 'MISS'}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `bench/out/results.json`: the issue's keys first, then the raw numbers behind them. */
export function resultsJson(outcome: BenchOutcome, ratios: Record<RatioName, number>) {
  const { api } = outcome;
  const cpus = os.cpus();
  return {
    ratios,
    db_commands_per_request: {
      my_todos_first5: api.dbCommands.myTodosFirst5,
      my_todos_first100: api.dbCommands.myTodosFirst100,
    },
    targets: {
      ...Object.fromEntries(
        Object.entries(TARGETS).map(([name, target]) => [
          name,
          { target: target.text, met: target.met(ratios[name as RatioName]) },
        ]),
      ),
      db_commands_per_request: {
        target: DB_COMMANDS_TARGET,
        met: dbCommandsMet(api.dbCommands),
      },
    },
    scenarios: Object.fromEntries(
      SCENARIOS.map((scenario) => [
        scenario,
        {
          median: medianSample(api, scenario),
          rounds: api.rounds.map((r) => r.samples[scenario]),
        },
      ]),
    ),
    login_storm_logins_per_second: api.rounds.map((r) => round(r.stormLoginsPerSecond, 1)),
    login_timing: api.loginTiming,
    heap: api.heap,
    embedded_db: outcome.embeddedDb,
    settings: { ...outcome.settings, product: api.productSettings },
    seconds: outcome.seconds,
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

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ApiSettings, benchApi, setUpApi } from './api';
import { buildNestPeer, buildServers } from './build';
import { findChildPid, machineBusy } from './cpu';
import { STORM_CLIENTS } from './logins';
import { benchEmbeddedDb } from './embedded-db';
import { installSignalHandlers, onStop, stopEverything, stoppedBySignal } from './lifecycle';
import { type BenchOutcome, computeRatios, formatReport, machineLine, resultsJson } from './report';
import { spawnEmbeddedServer } from '@graphql-auth-api/embedded-mongo';

/**
 * `npm run bench [-- --quick] [-- --repeat N] [-- --cpu-prof]`: builds the servers under test
 * (compiled, as production runs them) and the NestJS peer, starts one embedded database (as
 * `npm start` does), seeds it, then makes N full runs (2 by default) of the sections against
 * it, and prints each run's tables, the ratios of every run against their targets and the
 * spread between runs; bench/out/results.json holds the same. `--quick` makes short runs
 * for trying the bench out, not for figures. `--cpu-prof` makes the product children of the
 * rounds write V8 CPU profiles into bench/profiles/.
 */

const resultsFile = path.join(__dirname, 'out', 'results.json');

function settingsFor(quick: boolean, cpuProfileDir: string | undefined): ApiSettings {
  return {
    rounds: quick ? 2 : 7,
    load: {
      connections: 10,
      pipelining: 1,
      durationSeconds: quick ? 2 : 8,
    },
    slices: quick ? 2 : 8,
    sliceWarmupSeconds: quick ? 0.5 : 1,
    // The storm ratio's two p99s rest on the slowest 1% of their slices' requests; measured
    // 1 s at a time, its two runs were 13.8% apart (README, "Performance", on the method).
    longerSlices: { login_storm: 3, me: 3 },
    serverWarmup: quick ? { amount: 3_000, maxSeconds: 4 } : { amount: 15_000, maxSeconds: 20 },
    heapAt: quick ? [10_000, 20_000] : [50_000, 100_000],
    loginAttempts: quick ? 50 : 200,
    stormClients: STORM_CLIENTS,
    users: 10,
    sockets: quick ? 200 : 1000,
    cpuProfileDir,
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function printTable(section: string, numbers: Record<string, number>): void {
  const width = Math.max(...Object.keys(numbers).map((k) => k.length), 10);
  process.stdout.write(`\n${section}\n${'-'.repeat(width + 14)}\n`);
  for (const [name, value] of Object.entries(numbers)) {
    process.stdout.write(`${name.padEnd(width)}  ${value.toLocaleString('en-US').padStart(12)}\n`);
  }
}

const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, (performance.now() - started) / 1000];
}

async function main(): Promise<void> {
  installSignalHandlers();
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const repeat = Number(argValue('--repeat') ?? (quick ? 1 : 2));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a whole number');
  const cpuProfileDir = process.argv.includes('--cpu-prof')
    ? path.join(__dirname, 'profiles')
    : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const settings = settingsFor(quick, cpuProfileDir);

  progress('building the servers under test (tsc into bench/out/build)');
  buildServers();
  progress('building the NestJS peer (bench/peers/nest)');
  buildNestPeer(progress);

  const busyAtStart = await machineBusy(1_000);
  process.stdout.write(
    `bench: ${quick ? 'quick (short phases, heap at 10k/20k requests; not for figures)' : 'full'}, ` +
      `${repeat} run${repeat > 1 ? 's' : ''} of ${settings.rounds} rounds; ${machineLine()}; ` +
      `machine ${Math.round(busyAtStart * 100)}% busy before start; ${new Date().toISOString()}\n`,
  );
  if (busyAtStart > 0.15) {
    // Each server under test needs a core and autocannon part of another: other work skews both.
    process.stdout.write('warning: the machine is busy with other work; expect noisy numbers\n');
  }

  const db = await spawnEmbeddedServer({ port: 0 });
  onStop(() => db.stop());
  // The database's own process, found by its entry file, for its CPU time per request.
  const dbPid = findChildPid(
    path.join(path.dirname(require.resolve('@graphql-auth-api/embedded-mongo')), 'main'),
  );
  try {
    const setup = await setUpApi({ uri: db.uri, pid: dbPid }, settings, progress);
    const outcome: BenchOutcome = { quick, busyAtStart, settings, runs: [] };
    for (let run = 1; run <= repeat; run++) {
      progress(`run ${run}/${repeat}: embedded-db`);
      const [embeddedDb, embeddedSeconds] = await timed(() =>
        benchEmbeddedDb({ quick, uri: db.uri }),
      );
      printTable(`run ${run}: embedded-db (${embeddedSeconds.toFixed(1)} s)`, embeddedDb);
      const [api, apiSeconds] = await timed(() =>
        benchApi(setup, settings, (line) => progress(`run ${run}/${repeat}: ${line}`)),
      );
      outcome.runs.push({
        embeddedDb,
        api,
        seconds: { embeddedDb: embeddedSeconds, api: apiSeconds },
      });
    }
    const ratios = computeRatios(outcome);
    process.stdout.write(formatReport(outcome, ratios));
    mkdirSync(path.dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(resultsJson(outcome, ratios), null, 2)}\n`);
    process.stdout.write(`\nresults written to ${path.relative(process.cwd(), resultsFile)}\n`);
    if (cpuProfileDir) {
      process.stdout.write(`CPU profiles in ${path.relative(process.cwd(), cpuProfileDir)}\n`);
    }
  } finally {
    await stopEverything();
  }
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    // After Ctrl-C the signal handler owns the exit; the failures it causes are no news.
    if (stoppedBySignal()) return;
    const text = err instanceof Error ? (err.stack ?? err.message) : JSON.stringify(err);
    process.stderr.write(`${text}\n`);
    await stopEverything();
    process.exit(1);
  },
);

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ApiSettings, benchApi } from './api';
import { findChildPid, machineBusy } from './cpu';
import { benchEmbeddedDb } from './embedded-db';
import { installSignalHandlers, onStop, stopEverything, stoppedBySignal } from './lifecycle';
import { type BenchOutcome, computeRatios, formatReport, resultsJson } from './report';
import { spawnEmbeddedServer } from '@graphql-auth-api/embedded-mongo';

/**
 * `npm run bench [-- --quick] [-- --cpu-prof]`: starts one embedded database (as `npm start`
 * does), runs the sections against it, prints the tables and the ratios against their
 * targets, and writes bench/out/results.json. `--cpu-prof` makes the product children of the
 * rounds write V8 CPU profiles into bench/profiles/.
 */

const resultsFile = path.join(__dirname, 'out', 'results.json');

function settingsFor(quick: boolean, cpuProfileDir: string | undefined): ApiSettings {
  return {
    rounds: quick ? 1 : 3,
    load: {
      connections: 10,
      pipelining: 1,
      durationSeconds: quick ? 5 : 10,
      warmupSeconds: quick ? 2 : 3,
    },
    heapAt: quick ? [10_000, 20_000] : [50_000, 100_000],
    loginAttempts: 200,
    stormClients: 20,
    users: 10,
    cpuProfileDir,
  };
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
  const cpuProfileDir = process.argv.includes('--cpu-prof')
    ? path.join(__dirname, 'profiles')
    : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const settings = settingsFor(quick, cpuProfileDir);
  const busyAtStart = await machineBusy(1_000);
  process.stdout.write(
    `bench: ${quick ? 'quick (1 round, shorter phases, heap at 10k/20k requests)' : 'full (3 rounds)'}; ` +
      `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, node ${process.version}; ` +
      `machine ${Math.round(busyAtStart * 100)}% busy before start\n`,
  );
  if (busyAtStart > 0.15) {
    // Each server under test needs a core and autocannon part of another: other work skews both.
    process.stdout.write('warning: the machine is busy with other work; expect noisy numbers\n');
  }

  const db = await spawnEmbeddedServer({ port: 0 });
  onStop(() => db.stop());
  const dbPid = findChildPid('embedded/main');
  try {
    progress('embedded-db');
    const [embeddedDb, embeddedSeconds] = await timed(() =>
      benchEmbeddedDb({ quick, uri: db.uri }),
    );
    printTable(`embedded-db (${embeddedSeconds.toFixed(1)} s)`, embeddedDb);

    const [api, apiSeconds] = await timed(() =>
      benchApi({ uri: db.uri, pid: dbPid }, settings, progress),
    );
    const outcome: BenchOutcome = {
      quick,
      busyAtStart,
      settings,
      embeddedDb,
      api,
      seconds: { embeddedDb: embeddedSeconds, api: apiSeconds },
    };
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
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopEverything();
    process.exit(1);
  },
);

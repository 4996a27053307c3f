import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { benchEmbeddedDb } from './embedded-db';

interface BenchSection {
  name: string;
  run(opts: { quick: boolean }): Promise<Record<string, number>>;
}

/** Each section returns named numbers; add sections here. */
const sections: BenchSection[] = [{ name: 'embedded-db', run: benchEmbeddedDb }];

const resultsFile = path.join(__dirname, 'results.json');

function printTable(section: string, numbers: Record<string, number>): void {
  const width = Math.max(...Object.keys(numbers).map((k) => k.length), 10);
  process.stdout.write(`\n${section}\n${'-'.repeat(width + 14)}\n`);
  for (const [name, value] of Object.entries(numbers)) {
    process.stdout.write(`${name.padEnd(width)}  ${value.toLocaleString('en-US').padStart(12)}\n`);
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const stored: Record<string, unknown> = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>)
    : {};
  for (const section of sections) {
    const started = performance.now();
    const numbers = await section.run({ quick });
    printTable(`${section.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`, numbers);
    stored[section.name] = { ...numbers, quick, measuredAt: new Date().toISOString() };
  }
  writeFileSync(resultsFile, `${JSON.stringify(stored, null, 2)}\n`);
  process.stdout.write(`\nresults merged into ${path.relative(process.cwd(), resultsFile)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

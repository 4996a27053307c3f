import { startEmbeddedServer } from './index';

/** `--port N` (0 picks a free port); 27017 by default. */
function parsePort(argv: string[]): number {
  const i = argv.indexOf('--port');
  const raw = i === -1 ? argv.find((a) => a.startsWith('--port='))?.slice(7) : argv[i + 1];
  if (raw === undefined) return 27017;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`Invalid --port: ${raw}\n`);
    process.exit(2);
  }
  return port;
}

/** `--dbpath DIR`, as mongod names it; without it everything stays in memory. */
function parseDbpath(argv: string[]): string | undefined {
  const i = argv.indexOf('--dbpath');
  const raw = i === -1 ? argv.find((a) => a.startsWith('--dbpath='))?.slice(9) : argv[i + 1];
  if (raw === '' || (i !== -1 && raw === undefined)) {
    process.stderr.write('--dbpath needs a directory\n');
    process.exit(2);
  }
  return raw;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dbpath = parseDbpath(argv);
  const server = await startEmbeddedServer({ port: parsePort(argv), dbpath });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (process.send) {
    // Forked by spawnEmbeddedServer: report over IPC, and die with the parent (the IPC
    // channel closes when the parent exits, however it exits).
    process.on('disconnect', stop);
    process.send({ type: 'ready', uri: server.uri });
    return;
  }
  const storage = dbpath === undefined ? 'in memory' : `data in ${dbpath}`;
  process.stdout.write(
    `Embedded MongoDB-compatible server (${storage}) listening on ${server.uri}\n`,
  );
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Embedded MongoDB-compatible server failed to start: ${message}\n`);
  if (process.send) process.send({ type: 'error', message });
  process.exit(1);
});

/**
 * Everything the bench starts must end with it: on success, on an error, on Ctrl-C and on
 * SIGTERM. Async cleanups (stopping a child gracefully, stopping the database) run on the
 * normal paths; the synchronous `exit` hook is the last resort that kills whatever is still
 * alive. A child that outlives even that (the parent was SIGKILLed) notices its IPC channel
 * closing and exits by itself (see `servers/child.ts` and the embedded server's main).
 */

type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
const lastResorts = new Set<() => void>();
const CLEANUP_TIMEOUT_MS = 8_000;

/** Runs `cleanup` when the bench stops early; returns the function that unregisters it. */
export function onStop(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => void cleanups.delete(cleanup);
}

/** Synchronous kill for the `exit` event, where no promise can be awaited any more. */
export function onExit(kill: () => void): () => void {
  lastResorts.add(kill);
  return () => void lastResorts.delete(kill);
}

/** Runs every registered cleanup, newest first, bounded in time. */
export async function stopEverything(): Promise<void> {
  const pending = [...cleanups].reverse();
  cleanups.clear();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS);
  });
  const all = (async () => {
    for (const cleanup of pending) await cleanup().catch(() => undefined);
  })();
  await Promise.race([all, deadline]);
  clearTimeout(timer);
}

let installed = false;
let signalled = false;

/** True once Ctrl-C or SIGTERM started the shutdown: errors from then on are its echoes. */
export function stoppedBySignal(): boolean {
  return signalled;
}

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const kill of lastResorts) kill();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      signalled = true;
      process.stderr.write(`\n${signal}: stopping every process the bench started\n`);
      void stopEverything().finally(() => process.exit(code));
    });
  }
}

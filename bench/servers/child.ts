import { writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { Session } from 'node:inspector';
import { type AddressInfo } from 'node:net';
import { type ChildMessage, type ChildOp, type ChildOptions, type ChildRequest } from './protocol';

export type OpHandlers = Partial<Record<ChildOp, () => number>>;

/** The child's options: one JSON argument from `bench/children.ts`. */
export function childOptions(): ChildOptions {
  return JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Runs a server under test as a forked child: listens on a free port of the loopback
 * interface, reports the port over IPC and answers the parent's requests. It exits when the
 * parent asks (SIGTERM), and when the parent is gone (the IPC channel closes however the
 * parent ends), so no server outlives a bench run. Exiting through `process.exit` rather than
 * the default signal death also lets `--cpu-prof` write its profile.
 */
export function serveChild(start: () => Promise<{ server: Server; ops?: OpHandlers }>): void {
  if (!process.send) {
    process.stderr.write('This is a bench child: run it through `npm run bench`.\n');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  // Ctrl-C reaches the whole process group; the parent decides when its children stop.
  process.on('SIGINT', () => undefined);

  start()
    .then(async ({ server, ops: own = {} }) => {
      const ops: OpHandlers = { ...profilingOps(childOptions().profileFile), ...own };
      // The product's own setting (src/index.ts), on every server so they are alike.
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      process.on('message', (message: ChildRequest) => {
        if (message?.type !== 'request') return;
        const handler = ops[message.op];
        if (!handler) {
          send({ type: 'reply', id: message.id, error: `unsupported op ${message.op}` });
          return;
        }
        try {
          send({ type: 'reply', id: message.id, value: handler() });
        } catch (error) {
          send({ type: 'reply', id: message.id, error: String(error) });
        }
      });
      send({ type: 'ready', port: (server.address() as AddressInfo).port });
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      send({ type: 'error', message });
      process.exit(1);
    });
}

/**
 * In-process CPU profiling of a window the parent chooses (steady state, without start-up and
 * seeding), for every server alike. The inspector answers these synchronously on the main
 * thread.
 */
function profilingOps(profileFile: string | undefined): OpHandlers {
  const profiler = new Session();
  return {
    profileStart: () => {
      profiler.connect();
      profiler.post('Profiler.enable');
      profiler.post('Profiler.start');
      return 0;
    },
    profileStop: () => {
      if (!profileFile) throw new Error('profileStop needs the profileFile option');
      let written = false;
      profiler.post('Profiler.stop', (error, result) => {
        if (error) throw error;
        writeFileSync(profileFile, JSON.stringify(result.profile));
        written = true;
      });
      profiler.disconnect();
      if (!written) throw new Error('the profiler did not answer synchronously');
      return 0;
    },
  };
}

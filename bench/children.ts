import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { onExit, onStop } from './lifecycle';
import {
  type ChildMessage,
  type ChildOp,
  type ChildOptions,
  type ChildRequest,
} from './servers/protocol';

export type ServerName = 'hello' | 'rest-peer' | 'product' | 'nest';

export interface ServerChild {
  name: ServerName;
  url: string;
  pid: number;
  /** Asks the child over IPC (see `servers/protocol.ts`). */
  ask(op: ChildOp): Promise<number>;
  stop(): Promise<void>;
}

export interface ForkOptions {
  /** The child's whole environment: nothing of the bench's own leaks into what is measured. */
  env: Record<string, string>;
  options?: ChildOptions;
  /** Extra Node flags, e.g. `--expose-gc` or `--cpu-prof`. */
  nodeFlags?: string[];
}

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** Where `bench/build.ts` puts the compiled servers under test (and the product they import). */
export const BUILD_DIR = path.join(__dirname, 'out', 'build');

/**
 * The Node flags production runs with (`npm start`), plus the bench's extras. Children run
 * compiled JavaScript: no TypeScript loader, nothing of the parent's own flags.
 */
const PRODUCTION_NODE_FLAGS: string[] = [];

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Forks the compiled `servers/<name>.ts` (see `build.ts`), waits until it listens and returns its URL. The child's stdout
 * goes to /dev/null (the product logs there, as it would to a log shipper), stderr stays
 * visible so a crash explains itself.
 */
export function forkServer(name: ServerName, opts: ForkOptions): Promise<ServerChild> {
  const entry = path.join(BUILD_DIR, 'bench', 'servers', `${name}.js`);
  const child = fork(entry, [JSON.stringify(opts.options ?? {})], {
    execArgv: [...PRODUCTION_NODE_FLAGS, ...(opts.nodeFlags ?? [])],
    env: opts.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });

  const pending = new Map<number, { resolve(value: number): void; reject(error: Error): void }>();
  let nextId = 1;

  let stopping = false;
  const stop = async () => {
    stopping = true;
    unregisterStop();
    const done = exited(child);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await done;
    clearTimeout(timer);
    unregisterExit();
  };
  const unregisterStop = onStop(stop);
  const unregisterExit = onExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const ask = (op: ChildOp) =>
    new Promise<number>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ type: 'request', id, op } satisfies ChildRequest, (error) => {
        if (!error) return;
        pending.delete(id);
        reject(error);
      });
    });

  return new Promise((resolve, reject) => {
    let ready = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      if (!ready) void stop().finally(() => reject(error));
    };
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      const error = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
      if (ready && !stopping) process.stderr.write(`bench: ${error.message} unexpectedly\n`);
      fail(error);
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'error') {
        fail(new Error(`${name} failed to start: ${message.message}`));
      } else if (message.type === 'ready') {
        ready = true;
        clearTimeout(timer);
        resolve({ name, url: `http://127.0.0.1:${message.port}`, pid: child.pid!, ask, stop });
      } else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if ('error' in message) waiter?.reject(new Error(`${name}: ${message.error}`));
        else waiter?.resolve(message.value);
      }
    });
  });
}

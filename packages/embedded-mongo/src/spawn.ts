import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';

export interface SpawnedEmbeddedServer {
  uri: string;
  /** The child's process id (tests kill it with SIGKILL to simulate a crash). */
  pid: number;
  stop(): Promise<void>;
}

type ChildMessage = { type: 'ready'; uri: string } | { type: 'error'; message: string };

const STOP_GRACE_MS = 5_000;

/**
 * Node options for the child: the parent's own (so `-r ts-node/register/transpile-only` carries over when
 * running from TypeScript), plus the register hook when the parent runs .ts without it
 * (for example under Jest, which transforms in-process).
 */
function childExecArgv(mainFile: string): string[] {
  const argv: string[] = [];
  const parent = process.execArgv;
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i];
    // The parent's own entry (`-e`/`-p`), watch mode and inspector ports must not be inherited:
    // the child would run the wrong code, watch files itself or fail to bind the port.
    if (['-e', '--eval', '-p', '--print', '--watch-path'].includes(arg)) {
      i++;
      continue;
    }
    if (/^--(eval|print|watch|inspect|debug)/.test(arg)) continue;
    argv.push(arg);
  }
  const hasLoader = argv.some((a) => /ts-node|swc-node|tsx/.test(a));
  if (mainFile.endsWith('.ts') && !hasLoader) argv.push('-r', 'ts-node/register/transpile-only');
  return argv;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Runs the embedded server in a child process (used by `npm start` when MONGODB_URI is unset).
 * The child exits when `stop()` is called or when this process goes away.
 */
export function spawnEmbeddedServer(
  opts: { port?: number; dbpath?: string } = {},
): Promise<SpawnedEmbeddedServer> {
  const mainFile = path.join(__dirname, `main${path.extname(__filename)}`);
  const args = ['--port', String(opts.port ?? 27017)];
  if (opts.dbpath !== undefined) args.push('--dbpath', opts.dbpath);
  const child = fork(mainFile, args, {
    execArgv: childExecArgv(mainFile),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = waitForExit(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(
        new Error(
          `Embedded MongoDB server exited before it was ready (code ${code}, signal ${signal})`,
        ),
      );
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        child.off('exit', onExit);
        resolve({ uri: message.uri, pid: child.pid as number, stop });
      } else if (message.type === 'error') {
        child.off('exit', onExit);
        void stop().finally(() => reject(new Error(message.message)));
      }
    });
  });
}

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface ApiProcess {
  url: string;
  child: ChildProcess;
  /** JSON log lines the process printed so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A database URI with the database name as its path, for MONGODB_URI. */
export function uriWithDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** The port in the "ready" line of development's human-readable (pino-pretty) log. */
const PRETTY_READY = /GraphQL API ready at http:\/\/localhost:(\d+)\//;

/**
 * Runs the real entry point (`src/index.ts`) in its own process, in production mode with JSON
 * logs (unless `env` says otherwise), and resolves once it listens.
 */
export function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      // Required in production; nothing listens on port 9, so a mail fails and is logged.
      SMTP_URL: 'smtp://127.0.0.1:9',
      APP_URL: 'https://app.example.com',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          const ready = PRETTY_READY.exec(line);
          if (!ready) continue;
          entry = { port: Number(ready[1]), msg: 'GraphQL API ready' };
        }
        logs.push(entry);
        if (typeof entry.port === 'number' && String(entry.msg).startsWith('GraphQL API ready')) {
          resolve({
            url: `http://127.0.0.1:${entry.port}`,
            child,
            logs,
            exited,
            async stop(signal = 'SIGTERM') {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
              return exited;
            },
          });
        }
      }
    });
    void exited.then((code) =>
      reject(new Error(`API process exited with ${code} before listening:\n${stderr}`)),
    );
  });
}

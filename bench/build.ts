import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The servers under test run compiled JavaScript, as production does: `tsc` compiles the
 * bench's server entries together with the product's `src/` into bench/out/build (the same
 * compiler options as `npm run build`), incrementally so that a second run costs seconds.
 */
export function buildServers(): void {
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.servers.json')],
    { stdio: 'inherit' },
  );
}

export const NEST_PEER_DIR = path.join(__dirname, 'peers', 'nest');
export const NEST_PEER_ENTRY = path.join(NEST_PEER_DIR, 'dist', 'main.js');

/**
 * The NestJS peer is a package of its own (its own lock file, never in the project's): it is
 * installed on the first run, again whenever its lock file changes, and compiled with its own
 * TypeScript.
 */
export function buildNestPeer(progress: (line: string) => void): void {
  const lock = path.join(NEST_PEER_DIR, 'package-lock.json');
  const installed = path.join(NEST_PEER_DIR, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
    progress('installing the NestJS peer (npm ci in bench/peers/nest, once)');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: NEST_PEER_DIR,
      stdio: 'inherit',
    });
  }
  execFileSync(
    process.execPath,
    [path.join(NEST_PEER_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', NEST_PEER_DIR],
    { stdio: 'inherit' },
  );
}

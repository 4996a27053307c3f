import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Config } from '../config';

/** As many bytes as config.ts generates for a per-process development secret. */
const SECRET_BYTES = 48;

function readSecret(file: string): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').trim();
    return Buffer.byteLength(value) >= 32 ? value : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The JWT configuration to run with: in development without JWT_SECRET, the secret kept in
 * `jwt.secretFile` (created, readable by the owner only, on first start), so that tokens stay
 * valid across restarts just as the embedded database's data does. Config never sets
 * `secretFile` in production.
 */
export function withPersistedDevelopmentSecret(jwt: Config['jwt']): Config['jwt'] {
  const file = jwt.secretFile;
  if (file === undefined) return jwt;
  let secret = readSecret(file);
  if (secret === undefined) {
    secret = randomBytes(SECRET_BYTES).toString('base64url');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  }
  return { ...jwt, secret };
}

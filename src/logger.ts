import pino, { type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { type Config } from './config';

/**
 * Never logged: credentials in headers, and any field that carries a password or a token,
 * wherever it appears in a log object.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
  'variables',
  '*.variables',
];

/** pino-pretty is a dev dependency: absent from a production install. */
function prettyStream(): DestinationStream | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof PinoPretty;
    return pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true });
  } catch {
    return undefined;
  }
}

/**
 * JSON lines in production, written asynchronously and in batches so logging never blocks a
 * request; human readable output in development (pino-pretty, a dev dependency, when
 * installed).
 */
export function createLogger(
  config: Pick<Config, 'env' | 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'graphql-auth-api' },
  };
  if (destination) return pino(options, destination);
  const pretty = config.env === 'development' ? prettyStream() : undefined;
  if (pretty) return pino(options, pretty);
  // Lines are gathered into writes of 4 KB (a dozen request lines) rather than one write, and
  // one trip through the thread pool, per line; a timer flushes a quiet server's lines within
  // a second, and pino flushes what is left when the process exits.
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => stdout.flush(), 1000).unref();
  return pino(options, stdout);
}

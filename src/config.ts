import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseDurationSeconds } from './common/duration';

/**
 * The one place that reads the environment. Everything else receives a typed, validated
 * `Config`, so a bad setting stops the process at start with a message naming the variable,
 * instead of surfacing later as a confusing runtime error.
 */

const MIN_SECRET_BYTES = 32;
/** Where a front end would run in development; production must say (APP_URL). */
const DEFAULT_APP_URL = 'http://localhost:3000';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const seconds = parseDurationSeconds(value);
      if (seconds === undefined || seconds <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected seconds or a duration like 15m, 7d` });
        return z.NEVER;
      }
      return seconds;
    });

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) => z.stringbool().default(fallback);

const list = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/**
 * Operations limited per client address and per target account, with their defaults. A value
 * is `points/window` (`20/1h`: 20 calls an hour) or `off`. Each resolver call counts, so
 * aliases and retries count too. The env var of a limit is RATE_LIMIT_<OPERATION>_PER_IP or
 * _PER_ACCOUNT (`signUp` → `RATE_LIMIT_SIGN_UP_PER_IP`).
 */
export const RATE_LIMIT_DEFAULTS = {
  register: { ip: '20/1h', account: '5/1h' },
  signUp: { ip: '20/1h', account: '5/1h' },
  login: { ip: '300/15m', account: 'off' },
  requestPasswordReset: { ip: '20/1h', account: '5/1h' },
  resendVerificationEmail: { ip: '20/1h', account: '5/1h' },
  resetPassword: { ip: '30/1h', account: '10/1h' },
  changeEmail: { ip: '30/1h', account: '10/1h' },
  changePassword: { ip: '30/1h', account: '10/1h' },
} as const satisfies Record<string, { ip: string; account: string }>;
export type RateLimitedOperation = keyof typeof RATE_LIMIT_DEFAULTS;
export type RateLimitScope = 'ip' | 'account';
export interface RateLimit {
  points: number;
  windowSeconds: number;
}

const rateLimitEnvName = (operation: string, scope: RateLimitScope) =>
  `RATE_LIMIT_${operation.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_PER_${scope === 'ip' ? 'IP' : 'ACCOUNT'}`;

const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx): RateLimit | undefined => {
      if (value.trim().toLowerCase() === 'off') return undefined;
      const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value);
      const points = match ? Number(match[1]) : NaN;
      const windowSeconds = match ? parseDurationSeconds(match[2]!) : undefined;
      if (!(points >= 1 && points <= 1_000_000) || !windowSeconds || windowSeconds <= 0) {
        ctx.addIssue({ code: 'custom', message: 'expected points/window like 20/1h, or off' });
        return z.NEVER;
      }
      return { points, windowSeconds };
    });

const rateLimitEnv = Object.fromEntries(
  Object.entries(RATE_LIMIT_DEFAULTS).flatMap(([operation, defaults]) =>
    (['ip', 'account'] as const).map((scope) => [
      rateLimitEnvName(operation, scope),
      rateLimit(defaults[scope]),
    ]),
  ),
);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(4000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  MONGODB_URI: optionalString,
  EMBEDDED_DB_PATH: z.string().min(1).default('.data/db'),

  JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).default('HS256'),
  JWT_SECRET: optionalString,
  JWT_PREVIOUS_SECRETS: list,
  JWT_PRIVATE_KEY: optionalString,
  JWT_PRIVATE_KEY_FILE: optionalString,
  JWT_PUBLIC_KEY: optionalString,
  JWT_PUBLIC_KEY_FILE: optionalString,
  JWT_PREVIOUS_PUBLIC_KEYS: optionalString,
  JWT_PREVIOUS_PUBLIC_KEYS_FILE: optionalString,
  JWT_ISSUER: z.string().min(1).default('graphql-auth-api'),
  JWT_AUDIENCE: z.string().min(1).default('graphql-auth-api'),
  JWT_CLOCK_TOLERANCE: int(0, 0, 30),
  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('7d'),
  REFRESH_TOKEN_IDLE_TTL: duration('3d'),
  REFRESH_TOKEN_COOKIE: bool(false),
  REFRESH_REUSE_GRACE: int(10, 0, 60),
  AUTH_REVALIDATE_SECONDS: int(5, 0, 300),

  ARGON2_MEMORY_KIB: int(19456, 19456, 1048576),
  ARGON2_TIME_COST: int(2, 2, 20),
  ARGON2_PARALLELISM: int(1, 1, 16),

  LOGIN_MAX_FAILURES: int(10, 1, 1000),
  LOGIN_MAX_FAILURES_PER_IP: int(100, 1, 100000),
  LOGIN_FAILURE_WINDOW: duration('15m'),
  LOGIN_DEVICE_TTL: duration('30d'),
  TRUST_PROXY: z.string().default('false'),
  ARGON2_QUEUE_MAX: int(64, 1, 10000),
  ARGON2_QUEUE_PER_CLIENT: int(8, 1, 10000),
  THREAD_POOL_NICE: int(19, 0, 19),
  THREAD_POOL_IDLE: bool(true),
  MAX_SESSIONS_PER_USER: int(20, 1, 10000),
  MAX_TODOS_PER_USER: int(1000, 1, 10_000_000),
  MAX_CONCURRENT_REQUESTS_PER_IP: int(8, 1, 100_000),
  MAX_CONCURRENT_REQUESTS_PER_REFUSED_IP: int(1, 1, 100_000),
  MAX_QUEUED_REQUESTS_PER_IP: int(64, 0, 100_000),

  ADMIN_EMAIL: optionalString,
  ADMIN_PASSWORD: optionalString,
  ADMIN_NAME: z.string().default('Administrator'),

  GRAPHQL_MAX_DEPTH: int(10, 2, 50),
  GRAPHQL_MAX_ALIASES: int(15, 0, 100),
  GRAPHQL_MAX_COST: int(5000, 10, 1000000),
  GRAPHQL_MAX_DIRECTIVES: int(50, 0, 500),
  GRAPHQL_MAX_TOKENS: int(1000, 50, 100000),
  BODY_LIMIT: z.string().default('100kb'),
  CORS_ORIGINS: list,

  AUDIT_RETENTION: duration('90d'),
  SHUTDOWN_TIMEOUT: duration('10s'),
  ...rateLimitEnv,

  WS_MAX_SUBSCRIPTIONS: int(10, 1, 1000),
  WS_MAX_SOCKETS_PER_IP: int(64, 1, 1_000_000),
  WS_MAX_MESSAGE_BYTES: int(65536, 1024, 16777216),
  WS_INIT_TIMEOUT: duration('3s'),
  WS_EVENT_POLL_MS: int(250, 20, 5000),

  SMTP_URL: optionalString,
  MAIL_FROM: z.string().min(3).default('GraphQL Auth API <no-reply@localhost>'),
  APP_URL: optionalString,
  MAIL_SEND_ATTEMPTS: int(4, 1, 10),
  MAIL_RETRY_DELAY_MS: int(2000, 10, 600000),
  EMAIL_VERIFICATION: z.enum(['optional', 'required']).default('optional'),
  PASSWORD_RESET_TTL: duration('30m'),
  EMAIL_TOKEN_TTL: duration('24h'),
  PASSWORD_MIN_SCORE: int(3, 0, 4),
});

export type Environment = 'development' | 'test' | 'production';
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export interface Config {
  env: Environment;
  isProduction: boolean;
  port: number;
  host: string;
  logLevel: string;
  /** Unset outside production: the embedded database is started instead. */
  mongodbUri: string | undefined;
  /** Where the embedded database keeps its data (absolute); undefined: in memory. */
  embeddedDbPath: string | undefined;
  jwt: {
    algorithm: JwtAlgorithm;
    /** HS256: the current secret and the ones still accepted for verification. */
    secret: string | undefined;
    previousSecrets: string[];
    /** RS256/ES256: PEM text. */
    privateKey: string | undefined;
    publicKey: string | undefined;
    previousPublicKeys: string[];
    issuer: string;
    audience: string;
    clockToleranceSeconds: number;
    /** True when the secret was generated for this process (development only). */
    secretWasGenerated: boolean;
    /**
     * Development without JWT_SECRET, with the embedded database on disk: the generated secret
     * is kept in this file (next to the data), so tokens survive restarts as the data does.
     */
    secretFile: string | undefined;
  };
  tokens: {
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    refreshIdleTtlSeconds: number;
    refreshInCookie: boolean;
    revalidateSeconds: number;
    /** A refresh token spent less than this long ago is answered, not treated as reuse. */
    refreshReuseGraceSeconds: number;
  };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  loginThrottle: {
    maxFailuresPerAccount: number;
    maxFailuresPerIp: number;
    windowSeconds: number;
    /** How long a device cookie, or an address that signed in, stays trusted. */
    deviceTtlSeconds: number;
  };
  /** Calls allowed per client address and per account, by operation; undefined: no limit. */
  rateLimits: Record<RateLimitedOperation, Record<RateLimitScope, RateLimit | undefined>>;
  /** Fair admission to argon2: waiting hashes in all, and per client address. */
  hashQueue: { max: number; perClient: number };
  /** How many nice levels below the event loop libuv's pool (argon2) runs; 0 = the same. */
  threadPoolNice: number;
  /** With threadPoolNice > 0: the pool's threads run under SCHED_IDLE as well (Linux). */
  threadPoolIdle: boolean;
  quotas: { sessionsPerUser: number; todosPerUser: number };
  /** GraphQL requests per client address in progress at once, and waiting beyond that. */
  addressConcurrency: {
    /** Requests of one address in progress at once. */
    running: number;
    /** The same while the address is being answered 429 (until its last Retry-After). */
    runningWhenRefused: number;
    /** Requests of one address waiting for a slot; beyond this, 429 at once. */
    queued: number;
  };
  /** Express `trust proxy` value: false, true, a hop count or a list of addresses/subnets. */
  trustProxy: boolean | number | string[];
  admin: { email: string | undefined; password: string | undefined; name: string };
  graphql: {
    maxDepth: number;
    maxAliases: number;
    maxCost: number;
    maxDirectives: number;
    maxTokens: number;
    bodyLimit: string;
    corsOrigins: string[];
  };
  auditRetentionSeconds: number;
  shutdownTimeoutSeconds: number;
  subscriptions: {
    /** Active operations one socket may hold at once. */
    maxPerSocket: number;
    /** Open sockets of one client address; beyond, the handshake is answered 429. */
    maxSocketsPerAddress: number;
    /** Largest WebSocket message accepted (bytes); larger ones close the socket (1009). */
    maxMessageBytes: number;
    /** How long a new socket may take to send `connection_init`. */
    initTimeoutSeconds: number;
    /** How often an instance with subscribers reads the events other instances wrote. */
    eventPollMs: number;
  };
  mail: {
    /** Unset outside production: each mail is logged (recipient, subject, link) instead. */
    smtpUrl: string | undefined;
    from: string;
    /** Base of every link in a mail: `${appUrl}/<page>?token=<token>`. */
    appUrl: string;
    sendAttempts: number;
    /** Delay before the first retry; each further retry waits twice as long. */
    retryDelayMs: number;
  };
  accounts: {
    emailVerification: 'optional' | 'required';
    passwordResetTtlSeconds: number;
    emailTokenTtlSeconds: number;
    /** zxcvbn score (0 to 4) a new password needs. */
    passwordMinScore: number;
  };
  /** Problems worth a warning at start (not fatal). */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g;

function readPem(
  inline: string | undefined,
  file: string | undefined,
  name: string,
): string | undefined {
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError([`set ${name} or ${name}_FILE, not both`]);
  }
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([`${name}_FILE: cannot read ${file} (${(error as Error).message})`]);
    }
  }
  // Environment variables often carry PEM with literal "\n" sequences.
  return inline?.replace(/\\n/g, '\n');
}

function parseTrustProxy(value: string): Config['trustProxy'] {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === '' || trimmed === 'false' || trimmed === '0') return false;
  if (trimmed === 'true') return true;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function rateLimitsOf(parsed: Record<string, RateLimit | undefined>): Config['rateLimits'] {
  const entries = Object.keys(RATE_LIMIT_DEFAULTS).map((operation) => [
    operation,
    {
      ip: parsed[rateLimitEnvName(operation, 'ip')],
      account: parsed[rateLimitEnvName(operation, 'account')],
    },
  ]);
  return Object.fromEntries(entries) as Config['rateLimits'];
}

/** Validates the environment; throws `ConfigError` listing every problem at once. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  const problems: string[] = [];
  const warnings: string[] = [];

  if (isProduction && !env.MONGODB_URI) {
    problems.push('MONGODB_URI is required in production (the embedded database is in memory)');
  }

  const embeddedDbPath =
    env.EMBEDDED_DB_PATH === ':memory:' ? undefined : resolve(env.EMBEDDED_DB_PATH);
  let secret = env.JWT_SECRET;
  let secretWasGenerated = false;
  let secretFile: string | undefined;
  const privateKey = readPem(env.JWT_PRIVATE_KEY, env.JWT_PRIVATE_KEY_FILE, 'JWT_PRIVATE_KEY');
  const publicKey = readPem(env.JWT_PUBLIC_KEY, env.JWT_PUBLIC_KEY_FILE, 'JWT_PUBLIC_KEY');
  const previousPem = readPem(
    env.JWT_PREVIOUS_PUBLIC_KEYS,
    env.JWT_PREVIOUS_PUBLIC_KEYS_FILE,
    'JWT_PREVIOUS_PUBLIC_KEYS',
  );
  const previousPublicKeys = previousPem?.match(PEM_BLOCK) ?? [];

  if (env.JWT_ALGORITHM === 'HS256') {
    const weak = (value: string) => Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES;
    if (!secret) {
      if (isProduction) {
        problems.push('JWT_SECRET is required in production (at least 32 random bytes)');
      } else {
        secret = randomBytes(48).toString('base64url');
        secretWasGenerated = true;
        const keep = env.NODE_ENV === 'development' && !env.MONGODB_URI && embeddedDbPath;
        if (keep) {
          secretFile = join(embeddedDbPath, 'dev-jwt-secret');
          warnings.push(`JWT_SECRET is not set: using a development secret kept in ${secretFile}`);
        } else {
          warnings.push(
            'JWT_SECRET is not set: using a random secret for this process; tokens stop working on restart',
          );
        }
      }
    } else if (weak(secret)) {
      const message = `JWT_SECRET is too short: at least ${MIN_SECRET_BYTES} bytes (256 bits) of random data`;
      if (isProduction) problems.push(message);
      else warnings.push(message);
    }
    if (env.JWT_PREVIOUS_SECRETS.some(weak)) {
      problems.push(`JWT_PREVIOUS_SECRETS: every secret needs at least ${MIN_SECRET_BYTES} bytes`);
    }
  } else {
    if (!privateKey)
      problems.push(`JWT_PRIVATE_KEY (or _FILE) is required for ${env.JWT_ALGORITHM}`);
    if (!publicKey) problems.push(`JWT_PUBLIC_KEY (or _FILE) is required for ${env.JWT_ALGORITHM}`);
    if (previousPem && previousPublicKeys.length === 0) {
      problems.push('JWT_PREVIOUS_PUBLIC_KEYS holds no PEM block');
    }
  }

  if (env.REFRESH_TOKEN_TTL > 30 * 86400) {
    problems.push('REFRESH_TOKEN_TTL may be at most 30d (RFC 9700 / ASVS absolute lifetime)');
  }
  if (env.ACCESS_TOKEN_TTL >= env.REFRESH_TOKEN_TTL) {
    problems.push('ACCESS_TOKEN_TTL must be shorter than REFRESH_TOKEN_TTL');
  }
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD go together: set both or neither');
  }
  if (isProduction && env.CORS_ORIGINS.includes('*')) {
    problems.push('CORS_ORIGINS may not contain * in production');
  }

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (isProduction && trustProxy === true) {
    warnings.push(
      'TRUST_PROXY=true believes any X-Forwarded-For a client writes: every per-address limit can then be dodged by sending a new address each time. Set the number of proxy hops or the proxy addresses instead',
    );
  }
  if (isProduction && !env.SMTP_URL) {
    problems.push('SMTP_URL is required in production (smtp:// or smtps://, with credentials)');
  }
  if (env.SMTP_URL && !/^smtps?:\/\/[^/\s]+/i.test(env.SMTP_URL)) {
    problems.push('SMTP_URL: expected smtp://user:pass@host:port or smtps://…');
  }
  if (isProduction && !env.APP_URL) {
    problems.push('APP_URL is required in production (the base of the links in mails)');
  }
  if (env.APP_URL && !/^https?:\/\/[^/\s]+/i.test(env.APP_URL)) {
    problems.push('APP_URL: expected an http:// or https:// address');
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    mongodbUri: env.MONGODB_URI,
    embeddedDbPath,
    jwt: {
      algorithm: env.JWT_ALGORITHM,
      secret,
      previousSecrets: env.JWT_PREVIOUS_SECRETS,
      privateKey,
      publicKey,
      previousPublicKeys,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE,
      secretWasGenerated,
      secretFile,
    },
    tokens: {
      accessTtlSeconds: env.ACCESS_TOKEN_TTL,
      refreshTtlSeconds: env.REFRESH_TOKEN_TTL,
      refreshIdleTtlSeconds: env.REFRESH_TOKEN_IDLE_TTL,
      refreshInCookie: env.REFRESH_TOKEN_COOKIE,
      revalidateSeconds: env.AUTH_REVALIDATE_SECONDS,
      refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE,
    },
    argon2: {
      memoryCost: env.ARGON2_MEMORY_KIB,
      timeCost: env.ARGON2_TIME_COST,
      parallelism: env.ARGON2_PARALLELISM,
    },
    loginThrottle: {
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES,
      maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: env.LOGIN_FAILURE_WINDOW,
      deviceTtlSeconds: env.LOGIN_DEVICE_TTL,
    },
    rateLimits: rateLimitsOf(env as unknown as Record<string, RateLimit | undefined>),
    hashQueue: { max: env.ARGON2_QUEUE_MAX, perClient: env.ARGON2_QUEUE_PER_CLIENT },
    threadPoolNice: env.THREAD_POOL_NICE,
    threadPoolIdle: env.THREAD_POOL_IDLE,
    quotas: { sessionsPerUser: env.MAX_SESSIONS_PER_USER, todosPerUser: env.MAX_TODOS_PER_USER },
    addressConcurrency: {
      running: env.MAX_CONCURRENT_REQUESTS_PER_IP,
      runningWhenRefused: Math.min(
        env.MAX_CONCURRENT_REQUESTS_PER_REFUSED_IP,
        env.MAX_CONCURRENT_REQUESTS_PER_IP,
      ),
      queued: env.MAX_QUEUED_REQUESTS_PER_IP,
    },
    trustProxy,
    admin: { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, name: env.ADMIN_NAME },
    graphql: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxCost: env.GRAPHQL_MAX_COST,
      maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: env.GRAPHQL_MAX_TOKENS,
      bodyLimit: env.BODY_LIMIT,
      corsOrigins: env.CORS_ORIGINS,
    },
    auditRetentionSeconds: env.AUDIT_RETENTION,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT,
    subscriptions: {
      maxPerSocket: env.WS_MAX_SUBSCRIPTIONS,
      maxSocketsPerAddress: env.WS_MAX_SOCKETS_PER_IP,
      maxMessageBytes: env.WS_MAX_MESSAGE_BYTES,
      initTimeoutSeconds: env.WS_INIT_TIMEOUT,
      eventPollMs: env.WS_EVENT_POLL_MS,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      appUrl: (env.APP_URL ?? DEFAULT_APP_URL).replace(/\/+$/, ''),
      sendAttempts: env.MAIL_SEND_ATTEMPTS,
      retryDelayMs: env.MAIL_RETRY_DELAY_MS,
    },
    accounts: {
      emailVerification: env.EMAIL_VERIFICATION,
      passwordResetTtlSeconds: env.PASSWORD_RESET_TTL,
      emailTokenTtlSeconds: env.EMAIL_TOKEN_TTL,
      passwordMinScore: env.PASSWORD_MIN_SCORE,
    },
    warnings,
  };
}

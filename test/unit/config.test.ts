import { parseDurationSeconds } from '../../src/common/duration';
import { ConfigError, loadConfig } from '../../src/config';

const strongSecret = 'x'.repeat(32);

describe('durations', () => {
  it.each([
    ['900', 900],
    ['90s', 90],
    ['15m', 900],
    ['12h', 43200],
    ['7d', 604800],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', '15 minutes', '-5m', '1.5h', 'm'])('refuses %p', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ JWT_SECRET: strongSecret });
    expect(config.port).toBe(4000);
    expect(config.tokens).toMatchObject({
      accessTtlSeconds: 900,
      refreshTtlSeconds: 7 * 86400,
      revalidateSeconds: 5,
      refreshInCookie: false,
    });
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', clockToleranceSeconds: 0 });
    expect(config.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(config.loginThrottle).toEqual({
      maxFailuresPerAccount: 10,
      maxFailuresPerIp: 100,
      windowSeconds: 900,
      deviceTtlSeconds: 30 * 24 * 3600,
    });
  });

  it('accepts lifetimes as seconds or with a unit', () => {
    const config = loadConfig({
      JWT_SECRET: strongSecret,
      ACCESS_TOKEN_TTL: '600',
      REFRESH_TOKEN_TTL: '2d',
    });
    expect(config.tokens.accessTtlSeconds).toBe(600);
    expect(config.tokens.refreshTtlSeconds).toBe(172800);
  });

  it('generates a secret with a warning in development when none is set', () => {
    const config = loadConfig({});
    expect(config.jwt.secretWasGenerated).toBe(true);
    expect(Buffer.byteLength(config.jwt.secret!)).toBeGreaterThanOrEqual(32);
    expect(config.warnings.join(' ')).toMatch(/JWT_SECRET is not set/);
  });

  it('keeps the development secret next to the embedded data, and only there', () => {
    const dev = loadConfig({ EMBEDDED_DB_PATH: '/tmp/some-data/db' });
    expect(dev.embeddedDbPath).toBe('/tmp/some-data/db');
    expect(dev.jwt.secretFile).toBe('/tmp/some-data/db/dev-jwt-secret');
    expect(loadConfig({}).embeddedDbPath).toMatch(/[/\\]\.data[/\\]db$/);
    const inMemory = loadConfig({ EMBEDDED_DB_PATH: ':memory:' });
    expect(inMemory.embeddedDbPath).toBeUndefined();
    expect(inMemory.jwt.secretFile).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test' }).jwt.secretFile).toBeUndefined();
    expect(loadConfig({ MONGODB_URI: 'mongodb://db/x' }).jwt.secretFile).toBeUndefined();
    expect(loadConfig({ JWT_SECRET: strongSecret }).jwt.secretFile).toBeUndefined();
  });

  it('refuses to start in production without a secret or a database', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/JWT_SECRET is required/);
      expect(problems).toMatch(/MONGODB_URI is required/);
    }
  });

  it('refuses a secret shorter than 32 bytes in production', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://db',
        JWT_SECRET: 'short-secret',
      }),
    ).toThrow(/too short/);
  });

  it('starts in production with a strong secret, a database, SMTP and the app address', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db',
      JWT_SECRET: strongSecret,
      SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465',
      APP_URL: 'https://app.example.com/',
    });
    expect(config.isProduction).toBe(true);
    expect(config.mail).toMatchObject({
      smtpUrl: 'smtps://mailer:secret@smtp.example.com:465',
      appUrl: 'https://app.example.com',
    });
  });

  it('refuses to start in production without SMTP_URL or APP_URL', () => {
    const production = {
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db',
      JWT_SECRET: strongSecret,
    };
    expect(() => loadConfig({ ...production, APP_URL: 'https://app.example.com' })).toThrow(
      /SMTP_URL is required in production/,
    );
    expect(() => loadConfig({ ...production, SMTP_URL: 'smtp://smtp.example.com' })).toThrow(
      /APP_URL is required in production/,
    );
  });

  it('applies the documented defaults for accounts over email', () => {
    const config = loadConfig({ JWT_SECRET: strongSecret });
    expect(config.mail).toMatchObject({
      smtpUrl: undefined,
      appUrl: 'http://localhost:3000',
      sendAttempts: 4,
      retryDelayMs: 2000,
    });
    expect(config.accounts).toEqual({
      emailVerification: 'optional',
      passwordResetTtlSeconds: 1800,
      emailTokenTtlSeconds: 86400,
      passwordMinScore: 3,
    });
  });

  it.each([
    [{ ACCESS_TOKEN_TTL: 'soon' }, /ACCESS_TOKEN_TTL/],
    [{ JWT_CLOCK_TOLERANCE: '60' }, /JWT_CLOCK_TOLERANCE/],
    [{ REFRESH_TOKEN_TTL: '60d' }, /at most 30d/],
    [{ ADMIN_EMAIL: 'a@b.co' }, /ADMIN_EMAIL and ADMIN_PASSWORD go together/],
    [{ JWT_ALGORITHM: 'HS512' }, /JWT_ALGORITHM/],
    [{ JWT_ALGORITHM: 'RS256' }, /JWT_PRIVATE_KEY/],
    [{ SMTP_URL: 'http://smtp.example.com' }, /SMTP_URL/],
    [{ APP_URL: 'app.example.com' }, /APP_URL/],
    [{ EMAIL_VERIFICATION: 'sometimes' }, /EMAIL_VERIFICATION/],
    [{ PASSWORD_MIN_SCORE: '5' }, /PASSWORD_MIN_SCORE/],
    [{ PASSWORD_RESET_TTL: 'soon' }, /PASSWORD_RESET_TTL/],
  ])('names the variable of a bad setting (%o)', (env, message) => {
    expect(() => loadConfig({ JWT_SECRET: strongSecret, ...env })).toThrow(message);
  });
});

import { randomBytes } from 'node:crypto';
import { type Logger } from 'pino';
import { type Config, ConfigError } from '../config';
import { BadUserInputError } from '../common/errors';
import { emailSchema, nameSchema } from '../common/validation';
import { type Services } from '../services';
import { Role } from './role';

export const DEFAULT_DEV_ADMIN_EMAIL = 'admin@example.com';

export type AdminOutcome = 'created' | 'exists' | 'conflict';

/**
 * Makes sure an admin with this email exists: created once, never duplicated (the unique email
 * index decides races between instances). An existing *customer* with that email is left
 * alone: promoting it would hand admin rights to whoever registered the address first.
 */
export async function ensureAdmin(
  services: Pick<Services, 'users' | 'passwords' | 'passwordPolicy'>,
  admin: { email: string; password: string; name: string },
): Promise<AdminOutcome> {
  const parse = <T>(result: { success: true; data: T } | { success: false }, what: string): T => {
    if (!result.success) throw new ConfigError([`admin ${what} does not meet the account rules`]);
    return result.data;
  };
  const email = parse(emailSchema.safeParse(admin.email), 'email');
  const name = parse(nameSchema.safeParse(admin.name), 'name');
  let password: string;
  try {
    password = await services.passwordPolicy.accept(admin.password, { email, name }, 'password');
  } catch (error) {
    if (!(error instanceof BadUserInputError)) throw error;
    throw new ConfigError([`admin password does not meet the account rules: ${error.message}`]);
  }

  const existing = await services.users.findByEmail(email);
  if (existing) {
    if (existing.role !== Role.ADMIN) return 'conflict';
    // The operator chose this address: it counts as verified (also for admins made before
    // verification existed, who could not sign in once it is required).
    if (!existing.emailVerified) await services.users.markEmailVerified(existing.id, email);
    return 'exists';
  }
  try {
    await services.users.create({
      email,
      name,
      role: Role.ADMIN,
      passwordHash: await services.passwords.hash(password),
      emailVerified: true,
    });
    return 'created';
  } catch (error) {
    if (error instanceof BadUserInputError) return 'exists';
    throw error;
  }
}

/**
 * ADMIN_EMAIL + ADMIN_PASSWORD: that admin exists after start. In development with neither,
 * a default admin is created and its credentials printed once, so a newcomer can try admin
 * queries in Sandbox straight away.
 */
export async function bootstrapAdmin(
  config: Config,
  services: Services,
  logger: Logger,
): Promise<void> {
  const { email, password, name } = config.admin;
  if (email && password) {
    const outcome = await ensureAdmin(services, { email, password, name });
    if (outcome === 'conflict') {
      logger.error({ email }, 'ADMIN_EMAIL belongs to a non-admin account; it was not promoted');
    } else {
      logger.info({ email, outcome }, 'admin account checked');
    }
    return;
  }
  if (config.env !== 'development') return;
  const generated = randomBytes(12).toString('base64url');
  const outcome = await ensureAdmin(services, {
    email: DEFAULT_DEV_ADMIN_EMAIL,
    password: generated,
    name,
  });
  if (outcome === 'created') {
    logger.warn({ email: DEFAULT_DEV_ADMIN_EMAIL }, 'development admin created');
    // Straight to the terminal, once, and never into the structured log.
    process.stdout.write(
      `\n  Development admin: ${DEFAULT_DEV_ADMIN_EMAIL}  password: ${generated}\n` +
        '  (shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to choose your own)\n\n',
    );
  }
}

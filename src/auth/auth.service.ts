import { createHash } from 'node:crypto';
import { type Logger } from 'pino';
import {
  BadUserInputError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
} from '../common/errors';
import { type RequestMeta } from '../common/request-meta';
import {
  PASSWORD_MAX,
  canonicalEmail,
  emailSchema,
  nameSchema,
  passwordSchema,
  validate,
} from '../common/validation';
import { type AuditService } from '../audit/audit.service';
import { type UserService } from '../users/user.service';
import { type Principal } from '../users/user.mapper';
import { type LoginThrottle, LoginThrottledError } from './login-throttle';
import { type PasswordHasher } from './passwords';
import { type SessionService } from './session.service';
import { type TokenService } from './tokens';

/** What a successful sign-in hands back; the resolver decides where the refresh token goes. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: Principal;
}

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

export class AuthService {
  constructor(
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly passwords: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly logger: Logger,
  ) {}

  async register(input: RegisterInput, meta: RequestMeta): Promise<IssuedTokens> {
    const email = validate(emailSchema, input.email, 'email');
    const password = validate(passwordSchema, input.password, 'password');
    const name = validate(nameSchema, input.name, 'name');
    const user = await this.users.create({
      email,
      name,
      role: 'customer',
      passwordHash: await this.passwords.hash(password),
    });
    await this.audit.record({ type: 'USER_REGISTERED', userId: user.id }, meta);
    return this.issue(user, meta);
  }

  /**
   * Unknown email, wrong password: one error, one message, and the same argon2 work, so
   * neither the answer nor its timing tells whether the account exists.
   */
  async login(rawEmail: string, rawPassword: string, meta: RequestMeta): Promise<IssuedTokens> {
    // Longer than any password we accept: refuse before hashing megabytes.
    if ([...rawPassword].length > PASSWORD_MAX) {
      throw new BadUserInputError(
        `Password may have at most ${PASSWORD_MAX} characters`,
        'password',
      );
    }
    const email = canonicalEmail(rawEmail);
    const password = rawPassword.normalize('NFKC');

    let succeeded: () => Promise<void>;
    try {
      succeeded = await this.throttle.attempt(email, meta.ip);
    } catch (error) {
      // One event per window, so a throttled attacker cannot fill the audit log.
      if (error instanceof LoginThrottledError && error.firstRefusal) {
        await this.audit.record(
          { type: 'LOGIN_THROTTLED', details: { emailHash: hashForLog(email) } },
          meta,
        );
      }
      throw error;
    }

    const account = await this.users.findWithPasswordHash(email);
    const ok = account
      ? await this.passwords.verify(account.passwordHash, password)
      : await this.passwords.verifyUnknown(password);
    if (!account || !ok) {
      await this.audit.record(
        {
          type: 'LOGIN_FAILED',
          userId: account?.user.id ?? null,
          details: { emailHash: hashForLog(email) },
        },
        meta,
      );
      throw new InvalidCredentialsError();
    }

    await succeeded();
    if (this.passwords.needsRehash(account.passwordHash)) {
      // Parameters were raised since this hash was made; the plain password is at hand only now.
      await this.users.replacePasswordHash(
        account.user.id,
        await this.passwords.hash(password),
        false,
      );
      this.logger.info({ userId: account.user.id }, 'password re-hashed with current parameters');
    }
    await this.audit.record({ type: 'LOGIN_SUCCEEDED', userId: account.user.id }, meta);
    return this.issue(account.user, meta);
  }

  async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens> {
    const rotated = await this.sessions.rotate(refreshToken, meta);
    const user = await this.users.findPrincipal(rotated.userId);
    // A credential event (logoutAll, password or role change) that raced this family's
    // creation or this refresh: the family must not outlive it.
    if (!user || user.credentialVersion !== rotated.credentialVersion) {
      await this.sessions.endFamily(rotated.sessionId, 'credentials-changed');
      throw new InvalidRefreshTokenError();
    }
    return {
      accessToken: this.tokens.signAccess(user, rotated.sessionId),
      refreshToken: rotated.refreshToken,
      expiresIn: this.tokens.accessTtlSeconds,
      user,
    };
  }

  async logout(
    refreshToken: string,
    caller: Principal | undefined,
    meta: RequestMeta,
  ): Promise<boolean> {
    const ended = await this.sessions.end(refreshToken, meta, caller?.id);
    await this.audit.record(
      { type: 'LOGOUT', userId: ended.userId, details: { sessionId: ended.sessionId } },
      meta,
    );
    return true;
  }

  /** Ends every session at once and makes every access token issued so far stop working. */
  async logoutAll(user: Principal, meta: RequestMeta): Promise<boolean> {
    await this.users.bumpCredentialVersion(user.id);
    const sessions = await this.sessions.endAll(user.id, 'logout-all');
    await this.audit.record({ type: 'LOGOUT_ALL', userId: user.id, details: { sessions } }, meta);
    return true;
  }

  async changePassword(
    user: Principal,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const next = validate(passwordSchema, newPassword, 'newPassword');
    if ([...currentPassword].length > PASSWORD_MAX) throw new InvalidCredentialsError();
    // Guessing the current password here is a login attempt like any other.
    const succeeded = await this.throttle.attempt(user.email, meta.ip);
    const account = await this.users.findWithPasswordHash(user.email);
    if (
      !account ||
      !(await this.passwords.verify(account.passwordHash, currentPassword.normalize('NFKC')))
    ) {
      await this.audit.record(
        { type: 'LOGIN_FAILED', userId: user.id, details: { via: 'changePassword' } },
        meta,
      );
      throw new InvalidCredentialsError();
    }
    await succeeded();
    if (await this.passwords.verify(account.passwordHash, next)) {
      throw new BadUserInputError(
        'The new password must differ from the current one',
        'newPassword',
      );
    }
    const updated = await this.users.replacePasswordHash(
      user.id,
      await this.passwords.hash(next),
      true,
    );
    await this.sessions.endAll(user.id, 'password-changed');
    await this.audit.record({ type: 'PASSWORD_CHANGED', userId: user.id }, meta);
    return this.issue(updated, meta);
  }

  private async issue(user: Principal, meta: RequestMeta): Promise<IssuedTokens> {
    const session = await this.sessions.start(user, meta);
    return {
      accessToken: this.tokens.signAccess(user, session.sessionId),
      refreshToken: session.refreshToken,
      expiresIn: this.tokens.accessTtlSeconds,
      user,
    };
  }
}

/** Lets an operator correlate failed attempts on one address without logging the address. */
function hashForLog(email: string): string {
  return createHash('sha256').update(email).digest('hex').slice(0, 16);
}

import {
  BadUserInputError,
  EmailNotVerifiedError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
} from '../common/errors';
import { type RequestMeta } from '../common/request-meta';
import { type Config } from '../config';
import { PASSWORD_MAX, emailSchema, nameSchema, validate } from '../common/validation';
import { type AccountsService } from '../accounts/accounts.service';
import { type AuditService } from '../audit/audit.service';
import { Role } from '../users/role';
import { type UserService } from '../users/user.service';
import { type Principal } from '../users/principal';
import { type RegisterInput } from './auth.types';
import { type Credentials } from './credentials';
import { type LoginThrottle } from './login-throttle';
import { type RateLimits } from './rate-limits';
import { type PasswordPolicy } from './password-policy';
import { type PasswordHasher } from './passwords';
import { type SessionService } from './session.service';
import { type TokenService } from './tokens';

/** What a successful sign-in hands back; the resolver decides where the refresh token goes. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: Principal;
  /** A device cookie for the client that just signed in with its password. */
  deviceToken?: string;
}

export class AuthService {
  constructor(
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly tokens: TokenService,
    private readonly passwords: PasswordHasher,
    private readonly credentials: Credentials,
    private readonly audit: AuditService,
    private readonly limits: RateLimits,
    private readonly throttle: LoginThrottle,
    private readonly policy: PasswordPolicy,
    private readonly accounts: AccountsService,
    private readonly emailVerification: Config['accounts']['emailVerification'],
  ) {}

  /**
   * Optional verification: an unverified account, signed in at once, and a verification
   * mail. Required verification: nothing is created (clients use signUp).
   */
  async register(input: RegisterInput, meta: RequestMeta): Promise<IssuedTokens> {
    await this.limits.consume('register', { ip: meta.ip, account: input.email });
    if (this.emailVerification === 'required') {
      throw new EmailNotVerifiedError(
        'Email verification is required: sign up with signUp and follow the link in the mail',
      );
    }
    const email = validate(emailSchema, input.email, 'email');
    const name = validate(nameSchema, input.name, 'name');
    const password = await this.policy.accept(input.password, { email, name }, 'password');
    // Hashed before the unique index is asked, so a taken email costs what a new one costs.
    const user = await this.users.create({
      email,
      name,
      role: Role.CUSTOMER,
      passwordHash: await this.passwords.hash(password, meta.ip),
      emailVerified: false,
    });
    await this.audit.record({ type: 'USER_REGISTERED', userId: user.id }, meta);
    await this.accounts.sendVerification(user);
    return this.signIn(user, meta);
  }

  async login(rawEmail: string, rawPassword: string, meta: RequestMeta): Promise<IssuedTokens> {
    await this.limits.consume('login', { ip: meta.ip, account: rawEmail });
    // Longer than any password we accept: refuse before hashing megabytes, and say why.
    if ([...rawPassword].length > PASSWORD_MAX) {
      throw new BadUserInputError(
        `Password may have at most ${PASSWORD_MAX} characters`,
        'password',
      );
    }
    const { user } = await this.credentials.verifyPassword(rawEmail, rawPassword, meta, 'login');
    // Told only to whoever knows the password, so it reveals nothing to a guesser.
    if (this.emailVerification === 'required' && !user.emailVerified) {
      await this.audit.record({ type: 'LOGIN_REFUSED_UNVERIFIED', userId: user.id }, meta);
      throw new EmailNotVerifiedError();
    }
    await this.audit.record({ type: 'LOGIN_SUCCEEDED', userId: user.id }, meta);
    return this.signIn(user, meta);
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
    await this.credentials.revokeAll(user.id, 'logout-all', meta);
    return true;
  }

  async changePassword(
    user: Principal,
    currentPassword: string,
    newPassword: string,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    await this.limits.consume('changePassword', { ip: meta.ip, account: user.id });
    const next = await this.policy.accept(newPassword, user, 'newPassword');
    // Guessing the current password here is a login attempt like any other.
    const account = await this.credentials.verifyPassword(
      user.email,
      currentPassword,
      meta,
      'changePassword',
    );
    if (await this.passwords.verify(account.passwordHash, next, meta.ip)) {
      throw new BadUserInputError(
        'The new password must differ from the current one',
        'newPassword',
      );
    }
    const updated = await this.credentials.revokeAll(user.id, 'password-changed', meta, {
      set: { passwordHash: await this.passwords.hash(next, meta.ip) },
    });
    if (!updated) throw new InvalidCredentialsError();
    return this.signIn(updated, meta);
  }

  /** A sign-in with a password: the client becomes a trusted one of the account (LoginThrottle). */
  private async signIn(user: Principal, meta: RequestMeta): Promise<IssuedTokens> {
    await this.throttle.remember(user.id, meta);
    const issued = await this.issue(user, meta);
    return { ...issued, deviceToken: this.throttle.deviceToken(user.id) };
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

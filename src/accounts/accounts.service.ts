import { type Config } from '../config';
import { isDuplicateKey } from '../db/duplicate-key';
import { BadUserInputError, InvalidEmailTokenError } from '../common/errors';
import { type RequestMeta } from '../common/request-meta';
import { emailSchema, nameSchema, validate } from '../common/validation';
import { type AuditService } from '../audit/audit.service';
import { type RegisterInput } from '../auth/auth.types';
import { type Credentials, hashForLog } from '../auth/credentials';
import { type PasswordPolicy } from '../auth/password-policy';
import { type PasswordHasher } from '../auth/passwords';
import { type PrincipalCache } from '../auth/principal-cache';
import { type Outbox } from '../mail/outbox';
import { type MailKind, type OutgoingMail, accountLink, composeMail } from '../mail/templates';
import { type RateLimits } from '../auth/rate-limits';
import { type Principal } from '../users/principal';
import { Role } from '../users/role';
import { type UserService } from '../users/user.service';
import { type AccountTokenKind } from './account-token.model';
import { type AccountTokens } from './account-tokens';

export class AddressTakenError extends BadUserInputError {
  constructor() {
    super('This address already belongs to another account', 'token');
  }
}

/**
 * Accounts over email: sign-up with verification, password reset and email change. Every
 * change of credentials goes through `Credentials.revokeAll`; every mail through the outbox,
 * so no mutation waits for SMTP or fails because of it.
 */
export class AccountsService {
  constructor(
    private readonly config: Pick<Config, 'mail' | 'accounts'>,
    private readonly users: UserService,
    private readonly passwords: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly credentials: Credentials,
    private readonly tokens: AccountTokens,
    private readonly outbox: Outbox,
    private readonly principals: PrincipalCache,
    private readonly audit: AuditService,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Always true, after the same work for a new and a taken address (the input checks, one
   * argon2 hash, one insert attempt, one token, one audit event, one mail): the answer and
   * its timing do not tell whether an account exists. A taken address gets a mail that says
   * so, with a reset link, and the account is left as it was. Never a verification link for
   * it: the account's password may be an intruder's (pre-hijacking), and a reset replaces it.
   */
  async signUp(input: RegisterInput, meta: RequestMeta): Promise<true> {
    await this.limits.consume('signUp', { ip: meta.ip, account: input.email });
    const email = validate(emailSchema, input.email, 'email');
    const name = validate(nameSchema, input.name, 'name');
    const password = await this.policy.accept(input.password, { email, name }, 'password');
    const passwordHash = await this.passwords.hash(password, meta.ip);
    const created = await this.users.createIfAbsent({
      email,
      name,
      role: Role.CUSTOMER,
      passwordHash,
      emailVerified: false,
    });
    if (created) {
      await this.audit.record(
        { type: 'USER_REGISTERED', userId: created.id, details: { via: 'signUp' } },
        meta,
      );
      await this.mailLink('verify-email', 'verify-email', created, created.email);
      return true;
    }
    const existing = await this.users.findByEmail(email);
    await this.audit.record(
      { type: 'SIGNUP_EXISTING_EMAIL', userId: existing?.id ?? null, details: {} },
      meta,
    );
    // Deleted between the insert and the lookup: nothing to tell anyone.
    if (existing) await this.mailLink('account-exists', 'reset-password', existing, existing.email);
    return true;
  }

  /** After `register` (optional verification): the new account's verification mail. */
  async sendVerification(user: Principal): Promise<void> {
    await this.mailLink('verify-email', 'verify-email', user, user.email);
  }

  /** Signed in and not verified yet: a new verification link; the earlier one stops working. */
  async resendVerification(user: Principal, meta: RequestMeta): Promise<true> {
    await this.limits.consume('resendVerificationEmail', { ip: meta.ip, account: user.id });
    if (user.emailVerified) {
      throw new BadUserInputError('This email address is already verified', 'email');
    }
    await this.mailLink('verify-email', 'verify-email', user, user.email);
    await this.audit.record({ type: 'VERIFICATION_EMAIL_SENT', userId: user.id }, meta);
    return true;
  }

  /**
   * Always true once the address is well-formed. The lookup, the token and the mail happen
   * after the response, so neither the answer nor its timing tells whether the account exists.
   */
  async requestPasswordReset(rawEmail: string, meta: RequestMeta): Promise<true> {
    const email = validate(emailSchema, rawEmail, 'email');
    // Counted per address whether or not it has an account, so a refusal tells nothing either.
    await this.limits.consume('requestPasswordReset', { ip: meta.ip, account: email });
    this.outbox.enqueue('password-reset', async () => {
      const user = await this.users.findByEmail(email);
      await this.audit.record(
        {
          type: 'PASSWORD_RESET_REQUESTED',
          userId: user?.id ?? null,
          details: { emailHash: hashForLog(email), known: user !== undefined },
        },
        meta,
      );
      if (!user) return undefined;
      return this.composeLink('reset-password', 'reset-password', user, user.email);
    });
    return true;
  }

  /**
   * Sets the password and marks the address verified (the link proved the mailbox), as a
   * credential event: every session and access token of the account ends, an intruder's
   * too (pre-hijacking), and so do the other links mailed to it.
   */
  async resetPassword(token: string, newPassword: string, meta: RequestMeta): Promise<true> {
    await this.limits.consume('resetPassword', { ip: meta.ip });
    const record = await this.tokens.find(token, ['reset-password']);
    const user = record && (await this.users.findPrincipal(record.user));
    if (!record || !user || user.email !== record.email) throw new InvalidEmailTokenError();
    const password = await this.policy.accept(newPassword, user, 'newPassword');
    const passwordHash = await this.passwords.hash(password, meta.ip);
    if (!(await this.tokens.spend(record))) throw new InvalidEmailTokenError();
    const updated = await this.credentials.revokeAll(user.id, 'password-reset', meta, {
      set: { passwordHash, emailVerified: true },
      where: { email: record.email },
    });
    if (!updated) throw new InvalidEmailTokenError();
    return true;
  }

  /** Follows a verification link, or the confirmation link of an email change. */
  async verifyEmail(token: string, meta: RequestMeta): Promise<true> {
    const record = await this.tokens.take(token, ['verify-email', 'confirm-email-change']);
    if (!record) throw new InvalidEmailTokenError();
    const userId = record.user.toHexString();

    if (record.kind === 'verify-email') {
      if (!(await this.users.markEmailVerified(userId, record.email))) {
        throw new InvalidEmailTokenError();
      }
      this.principals.invalidate(userId);
      await this.audit.record({ type: 'EMAIL_VERIFIED', userId }, meta);
      return true;
    }

    const holder = await this.users.findByEmail(record.email);
    if (holder && holder.id !== userId) throw new AddressTakenError();
    let changed: Principal | undefined;
    try {
      changed = await this.credentials.revokeAll(userId, 'email-changed', meta, {
        set: { email: record.email, emailVerified: true },
        details: { newEmailHash: hashForLog(record.email) },
      });
    } catch (error) {
      // Another account took the address since the lookup.
      if (isDuplicateKey(error)) throw new AddressTakenError();
      throw error;
    }
    if (!changed) throw new InvalidEmailTokenError();
    return true;
  }

  /**
   * Nothing changes until the new address confirms: it gets the confirmation link, the
   * current address a notice with a reset link (so an owner who did not ask can stop it).
   * Whether the new address has an account is told only to that mailbox, at confirmation.
   */
  async changeEmail(
    user: Principal,
    rawNewEmail: string,
    currentPassword: string,
    meta: RequestMeta,
  ): Promise<true> {
    const newEmail = validate(emailSchema, rawNewEmail, 'newEmail');
    await this.limits.consume('changeEmail', { ip: meta.ip, account: user.id });
    if (newEmail === user.email) {
      throw new BadUserInputError('This is already the address of your account', 'newEmail');
    }
    await this.credentials.verifyPassword(user.email, currentPassword, meta, 'changeEmail');
    await this.mailLink('confirm-email-change', 'confirm-email-change', user, newEmail);
    await this.mailLink('email-change-notice', 'reset-password', user, user.email, newEmail);
    await this.audit.record(
      {
        type: 'EMAIL_CHANGE_REQUESTED',
        userId: user.id,
        details: { newEmailHash: hashForLog(newEmail) },
      },
      meta,
    );
    return true;
  }

  /** Issues a token now (so a failing SMTP server loses none) and queues its mail. */
  private async mailLink(
    mail: MailKind,
    kind: AccountTokenKind,
    user: Principal,
    to: string,
    newEmail?: string,
  ): Promise<void> {
    this.outbox.send(await this.composeLink(mail, kind, user, to, newEmail));
  }

  private async composeLink(
    mail: MailKind,
    kind: AccountTokenKind,
    user: Principal,
    to: string,
    newEmail?: string,
  ): Promise<OutgoingMail> {
    const token = await this.tokens.issue(kind, user.id, to);
    return composeMail({
      kind: mail,
      to,
      name: user.name,
      link: accountLink(this.config.mail.appUrl, kind, token),
      validForSeconds:
        kind === 'reset-password'
          ? this.config.accounts.passwordResetTtlSeconds
          : this.config.accounts.emailTokenTtlSeconds,
      newEmail,
    });
  }
}

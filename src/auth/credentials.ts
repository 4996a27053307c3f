import { createHash } from 'node:crypto';
import { type Types } from 'mongoose';
import { type Logger } from 'pino';
import { InvalidCredentialsError, TooManyRequestsError } from '../common/errors';
import { PASSWORD_MAX, canonicalEmail } from '../common/validation';
import { type RequestMeta } from '../common/request-meta';
import { type AuditEventType } from '../audit/audit.model';
import { type AuditService } from '../audit/audit.service';
import { endAccountTokens } from '../accounts/account-tokens';
import { PUBLIC_USER_FIELDS, type Principal, toPrincipal } from '../users/principal';
import { UserModel, type UserRecord } from '../users/user.model';
import { type LoginThrottle, LoginThrottledError, type Reservation } from './login-throttle';
import { type PasswordHasher } from './passwords';
import { type PrincipalCache } from './principal-cache';
import { type SessionService } from './session.service';

/**
 * Every event after which the tokens a user holds must stop working. The value is also the
 * reason stored on the sessions it ends.
 */
export const CREDENTIAL_EVENTS = {
  'logout-all': 'LOGOUT_ALL',
  'password-changed': 'PASSWORD_CHANGED',
  'role-changed': 'ROLE_CHANGED',
  'user-deleted': 'USER_DELETED',
  'password-reset': 'PASSWORD_RESET',
  'email-changed': 'EMAIL_CHANGED',
} as const satisfies Record<string, AuditEventType>;
export type CredentialEvent = keyof typeof CREDENTIAL_EVENTS;

/**
 * Events after which no link mailed earlier may work any more: a reset link must not outlive
 * a password change, nor a pending address change a reset (it may be the attacker's).
 */
const ENDS_EMAILED_LINKS: ReadonlySet<CredentialEvent> = new Set<CredentialEvent>([
  'password-changed',
  'password-reset',
  'email-changed',
  'user-deleted',
]);

export interface CredentialChange {
  /** Fields set in the same atomic update that moves the credential version on. */
  set?: Partial<Pick<UserRecord, 'passwordHash' | 'role' | 'email' | 'emailVerified'>>;
  /** Extra conditions on the user document; the change happens only if they hold. */
  where?: Record<string, unknown>;
  actorId?: string;
  details?: Record<string, string | number | boolean>;
}

/** A password check that passed: the user, and the hash it was checked against. */
export interface VerifiedAccount {
  user: Principal;
  passwordHash: string;
}

/**
 * The one owner of a user's credentials: the password hash and the credential version that
 * every access token and session is checked against. Every credential event goes through
 * `revokeAll`, and every password check through `verifyPassword`, so the product's most
 * important security rules are written once.
 */
export class Credentials {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly principals: PrincipalCache,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly logger: Logger,
  ) {}

  /**
   * Ends every token the user holds: moves the credential version on (together with `set`, in
   * one conditional update), forgets the cached principal, ends every session, and records the
   * event. Access tokens issued before stop working within AUTH_REVALIDATE_SECONDS on every
   * instance (at once on this one); refresh tokens at once. Returns the user as updated, or
   * undefined when no user matched (`where` did not hold, or the user is gone).
   */
  async revokeAll(
    userId: string | Types.ObjectId,
    event: CredentialEvent,
    meta: RequestMeta,
    change: CredentialChange = {},
  ): Promise<Principal | undefined> {
    const id = userId.toString();
    const record = await UserModel.findOneAndUpdate(
      { ...change.where, _id: id },
      { ...(change.set ? { $set: change.set } : {}), $inc: { credentialVersion: 1 } },
      { returnDocument: 'after', projection: PUBLIC_USER_FIELDS },
    ).lean<UserRecord>();
    if (!record) return undefined;
    this.principals.invalidate(id);
    if (ENDS_EMAILED_LINKS.has(event)) await endAccountTokens(id);
    const sessions = await this.sessions.endAll(id, event);
    await this.audit.record(
      {
        type: CREDENTIAL_EVENTS[event],
        userId: id,
        actorId: change.actorId ?? null,
        details: { sessions, ...change.details },
      },
      meta,
    );
    return toPrincipal(record);
  }

  /**
   * The one password check (login, changePassword, changeEmail): lookup, throttle, verify,
   * re-hash, audit.
   * An unknown email and a wrong password give one error and cost the same argon2 work, so
   * neither the answer nor its timing tells whether the account exists.
   */
  async verifyPassword(
    rawEmail: string,
    rawPassword: string,
    meta: RequestMeta,
    via: 'login' | 'changePassword' | 'changeEmail',
  ): Promise<VerifiedAccount> {
    // Longer than any password we accept: refuse before hashing megabytes.
    if ([...rawPassword].length > PASSWORD_MAX) throw new InvalidCredentialsError();
    const email = canonicalEmail(rawEmail);
    const password = rawPassword.normalize('NFKC');
    const emailHash = hashForLog(email);

    const record = await UserModel.findOne(
      { email },
      { ...PUBLIC_USER_FIELDS, passwordHash: 1 },
    ).lean<UserRecord>();
    const trustedClient = await this.throttle.trustedClient(record?._id, meta);

    let reservation: Reservation;
    try {
      reservation = await this.throttle.attempt(email, meta.ip, trustedClient);
    } catch (error) {
      // One event per window, so a throttled attacker cannot fill the audit log.
      if (error instanceof LoginThrottledError && error.firstRefusal) {
        await this.audit.record({ type: 'LOGIN_THROTTLED', details: { emailHash, via } }, meta);
      }
      throw error;
    }

    let ok: boolean;
    try {
      ok = record
        ? await this.passwords.verify(record.passwordHash, password, meta.ip)
        : await this.passwords.verifyUnknown(password, meta.ip);
    } catch (error) {
      // Refused by the hashing queue: no password was checked, so no attempt was spent.
      await reservation.release();
      throw error;
    }
    if (!record || !ok) {
      await this.audit.record(
        { type: 'LOGIN_FAILED', userId: record?._id ?? null, details: { emailHash, via } },
        meta,
      );
      throw new InvalidCredentialsError();
    }

    await reservation.succeeded();
    let passwordHash = record.passwordHash;
    if (this.passwords.needsRehash(passwordHash)) {
      // Parameters were raised since this hash was made; the plain password is at hand only now.
      // Not a credential event: the password is the same, so no token needs to end.
      try {
        passwordHash = await this.passwords.hash(password, meta.ip);
        await UserModel.updateOne(
          { _id: record._id, passwordHash: record.passwordHash },
          { $set: { passwordHash } },
        );
        this.logger.info({ userId: record._id.toHexString() }, 'password re-hashed');
      } catch (error) {
        // The hashing queue is full: the password was right; re-hash at a later login.
        if (!(error instanceof TooManyRequestsError)) throw error;
        passwordHash = record.passwordHash;
      }
    }
    return { user: toPrincipal(record), passwordHash };
  }
}

/** Lets an operator correlate failed attempts on one address without logging the address. */
export function hashForLog(email: string): string {
  return createHash('sha256').update(email).digest('hex').slice(0, 16);
}

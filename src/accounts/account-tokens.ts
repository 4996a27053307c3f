import { createHash, randomBytes } from 'node:crypto';
import { type Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key';
import { type Config } from '../config';
import {
  AccountTokenModel,
  type AccountTokenKind,
  type AccountTokenRecord,
} from './account-token.model';

const TOKEN_BYTES = 32;

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Emailed tokens: 256 random bits, stored only as their SHA-256 with kind, user, address and
 * expiry; single use; one live token per kind and user, so a newer one ends the older.
 */
export class AccountTokens {
  private readonly ttlSeconds: Record<AccountTokenKind, number>;

  constructor(accounts: Config['accounts']) {
    this.ttlSeconds = {
      'reset-password': accounts.passwordResetTtlSeconds,
      'verify-email': accounts.emailTokenTtlSeconds,
      'confirm-email-change': accounts.emailTokenTtlSeconds,
    };
  }

  /** A new token of `kind` for the user, sent to `email`; the user's older one stops working. */
  async issue(
    kind: AccountTokenKind,
    userId: string | Types.ObjectId,
    email: string,
  ): Promise<string> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const replace = () =>
      AccountTokenModel.updateOne(
        { user: userId, kind },
        {
          $set: {
            tokenHash: hashToken(token),
            email,
            expiresAt: new Date(Date.now() + this.ttlSeconds[kind] * 1000),
          },
        },
        { upsert: true },
      );
    try {
      await replace();
    } catch (error) {
      // Two first tokens raced on the unique {user, kind} index: the second now updates.
      if (!isDuplicateKey(error)) throw error;
      await replace();
    }
    return token;
  }

  /** The live token of one of `kinds` (not spent by this call), or undefined. */
  async find(token: string, kinds: AccountTokenKind[]): Promise<AccountTokenRecord | undefined> {
    const record = await AccountTokenModel.findOne(
      this.liveFilter(token, kinds),
    ).lean<AccountTokenRecord | null>();
    return record ?? undefined;
  }

  /** Spends the token: true for exactly one caller, even when several present it at once. */
  async spend(record: AccountTokenRecord): Promise<boolean> {
    const spent = await AccountTokenModel.findOneAndDelete({
      _id: record._id,
      tokenHash: record.tokenHash,
      expiresAt: { $gt: new Date() },
    }).lean();
    return spent !== null;
  }

  /** Finds and spends in one step: the record, or undefined when it was not live. */
  async take(token: string, kinds: AccountTokenKind[]): Promise<AccountTokenRecord | undefined> {
    const record = await AccountTokenModel.findOneAndDelete(
      this.liveFilter(token, kinds),
    ).lean<AccountTokenRecord | null>();
    return record ?? undefined;
  }

  private liveFilter(token: string, kinds: AccountTokenKind[]) {
    return { tokenHash: hashToken(token), kind: { $in: kinds }, expiresAt: { $gt: new Date() } };
  }
}

/** Ends every emailed link of the user (after a password or address change, or deletion). */
export async function endAccountTokens(userId: string | Types.ObjectId): Promise<void> {
  await AccountTokenModel.deleteMany({ user: userId });
}

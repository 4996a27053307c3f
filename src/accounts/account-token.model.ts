import { type InferSchemaType, Schema, type Types, model } from 'mongoose';

/** What an emailed token lets its holder do; also the page its link opens. */
export const ACCOUNT_TOKEN_KINDS = [
  'verify-email',
  'reset-password',
  'confirm-email-change',
] as const;
export type AccountTokenKind = (typeof ACCOUNT_TOKEN_KINDS)[number];

const accountTokenSchema = new Schema(
  {
    /** SHA-256 of the token: the token itself exists only in the mail. */
    tokenHash: { type: String, required: true },
    kind: { type: String, enum: ACCOUNT_TOKEN_KINDS, required: true },
    user: { type: Schema.Types.ObjectId, required: true },
    /** The address the link was sent to: the one to verify, or the new login. */
    email: { type: String, required: true },
    /** Checked on use; the TTL index removes the document some time after. */
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'accountTokens' },
);

accountTokenSchema.index({ tokenHash: 1 }, { unique: true });
// One live token per kind and user: issuing a new one replaces the older in one update.
accountTokenSchema.index({ user: 1, kind: 1 }, { unique: true });
accountTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type AccountTokenRecord = Omit<InferSchemaType<typeof accountTokenSchema>, 'kind'> & {
  _id: Types.ObjectId;
  kind: AccountTokenKind;
};
export const AccountTokenModel = model('AccountToken', accountTokenSchema);

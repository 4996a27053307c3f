import { type InferSchemaType, Schema, type Types, model } from 'mongoose';

/**
 * One document per login: a refresh-token family. Only the SHA-256 of the current token's id
 * is stored, so a database leak does not hand out usable refresh tokens. Rotation replaces
 * `tokenHash` in one conditional update; presenting an earlier token of the family is reuse,
 * unless it was spent within the grace window (session.service).
 */
const sessionSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    tokenHash: { type: String, required: true },
    /** The current token's generation (0 at login, +1 per rotation). */
    generation: { type: Number },
    /**
     * Hashes of the last few spent tokens and when each was spent: one presented again within
     * REFRESH_REUSE_GRACE is a client racing itself (two tabs, a retried request), not a copy.
     */
    recentlySpent: {
      type: [{ _id: false, tokenHash: String, spentAt: Date }],
      default: undefined,
    },
    /**
     * The user's credential version when the family started. A family outlives no credential
     * event: once the user's version moves on, its refresh tokens are refused, even if the
     * event landed between a password check and the session being written.
     */
    credentialVersion: { type: Number, required: true },
    /** When the family dies at the latest: login time + REFRESH_TOKEN_TTL, never extended. */
    absoluteExpiresAt: { type: Date, required: true },
    /** min(absoluteExpiresAt, lastUsedAt + REFRESH_TOKEN_IDLE_TTL); the TTL index removes it. */
    expiresAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
    userAgent: { type: String, default: null },
    ip: { type: String, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false, strict: 'throw' },
);

sessionSchema.index({ user: 1, expiresAt: -1 });
sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type SessionRecord = InferSchemaType<typeof sessionSchema> & {
  _id: Types.ObjectId;
  createdAt: Date;
};
export const SessionModel = model('Session', sessionSchema);

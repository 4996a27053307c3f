import { type InferSchemaType, Schema, type Types, model } from 'mongoose';
import { ROLES, Role } from './role';

const userSchema = new Schema(
  {
    /** Canonical form (see `canonicalEmail`); the unique index makes registration race-free. */
    email: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true, default: Role.CUSTOMER },
    /** argon2id PHC string. Never selected unless a query asks for `+passwordHash`. */
    passwordHash: { type: String, required: true, select: false },
    /**
     * Bumped by every credential event (logoutAll, password change, role change). Access
     * tokens carry the version they were issued under and stop working once it moves on.
     */
    credentialVersion: { type: Number, required: true, default: 0 },
    /**
     * True once a link mailed to `email` was followed (verifyEmail, resetPassword, a confirmed
     * email change). Accounts stored before this field existed lack it and count as unverified.
     */
    emailVerified: { type: Boolean, default: false },
  },
  { timestamps: true, versionKey: false, strict: 'throw' },
);

userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ createdAt: -1, _id: -1 });

export type UserRecord = Omit<InferSchemaType<typeof userSchema>, 'role'> & {
  _id: Types.ObjectId;
  role: Role;
};
export const UserModel = model('User', userSchema);

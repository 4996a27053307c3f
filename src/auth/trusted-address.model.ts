import { Schema, model } from 'mongoose';

/**
 * An address (IPv6 grouped by /64) from which an account signed in: for clients that keep no
 * cookies, it plays the part of a device cookie. Removed by the TTL index after
 * LOGIN_DEVICE_TTL without a sign-in from there.
 */
const trustedAddressSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, required: true },
    address: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'trustedAddresses' },
);

trustedAddressSchema.index({ user: 1, address: 1 }, { unique: true });
trustedAddressSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const TrustedAddressModel = model('TrustedAddress', trustedAddressSchema);

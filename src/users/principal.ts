import { type UserRecord } from './user.model';
import { type UserType } from './user.type';

/** The fields every user read selects: never the password hash. */
export const PUBLIC_USER_FIELDS = {
  email: 1,
  name: 1,
  role: 1,
  createdAt: 1,
  credentialVersion: 1,
  emailVerified: 1,
} as const;

/**
 * A user as the API passes it around (the caller, a loaded owner): the GraphQL shape plus the
 * credential version that access tokens are checked against.
 */
export interface Principal extends UserType {
  credentialVersion: number;
}

/** The one mapping from a stored user to what the API hands around and clients see. */
export function toPrincipal(
  record: Pick<UserRecord, '_id' | keyof typeof PUBLIC_USER_FIELDS>,
): Principal {
  return {
    id: record._id.toHexString(),
    email: record.email,
    name: record.name,
    role: record.role,
    createdAt: record.createdAt,
    credentialVersion: record.credentialVersion,
    // Missing on accounts stored before verification existed: they count as unverified.
    emailVerified: record.emailVerified === true,
  };
}

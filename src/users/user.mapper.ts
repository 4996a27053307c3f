import { type UserType } from './user.type';
import { type RoleName, type UserRecord } from './user.model';

/** The fields every user read selects: never the password hash. */
export const PUBLIC_USER_FIELDS = {
  email: 1,
  name: 1,
  role: 1,
  createdAt: 1,
  credentialVersion: 1,
} as const;

/** A user as the API passes it around: the GraphQL shape plus the credential version. */
export interface Principal extends UserType {
  role: RoleName;
  credentialVersion: number;
}

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
  };
}

import { registerEnumType } from 'type-graphql';

/**
 * The roles, declared once: the stored value, the `role` claim of access tokens (the lower-case
 * strings) and the GraphQL enum `Role` (the names) all come from here.
 */
export enum Role {
  ADMIN = 'admin',
  CUSTOMER = 'customer',
}

registerEnumType(Role, {
  name: 'Role',
  description: 'What a user may do. Tokens carry the lower-case value ("admin", "customer").',
  valuesConfig: {
    ADMIN: { description: 'Manages every user and todo.' },
    CUSTOMER: { description: 'Manages their own todos.' },
  },
});

export const ROLES: readonly Role[] = Object.values(Role);

export const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

import { Field, ID, ObjectType } from 'type-graphql';
import { connectionTypes } from '../common/connection.type';
import { Role } from './role';

/** A user as clients see it. There is deliberately no field for the password or its hash. */
@ObjectType('User', { simpleResolvers: true, description: 'A registered account.' })
export class UserType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field({ description: 'Canonical (trimmed, lower-cased) email address.' })
  email!: string;

  @Field({ description: 'Display name.' })
  name!: string;

  @Field(() => Role, { description: 'Role deciding what the user may do.' })
  role!: Role;

  @Field({
    description:
      'True once the owner followed a link mailed to this address (verifyEmail, resetPassword or a confirmed email change).',
  })
  emailVerified!: boolean;

  @Field({ description: 'When the account was created.' })
  createdAt!: Date;
}

export const { Edge: UserEdge, Connection: UserConnection } = connectionTypes(UserType, 'User');

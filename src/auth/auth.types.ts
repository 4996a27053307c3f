import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { UserType } from '../users/user.type';

@ObjectType({ simpleResolvers: true, description: 'Tokens issued by a sign-in or a refresh.' })
export class AuthPayload {
  @Field({ description: 'Send as `Authorization: Bearer <accessToken>`.' })
  accessToken!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Single-use token for `refreshToken`. Null when REFRESH_TOKEN_COOKIE is on: it then travels in an httpOnly cookie.',
  })
  refreshToken!: string | null;

  @Field({ description: 'Always "Bearer".' })
  tokenType!: string;

  @Field(() => Int, { description: 'Seconds until the access token expires.' })
  expiresIn!: number;

  @Field(() => UserType, { description: 'The signed-in user.' })
  user!: UserType;
}

@InputType({ description: 'A new account.' })
export class RegisterInput {
  @Field({ description: 'Email address; stored trimmed and lower-cased, must be unique.' })
  email!: string;

  @Field({ description: 'From 8 to 256 characters.' })
  password!: string;

  @Field({ description: 'Display name (1 to 100 characters).' })
  name!: string;
}

@ObjectType('Session', { simpleResolvers: true, description: 'A signed-in device or client.' })
export class SessionType {
  @Field(() => ID, { description: 'Pass to `revokeSession` to sign this device out.' })
  id!: string;

  @Field({ description: 'When the sign-in happened.' })
  createdAt!: Date;

  @Field({ description: 'When its refresh token was last used.' })
  lastUsedAt!: Date;

  @Field({ description: 'When it ends unless refreshed (idle) or at the latest (absolute).' })
  expiresAt!: Date;

  @Field(() => String, { nullable: true, description: 'User-Agent of the client.' })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'Address the client last came from.' })
  ip!: string | null;

  @Field({ description: 'True for the session of the access token making this request.' })
  current!: boolean;
}

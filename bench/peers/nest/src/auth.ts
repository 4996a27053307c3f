import { createSecretKey } from 'node:crypto';
import { type ExecutionContext, Injectable, Module, createParamDecorator } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

export interface JwtUser {
  userId: string;
  role: string;
}

/**
 * The docs' JwtStrategy. NestJS's docs pass the secret as a string; jsonwebtoken then tries
 * `createPublicKey` on it before falling back to a secret key, on every verify. BENCH_NEST_SECRET
 * `key` hands it a KeyObject instead (the fair peer); `string` keeps the docs verbatim.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    const secret = process.env.JWT_SECRET!;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      // passport-jwt hands secretOrKey to jsonwebtoken as is; its types omit KeyObject.
      secretOrKey:
        process.env.BENCH_NEST_SECRET === 'string'
          ? secret
          : (createSecretKey(Buffer.from(secret, 'utf8')) as unknown as string),
      algorithms: ['HS256'],
      issuer: process.env.JWT_ISSUER,
      audience: process.env.JWT_AUDIENCE,
    });
  }

  validate(payload: { sub: string; role: string }): JwtUser {
    return { userId: payload.sub, role: payload.role };
  }
}

/** The docs' GraphQL guard: passport's AuthGuard reading the request from the GraphQL context. */
@Injectable()
export class GqlAuthGuard extends AuthGuard('jwt') {
  override getRequest(context: ExecutionContext) {
    return GqlExecutionContext.create(context).getContext().req;
  }
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): JwtUser =>
    GqlExecutionContext.create(context).getContext().req.user,
);

@Module({ imports: [PassportModule], providers: [JwtStrategy] })
export class AuthModule {}

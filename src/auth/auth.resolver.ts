import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { BadUserInputError, InvalidRefreshTokenError } from '../common/errors';
import { parseObjectId } from '../common/validation';
import { type Context } from '../context';
import { type Principal } from '../users/principal';
import { CurrentUser } from './auth-checker';
import { type IssuedTokens } from './auth.service';
import { AuthPayload, RegisterInput, SessionType } from './auth.types';
import { setDeviceCookie } from './device-cookie';
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refresh-cookie';

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: 'Creates a CUSTOMER account and signs it in.' })
  async register(@Arg('input') input: RegisterInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.deliver(await ctx.services.auth.register(input, ctx.meta), ctx);
  }

  @Mutation(() => AuthPayload, {
    description: 'Signs in. Wrong email and wrong password give the same error.',
  })
  async login(
    @Arg('email') email: string,
    @Arg('password') password: string,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.deliver(await ctx.services.auth.login(email, password, ctx.meta), ctx);
  }

  @Mutation(() => AuthPayload, {
    description:
      'Spends a refresh token and returns new tokens. Presenting a spent token ends every session of that sign-in. The argument may be omitted when the refresh token travels in the cookie.',
  })
  async refreshToken(
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken: string | null,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    const token = this.presentedRefreshToken(refreshToken, ctx);
    return this.deliver(await ctx.services.auth.refresh(token, ctx.meta), ctx);
  }

  @Mutation(() => Boolean, {
    description: 'Ends the session of this refresh token (argument or cookie).',
  })
  async logout(
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken: string | null,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    const token = this.presentedRefreshToken(refreshToken, ctx);
    if (ctx.services.config.tokens.refreshInCookie) clearRefreshCookie(ctx.res);
    return ctx.services.auth.logout(token, ctx.user, ctx.meta);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: 'Ends every session of the caller; access tokens stop working within seconds.',
  })
  logoutAll(@CurrentUser() user: Principal, @Ctx() ctx: Context): Promise<boolean> {
    if (ctx.services.config.tokens.refreshInCookie) clearRefreshCookie(ctx.res);
    return ctx.services.auth.logoutAll(user, ctx.meta);
  }

  @Authorized()
  @Mutation(() => AuthPayload, {
    description: 'Changes the password, ends every other session and signs in afresh.',
  })
  async changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    const issued = await ctx.services.auth.changePassword(
      user,
      currentPassword,
      newPassword,
      ctx.meta,
    );
    return this.deliver(issued, ctx);
  }

  @Authorized()
  @Query(() => [SessionType], { description: "The caller's active sessions, latest used first." })
  sessions(@CurrentUser() user: Principal, @Ctx() ctx: Context): Promise<SessionType[]> {
    return ctx.services.sessions.listActive(user.id, ctx.sessionId);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: "Ends one of the caller's sessions (sign a device out).",
  })
  async revokeSession(
    @Arg('id', () => ID) id: string,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    await ctx.services.sessions.endOne(user.id, parseObjectId(id), ctx.meta);
    return true;
  }

  private presentedRefreshToken(argument: string | null, ctx: Context): string {
    if (argument) return argument;
    if (ctx.services.config.tokens.refreshInCookie) {
      const cookie = readRefreshCookie(ctx.req);
      if (cookie) return cookie;
      throw new InvalidRefreshTokenError();
    }
    throw new BadUserInputError('refreshToken is required', 'refreshToken');
  }

  /** Hands the refresh token over in the body, or in an httpOnly cookie when so configured. */
  private deliver(issued: IssuedTokens, ctx: Context): AuthPayload {
    const { refreshInCookie, refreshTtlSeconds } = ctx.services.config.tokens;
    if (refreshInCookie) setRefreshCookie(ctx.res, issued.refreshToken, refreshTtlSeconds);
    if (issued.deviceToken) {
      setDeviceCookie(
        ctx.res,
        issued.deviceToken,
        ctx.services.config.loginThrottle.deviceTtlSeconds,
      );
    }
    return {
      accessToken: issued.accessToken,
      refreshToken: refreshInCookie ? null : issued.refreshToken,
      tokenType: 'Bearer',
      expiresIn: issued.expiresIn,
      user: issued.user,
    };
  }
}

import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { type Context } from '../context';
import { CurrentUser } from '../auth/auth-checker';
import { RegisterInput } from '../auth/auth.types';
import { type Principal } from '../users/principal';

@Resolver()
export class AccountsResolver {
  @Mutation(() => Boolean, {
    description:
      'Creates an unverified CUSTOMER account and mails a verification link; signs nobody in. Always true, the same for a new and an existing email: an existing one gets a mail saying an account exists, with a reset link.',
  })
  signUp(@Arg('input') input: RegisterInput, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.accounts.signUp(input, ctx.meta);
  }

  @Mutation(() => Boolean, {
    description:
      'Confirms a verification link, or the confirmation link of an email change (the new address becomes the login and every session of the account ends).',
  })
  verifyEmail(@Arg('token') token: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.accounts.verifyEmail(token, ctx.meta);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Mails a new verification link to the signed-in user, whose address is not verified yet; the earlier link stops working.',
  })
  resendVerificationEmail(@CurrentUser() user: Principal, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.accounts.resendVerification(user, ctx.meta);
  }

  @Mutation(() => Boolean, {
    description:
      'Mails a password reset link when an account has this email. Always true; the timing does not tell whether the account exists.',
  })
  requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.accounts.requestPasswordReset(email, ctx.meta);
  }

  @Mutation(() => Boolean, {
    description:
      'Sets a new password with the token of a reset link, marks the email verified and ends every session and access token of the account.',
  })
  resetPassword(
    @Arg('token') token: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.services.accounts.resetPassword(token, newPassword, ctx.meta);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Mails a confirmation link to the new address and a notice to the current one. Nothing changes until verifyEmail with that link; then every session of the account ends.',
  })
  changeEmail(
    @Arg('newEmail') newEmail: string,
    @Arg('currentPassword') currentPassword: string,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.services.accounts.changeEmail(user, newEmail, currentPassword, ctx.meta);
  }
}

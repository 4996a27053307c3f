import { type AuthCheckerFn, createParameterDecorator } from 'type-graphql';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';
import { type Context } from '../context';
import { type Principal } from '../users/principal';

/**
 * `@Authorized()` needs a signed-in user; `@Authorized('admin')` also that role. Throwing our
 * own errors gives the contract's codes: UNAUTHENTICATED without a user, FORBIDDEN for the
 * wrong role (type-graphql's default would answer UNAUTHORIZED for both).
 */
export const authChecker: AuthCheckerFn<Context> = ({ context }, roles) => {
  if (!context.user) throw new UnauthenticatedError();
  if (roles.length > 0 && !roles.includes(context.user.role)) throw new ForbiddenError();
  return true;
};

/** The signed-in user; only on operations guarded by `@Authorized`. */
export function CurrentUser() {
  return createParameterDecorator<Context>(({ context }): Principal => {
    if (!context.user) throw new UnauthenticatedError();
    return context.user;
  });
}

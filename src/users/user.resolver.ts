import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { ForbiddenError, NotFoundError } from '../common/errors';
import { PageArgs } from '../common/page.args';
import { type Connection, pageRequest } from '../common/pagination';
import { parseObjectId } from '../common/validation';
import { CurrentUser } from '../auth/auth-checker';
import { type Context } from '../context';
import { TodoPageArgs } from '../todos/todo.args';
import { TodoConnection, type TodoType } from '../todos/todo.type';
import { Role } from './role';
import { UserConnection, UserType } from './user.type';
import { type Principal } from './principal';

@Resolver(() => UserType)
export class UserResolver {
  @Authorized()
  @Query(() => UserType, { description: 'The signed-in user.' })
  me(@CurrentUser() user: Principal): UserType {
    return user;
  }

  @Authorized(Role.ADMIN)
  @Query(() => UserConnection, { description: 'Every user, newest first (admin).' })
  users(@Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Connection<UserType>> {
    return ctx.services.users.list(pageRequest(first, after));
  }

  @Authorized(Role.ADMIN)
  @Query(() => UserType, { nullable: true, description: 'One user by id (admin).' })
  async user(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<UserType> {
    const user = await ctx.services.users.findPrincipal(parseObjectId(id));
    if (!user) throw new NotFoundError('User');
    return user;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType, {
    description: "Changes a user's role; their sessions end and their tokens stop working (admin).",
  })
  setUserRole(
    @Arg('id', () => ID) id: string,
    @Arg('role', () => Role) role: Role,
    @CurrentUser() actor: Principal,
    @Ctx() ctx: Context,
  ): Promise<UserType> {
    return ctx.services.users.setRole(actor, parseObjectId(id), role, ctx.meta);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Deletes a user with their todos and sessions (admin).' })
  deleteUser(
    @Arg('id', () => ID) id: string,
    @CurrentUser() actor: Principal,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.services.users.delete(actor, parseObjectId(id), ctx.meta);
  }

  @FieldResolver(() => TodoConnection, {
    description: "The user's todos, newest first (the user themself or an admin).",
  })
  todos(
    @Root() owner: UserType,
    @Args() { first, after, completed }: TodoPageArgs,
    @Ctx() ctx: Context,
  ): Promise<Connection<TodoType>> {
    const viewer = ctx.user;
    if (!viewer || (viewer.id !== owner.id && viewer.role !== Role.ADMIN))
      throw new ForbiddenError();
    const page = pageRequest(first, after);
    return ctx.loaders.todoPagesByOwner.load({
      ownerId: owner.id,
      ...page,
      completed: completed ?? null,
    });
  }
}

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
import { NotFoundError } from '../common/errors';
import { type Connection, pageRequest } from '../common/pagination';
import { parseObjectId } from '../common/validation';
import { CurrentUser } from '../auth/auth-checker';
import { type Context } from '../context';
import { type Principal } from '../users/principal';
import { Role } from '../users/role';
import { UserType } from '../users/user.type';
import { TodoPageArgs } from './todo.args';
import { CreateTodoInput, UpdateTodoInput } from './todo.input';
import { TodoConnection, TodoType } from './todo.type';

@Resolver(() => TodoType)
export class TodoResolver {
  @Authorized(Role.ADMIN)
  @Query(() => TodoConnection, { description: "Everyone's todos, newest first (admin)." })
  todos(
    @Args() { first, after, completed }: TodoPageArgs,
    @Ctx() ctx: Context,
  ): Promise<Connection<TodoType>> {
    return ctx.services.todos.list({ completed }, pageRequest(first, after));
  }

  @Authorized()
  @Query(() => TodoConnection, { description: "The caller's own todos, newest first." })
  myTodos(
    @Args() { first, after, completed }: TodoPageArgs,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<Connection<TodoType>> {
    return ctx.services.todos.list(
      { owner: parseObjectId(user.id), completed },
      pageRequest(first, after),
    );
  }

  @Authorized()
  @Query(() => TodoType, {
    nullable: true,
    description:
      "One todo by id: the caller's own, or any for an admin. Others' todos are NOT_FOUND.",
  })
  todo(
    @Arg('id', () => ID) id: string,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<TodoType> {
    return ctx.services.todos.get(user, parseObjectId(id));
  }

  @Authorized()
  @Mutation(() => TodoType, { description: 'Creates a todo owned by the caller.' })
  createTodo(
    @Arg('input') input: CreateTodoInput,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<TodoType> {
    return ctx.services.todos.create(user, input.title);
  }

  @Authorized()
  @Mutation(() => TodoType, { description: 'Changes a todo (owner or admin).' })
  updateTodo(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateTodoInput,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<TodoType> {
    return ctx.services.todos.update(user, parseObjectId(id), input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Deletes a todo (owner or admin).' })
  deleteTodo(
    @Arg('id', () => ID) id: string,
    @CurrentUser() user: Principal,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.services.todos.delete(user, parseObjectId(id));
  }

  @FieldResolver(() => UserType, { description: 'Who owns the todo.' })
  owner(@Root() todo: TodoType, @Ctx() ctx: Context): UserType | Promise<UserType> {
    // Most todos a caller sees are their own: answered synchronously, with no lookup (a
    // promise per item would cost graphql-js a promise-resolution pass per todo).
    if (ctx.user?.id === todo.ownerId) return ctx.user;
    return loadOwner(todo.ownerId, ctx);
  }
}

async function loadOwner(ownerId: string, ctx: Context): Promise<UserType> {
  const owner = await ctx.loaders.users.load(ownerId);
  if (!owner) throw new NotFoundError('User');
  return owner;
}

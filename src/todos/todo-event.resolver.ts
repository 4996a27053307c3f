import {
  Authorized,
  Ctx,
  Resolver,
  Root,
  type SubscribeResolverData,
  Subscription,
} from 'type-graphql';
import { UnauthenticatedError } from '../common/errors';
import { Loaders } from '../context';
import { type OperationContext } from '../subscriptions/operation-context';
import { Role } from '../users/role';
import { type TodoEvent } from './todo-events';
import { TodoEventType } from './todo-event.type';

type SubscribeData = SubscribeResolverData<unknown, object, OperationContext>;

/** `@Authorized` has run before this: the caller is signed in. */
function ownEvents({ context }: SubscribeData) {
  if (!context.user) throw new UnauthenticatedError();
  return context.services.todoEvents.subscribe({ ownerId: context.user.id });
}

function everyEvent({ context }: SubscribeData) {
  return context.services.todoEvents.subscribe({});
}

/**
 * One subscription's context lives as long as the subscription; the per-request loaders in it
 * would cache every owner for that long. Each event gets its own (events of one subscription
 * are resolved one after another).
 */
function withFreshLoaders(event: TodoEvent, ctx: OperationContext): TodoEvent {
  ctx.loaders = new Loaders(ctx.services);
  return event;
}

@Resolver(() => TodoEventType)
export class TodoEventResolver {
  @Authorized()
  @Subscription(() => TodoEventType, {
    description:
      "The caller's own todos as they change: created, updated, deleted. Ends (socket closed " +
      'with 4401 or 4403) when the access token expires or is revoked.',
    subscribe: ownEvents,
  })
  myTodoEvents(@Root() event: TodoEvent, @Ctx() ctx: OperationContext): TodoEvent {
    return withFreshLoaders(event, ctx);
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => TodoEventType, {
    description:
      "Every user's todos as they change (admin). Ends when the token expires or is revoked, " +
      'and when the caller stops being an admin.',
    subscribe: everyEvent,
  })
  todoEvents(@Root() event: TodoEvent, @Ctx() ctx: OperationContext): TodoEvent {
    return withFreshLoaders(event, ctx);
  }
}

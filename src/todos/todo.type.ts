import { Field, ID, ObjectType } from 'type-graphql';
import { connectionTypes } from '../common/connection.type';
import { type TodoRecord } from './todo.model';

@ObjectType('Todo', { simpleResolvers: true, description: 'A todo item owned by one user.' })
export class TodoType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field({ description: 'What there is to do.' })
  title!: string;

  @Field({ description: 'Whether it is done.' })
  completed!: boolean;

  @Field({ description: 'When it was created.' })
  createdAt!: Date;

  @Field({ description: 'When it last changed.' })
  updatedAt!: Date;

  /** Resolved by `TodoResolver.owner` through the per-request user loader. */
  ownerId!: string;
}

export const { Edge: TodoEdge, Connection: TodoConnection } = connectionTypes(TodoType, 'Todo');

/**
 * The one mapping from a stored todo to what clients see. A TodoType instance, not a plain
 * object: type-graphql copies a plain object into a new instance each time it hands one to a
 * field resolver (`owner`), once per todo in every list.
 */
export function toTodo(record: TodoRecord): TodoType {
  const todo = new TodoType();
  todo.id = record._id.toHexString();
  todo.title = record.title;
  todo.completed = record.completed;
  todo.ownerId = record.owner.toHexString();
  todo.createdAt = record.createdAt;
  todo.updatedAt = record.updatedAt;
  return todo;
}

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

/** The one mapping from a stored todo to what clients see. */
export function toTodo(record: TodoRecord): TodoType {
  return {
    id: record._id.toHexString(),
    title: record.title,
    completed: record.completed,
    ownerId: record.owner.toHexString(),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

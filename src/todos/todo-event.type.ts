import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { TodoType } from './todo.type';

export enum TodoEventKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  DELETED = 'DELETED',
}

registerEnumType(TodoEventKind, {
  name: 'TodoEventKind',
  description: 'What happened to a todo.',
  valuesConfig: {
    CREATED: { description: 'The todo was created.' },
    UPDATED: { description: 'Its title or completion changed.' },
    DELETED: { description: 'It was deleted (by its owner, an admin, or with its account).' },
  },
});

@ObjectType('TodoEvent', { simpleResolvers: true, description: 'One change to a todo.' })
export class TodoEventType {
  @Field(() => TodoEventKind, { description: 'What happened.' })
  kind!: TodoEventKind;

  @Field(() => ID, { description: 'The todo it happened to.' })
  todoId!: string;

  @Field(() => TodoType, {
    nullable: true,
    description: 'The todo after the change; null when it was deleted.',
  })
  todo!: TodoType | null;
}

import { Field, InputType } from 'type-graphql';

@InputType({ description: 'A new todo.' })
export class CreateTodoInput {
  @Field({ description: 'What there is to do (1 to 200 characters).' })
  title!: string;
}

@InputType({ description: 'Changes to a todo; omitted fields stay as they are.' })
export class UpdateTodoInput {
  @Field(() => String, { nullable: true, description: 'New title (1 to 200 characters).' })
  title?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'New completion state.' })
  completed?: boolean | null;
}

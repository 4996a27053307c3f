import { Injectable, Module, UseGuards } from '@nestjs/common';
import {
  Args,
  Context,
  Field,
  ID,
  Int,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { InjectModel, MongooseModule, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type DataLoader from 'dataloader';
import { type HydratedDocument, Model, Schema as MongooseSchema, type Types } from 'mongoose';
import { CurrentUser, GqlAuthGuard, type JwtUser } from './auth';
import { UserType, type UserDocument, UsersModule, UsersService } from './users';

@Schema({ collection: 'todos', timestamps: true })
export class Todo {
  @Prop({ required: true })
  title: string;

  @Prop({ default: false })
  completed: boolean;

  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true })
  owner: Types.ObjectId;
}
export type TodoDocument = HydratedDocument<Todo>;
export const TodoSchema = SchemaFactory.createForClass(Todo);

@ObjectType('Todo')
export class TodoType {
  @Field(() => ID)
  id: string;

  @Field()
  title: string;

  @Field()
  completed: boolean;

  @Field(() => UserType)
  owner: UserType;
}

@ObjectType()
class TodoEdge {
  @Field()
  cursor: string;

  @Field(() => TodoType)
  node: TodoDocument;
}

@ObjectType()
class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field({ nullable: true })
  endCursor?: string;
}

@ObjectType()
class TodoConnection {
  @Field(() => [TodoEdge])
  edges: TodoEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@Injectable()
export class TodosService {
  constructor(@InjectModel(Todo.name) private readonly todoModel: Model<Todo>) {}

  /** A user's todos, newest first: one more than asked for, to know whether a next page exists. */
  findForOwner(owner: string, first: number): Promise<TodoDocument[]> {
    return this.todoModel
      .find({ owner })
      .sort({ createdAt: -1, _id: -1 })
      .limit(first + 1)
      .exec();
  }
}

export interface Loaders {
  users: DataLoader<string, UserDocument | null>;
}

@Resolver(() => TodoType)
export class TodosResolver {
  constructor(private readonly todos: TodosService) {}

  @Query(() => TodoConnection)
  @UseGuards(GqlAuthGuard)
  async myTodos(
    @CurrentUser() user: JwtUser,
    @Args('first', { type: () => Int, defaultValue: 20 }) first: number,
  ): Promise<TodoConnection> {
    const found = await this.todos.findForOwner(user.userId, first);
    const page = found.slice(0, first);
    const edges = page.map((node) => ({ cursor: node.id as string, node }));
    return {
      edges,
      pageInfo: { hasNextPage: found.length > first, endCursor: edges.at(-1)?.cursor },
    };
  }

  @ResolveField(() => UserType)
  owner(@Parent() todo: TodoDocument, @Context('loaders') loaders: Loaders) {
    return loaders.users.load(todo.owner.toString());
  }
}

@Resolver(() => UserType)
export class MeResolver {
  constructor(private readonly users: UsersService) {}

  @Query(() => UserType)
  @UseGuards(GqlAuthGuard)
  me(@CurrentUser() user: JwtUser) {
    return this.users.findById(user.userId);
  }
}

@Module({
  imports: [MongooseModule.forFeature([{ name: Todo.name, schema: TodoSchema }]), UsersModule],
  providers: [TodosService, TodosResolver, MeResolver],
})
export class TodosModule {}

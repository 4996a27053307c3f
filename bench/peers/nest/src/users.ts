import { Injectable, Module } from '@nestjs/common';
import { Field, ID, ObjectType } from '@nestjs/graphql';
import { InjectModel, MongooseModule, Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import DataLoader from 'dataloader';
import { type HydratedDocument, Model, type Types } from 'mongoose';

/** The product's `users` collection, read through a schema of the peer's own (docs recipe). */
@Schema({ collection: 'users', timestamps: true })
export class User {
  @Prop({ required: true })
  email: string;

  @Prop()
  name: string;

  @Prop()
  role: string;
}
export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);

@ObjectType('User')
export class UserType {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  role: string;
}

@Injectable()
export class UsersService {
  constructor(@InjectModel(User.name) private readonly userModel: Model<User>) {}

  findById(id: string): Promise<UserDocument | null> {
    return this.userModel.findById(id).exec();
  }

  /** A per-request loader, as the DataLoader recipes for NestJS build it in the GraphQL context. */
  createLoader(): DataLoader<string, UserDocument | null> {
    return new DataLoader(async (ids: readonly string[]) => {
      const users = await this.userModel.find({ _id: { $in: ids } }).exec();
      const byId = new Map(users.map((user) => [(user._id as Types.ObjectId).toString(), user]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }
}

@Module({
  imports: [MongooseModule.forFeature([{ name: User.name, schema: UserSchema }])],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}

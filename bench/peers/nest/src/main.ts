import 'reflect-metadata';
import { type Server } from 'node:http';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MongooseModule } from '@nestjs/mongoose';
import { type Request } from 'express';
import { AuthModule } from './auth';
import { type Loaders, TodosModule } from './todos';
import { UsersModule, UsersService } from './users';

/**
 * A NestJS app as its documentation teaches: code-first GraphQL with the Apollo driver,
 * @nestjs/mongoose, a passport-jwt guard, and a DataLoader per request in the GraphQL context.
 * `createNestServer` returns the initialised HTTP server; the bench's child wrapper listens.
 */
export async function createNestServer(options: { dbName: string }): Promise<Server> {
  @Module({
    imports: [
      MongooseModule.forRoot(process.env.MONGODB_URI!, { dbName: options.dbName }),
      GraphQLModule.forRootAsync<ApolloDriverConfig>({
        driver: ApolloDriver,
        imports: [UsersModule],
        inject: [UsersService],
        useFactory: (users: UsersService) => ({
          autoSchemaFile: true,
          context: ({ req }: { req: Request }) => ({
            req,
            loaders: { users: users.createLoader() } satisfies Loaders,
          }),
        }),
      }),
      AuthModule,
      UsersModule,
      TodosModule,
    ],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.init();
  return app.getHttpServer() as Server;
}

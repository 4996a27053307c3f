import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { type PubSub, buildSchema } from 'type-graphql';
import { AccountsResolver } from './accounts/accounts.resolver';
import { AuditResolver } from './audit/audit.resolver';
import { AuthResolver } from './auth/auth.resolver';
import { authChecker } from './auth/auth-checker';
import { TodoEventResolver } from './todos/todo-event.resolver';
import { TodoResolver } from './todos/todo.resolver';
import { UserResolver } from './users/user.resolver';

let built: Promise<GraphQLSchema> | undefined;

/**
 * type-graphql requires a PubSub once there are subscriptions, but every subscription here
 * names its own source (`subscribe:`, the app's TodoEvents): topics are never used.
 */
const noTopics: PubSub = {
  publish() {
    throw new Error('Subscriptions here have no topics; publish through TodoEvents');
  },
  subscribe() {
    throw new Error('Subscriptions here have no topics; subscribe through TodoEvents');
  },
};

/** The executable schema; built once per process (it depends on code only, not on config). */
export function buildAppSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [
      AuthResolver,
      UserResolver,
      TodoResolver,
      AuditResolver,
      TodoEventResolver,
      AccountsResolver,
    ],
    authChecker,
    pubSub: noTopics,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Inputs are validated by the services (zod), where errors get the contract's codes.
    validate: false,
  });
  return built;
}

/** The SDL committed as `schema.graphql` (`npm run schema` writes it; a test compares). */
export function renderSchema(schema: GraphQLSchema): string {
  const header = '# Generated from the code by `npm run schema`; do not edit by hand.\n\n';
  return header + printSchema(lexicographicSortSchema(schema)) + '\n';
}

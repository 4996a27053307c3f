import mongoose from 'mongoose';
import { AccountTokenModel } from '../accounts/account-token.model';
import { AuditEventModel } from '../audit/audit.model';
import { SessionModel } from '../auth/session.model';
import { TrustedAddressModel } from '../auth/trusted-address.model';
import { TodoEventModel } from '../todos/todo-event.model';
import { TodoModel } from '../todos/todo.model';
import { UserModel } from '../users/user.model';

export const MODELS = [
  UserModel,
  TodoModel,
  SessionModel,
  AuditEventModel,
  TrustedAddressModel,
  TodoEventModel,
  AccountTokenModel,
];

export interface ConnectOptions {
  dbName?: string;
  /** Emit driver command events (tests count database round trips with them). */
  monitorCommands?: boolean;
}

// Indexes are built explicitly below, so a start waits for them and fails loudly if one cannot
// be built (a unique index over existing duplicates, say), instead of in the background.
mongoose.set('autoIndex', false);
mongoose.set('strictQuery', true);

/** Connects mongoose's default connection and builds every index the models declare. */
export async function connectDatabase(
  uri: string,
  options: ConnectOptions = {},
): Promise<mongoose.Connection> {
  await mongoose.connect(uri, {
    serverSelectionTimeoutMS: 10_000,
    ...(options.dbName ? { dbName: options.dbName } : {}),
    ...(options.monitorCommands ? { monitorCommands: true } : {}),
  });
  await Promise.all(MODELS.map((model) => model.createIndexes()));
  return mongoose.connection;
}

export async function disconnectDatabase(): Promise<void> {
  await mongoose.disconnect();
}

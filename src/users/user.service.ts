import DataLoader from 'dataloader';
import { mongo, Types } from 'mongoose';
import { BadUserInputError, NotFoundError } from '../common/errors';
import { type Connection, type PageRequest, paginate } from '../common/pagination';
import { type RequestMeta } from '../common/request-meta';
import { type AuditService } from '../audit/audit.service';
import { type PrincipalCache } from '../auth/principal-cache';
import { type SessionService } from '../auth/session.service';
import { TodoModel } from '../todos/todo.model';
import { type RoleName, UserModel, type UserRecord } from './user.model';
import { PUBLIC_USER_FIELDS, type Principal, toPrincipal } from './user.mapper';

export interface NewUser {
  email: string;
  name: string;
  role: RoleName;
  passwordHash: string;
}

/**
 * A user by id, without the hash. Through the driver directly: it is on the path of every
 * signed-in request (via the principal cache), and mongoose's query layer adds nothing here.
 */
export async function findPrincipalById(
  id: Types.ObjectId | string,
): Promise<Principal | undefined> {
  const record = await UserModel.collection.findOne<UserRecord>(
    { _id: new Types.ObjectId(id) },
    { projection: PUBLIC_USER_FIELDS },
  );
  return record ? toPrincipal(record) : undefined;
}

const isDuplicateKey = (error: unknown) =>
  error instanceof mongo.MongoServerError && error.code === 11000;

export class UserService {
  constructor(
    private readonly principals: PrincipalCache,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  /** Creates an account; the unique index, not a prior lookup, decides a duplicate email. */
  async create(user: NewUser): Promise<Principal> {
    try {
      const created = await UserModel.create(user);
      return toPrincipal(created);
    } catch (error) {
      if (isDuplicateKey(error)) {
        throw new BadUserInputError('This email is already registered', 'email');
      }
      throw error;
    }
  }

  async findWithPasswordHash(
    email: string,
  ): Promise<{ user: Principal; passwordHash: string } | undefined> {
    const record = await UserModel.findOne(
      { email },
      { ...PUBLIC_USER_FIELDS, passwordHash: 1 },
    ).lean();
    return record ? { user: toPrincipal(record), passwordHash: record.passwordHash } : undefined;
  }

  /** The user as stored now (not cached): for decisions that must see the latest role. */
  findPrincipal(id: Types.ObjectId | string): Promise<Principal | undefined> {
    return findPrincipalById(id);
  }

  async replacePasswordHash(
    id: string,
    passwordHash: string,
    endTokens: boolean,
  ): Promise<Principal> {
    const update = endTokens
      ? { $set: { passwordHash }, $inc: { credentialVersion: 1 } }
      : { $set: { passwordHash } };
    const record = await UserModel.findByIdAndUpdate(id, update, {
      returnDocument: 'after',
      projection: PUBLIC_USER_FIELDS,
    }).lean();
    if (!record) throw new NotFoundError('User');
    if (endTokens) this.principals.invalidate(id);
    return toPrincipal(record);
  }

  /** Makes every access token issued to the user so far stop working. */
  async bumpCredentialVersion(id: string): Promise<void> {
    await UserModel.updateOne({ _id: id }, { $inc: { credentialVersion: 1 } });
    this.principals.invalidate(id);
  }

  list(page: PageRequest): Promise<Connection<Principal>> {
    return paginate<UserRecord, Principal>(UserModel, {}, page, toPrincipal, PUBLIC_USER_FIELDS);
  }

  async setRole(
    actor: Principal,
    id: Types.ObjectId,
    role: RoleName,
    meta: RequestMeta,
  ): Promise<Principal> {
    if (actor.id === id.toHexString()) {
      throw new BadUserInputError('Admins cannot change their own role', 'id');
    }
    const before = await this.findPrincipal(id);
    if (!before) throw new NotFoundError('User');
    if (before.role === role) return before;
    // The new role must not ride on tokens minted for the old one: end them all.
    const record = await UserModel.findByIdAndUpdate(
      id,
      { $set: { role }, $inc: { credentialVersion: 1 } },
      { returnDocument: 'after', projection: PUBLIC_USER_FIELDS },
    ).lean();
    if (!record) throw new NotFoundError('User');
    this.principals.invalidate(before.id);
    await this.sessions.endAll(before.id, 'role-changed');
    await this.audit.record(
      {
        type: 'ROLE_CHANGED',
        userId: before.id,
        actorId: actor.id,
        details: { from: before.role, to: role },
      },
      meta,
    );
    return toPrincipal(record);
  }

  /**
   * Deletes the user with their todos and sessions. There are no multi-document transactions
   * on a standalone MongoDB, so the order makes a retry safe: first the user's tokens stop
   * working, then the dependants go, the account last; a final sweep catches a todo created
   * in between.
   */
  async delete(actor: Principal, id: Types.ObjectId, meta: RequestMeta): Promise<boolean> {
    if (actor.id === id.toHexString()) {
      throw new BadUserInputError('Admins cannot delete their own account', 'id');
    }
    const userId = id.toHexString();
    const bumped = await UserModel.updateOne({ _id: id }, { $inc: { credentialVersion: 1 } });
    if (bumped.matchedCount === 0) throw new NotFoundError('User');
    this.principals.invalidate(userId);
    await this.sessions.deleteAllOf(userId);
    const todos = await TodoModel.deleteMany({ owner: id });
    await UserModel.deleteOne({ _id: id });
    await TodoModel.deleteMany({ owner: id });
    await this.sessions.deleteAllOf(userId);
    await this.audit.record(
      {
        type: 'USER_DELETED',
        userId,
        actorId: actor.id,
        details: { todosDeleted: todos.deletedCount },
      },
      meta,
    );
    return true;
  }

  /** Per-request batching: every `owner` in one response costs one query together. */
  createLoader(): DataLoader<string, Principal | undefined> {
    return new DataLoader(async (ids) => {
      const records = await UserModel.collection
        .find<UserRecord>(
          { _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
          { projection: PUBLIC_USER_FIELDS },
        )
        .toArray();
      const byId = new Map(
        records.map((record) => [record._id.toHexString(), toPrincipal(record)]),
      );
      return ids.map((id) => byId.get(id));
    });
  }
}

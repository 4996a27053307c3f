import DataLoader from 'dataloader';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key';
import { BadUserInputError, NotFoundError } from '../common/errors';
import { type Connection, type PageRequest, paginate } from '../common/pagination';
import { type RequestMeta } from '../common/request-meta';
import { type Credentials } from '../auth/credentials';
import { type SessionService } from '../auth/session.service';
import { type TodoService } from '../todos/todo.service';
import { type AdminGuard } from './admin-guard';
import { Role } from './role';
import { UserModel, type UserRecord } from './user.model';
import { PUBLIC_USER_FIELDS, type Principal, toPrincipal } from './principal';

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  emailVerified?: boolean;
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

export class UserService {
  constructor(
    private readonly credentials: Credentials,
    private readonly sessions: SessionService,
    private readonly todos: TodoService,
    private readonly admins: AdminGuard,
  ) {}

  /** Creates an account; the unique index, not a prior lookup, decides a duplicate email. */
  async create(user: NewUser): Promise<Principal> {
    const created = await this.createIfAbsent(user);
    if (!created) throw new BadUserInputError('This email is already registered', 'email');
    return created;
  }

  /** Creates an account, or answers undefined when the email is taken. */
  async createIfAbsent(user: NewUser): Promise<Principal | undefined> {
    try {
      const created = toPrincipal(await UserModel.create(user));
      if (created.role === Role.ADMIN) await this.admins.added(created.id);
      return created;
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /** Marks `email` verified, if it is still the account's address; false otherwise. */
  async markEmailVerified(id: Types.ObjectId | string, email: string): Promise<boolean> {
    const result = await UserModel.updateOne({ _id: id, email }, { $set: { emailVerified: true } });
    return result.matchedCount === 1;
  }

  /** The account registered under a canonical email, if any. */
  async findByEmail(email: string): Promise<Principal | undefined> {
    const record = await UserModel.collection.findOne<UserRecord>(
      { email },
      { projection: PUBLIC_USER_FIELDS },
    );
    return record ? toPrincipal(record) : undefined;
  }

  /** The user as stored now (not cached): for decisions that must see the latest role. */
  findPrincipal(id: Types.ObjectId | string): Promise<Principal | undefined> {
    return findPrincipalById(id);
  }

  list(page: PageRequest): Promise<Connection<Principal>> {
    return paginate<UserRecord, Principal>(UserModel, {}, page, toPrincipal, PUBLIC_USER_FIELDS);
  }

  async setRole(
    actor: Principal,
    id: Types.ObjectId,
    role: Role,
    meta: RequestMeta,
  ): Promise<Principal> {
    if (actor.id === id.toHexString()) {
      throw new BadUserInputError('Admins cannot change their own role', 'id');
    }
    const before = await this.findPrincipal(id);
    if (!before) throw new NotFoundError('User');
    if (before.role === role) {
      // Also repairs an admin the guard lost track of (see AdminGuard).
      if (role === Role.ADMIN) await this.admins.added(before.id);
      return before;
    }
    if (before.role === Role.ADMIN) await this.leaveAdmins(actor, before.id);
    // The new role must not ride on tokens minted for the old one: end them all. The `where`
    // makes a role that changed since `before` was read a no-op rather than a wrong audit.
    const after = await this.credentials.revokeAll(id, 'role-changed', meta, {
      set: { role },
      where: { role: before.role },
      actorId: actor.id,
      details: { from: before.role, to: role },
    });
    if (!after) throw new NotFoundError('User');
    if (role === Role.ADMIN) await this.admins.added(after.id);
    return after;
  }

  /** Before an admin is demoted or deleted: refused if no other admin would remain. */
  private async leaveAdmins(actor: Principal, targetId: string): Promise<void> {
    if (!(await this.admins.remove(actor.id, targetId))) {
      throw new BadUserInputError(
        'At least one admin must remain, and only a current admin can remove another',
        'id',
      );
    }
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
    const target = await this.findPrincipal(id);
    if (!target) throw new NotFoundError('User');
    if (target.role === Role.ADMIN) await this.leaveAdmins(actor, target.id);
    const revoked = await this.credentials.revokeAll(id, 'user-deleted', meta, {
      actorId: actor.id,
    });
    if (!revoked) throw new NotFoundError('User');
    const userId = id.toHexString();
    await this.sessions.deleteAllOf(userId);
    await this.todos.deleteAllOf(id);
    await UserModel.deleteOne({ _id: id });
    await this.todos.deleteAllOf(id);
    await this.sessions.deleteAllOf(userId);
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

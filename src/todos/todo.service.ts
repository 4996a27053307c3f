import DataLoader from 'dataloader';
import { Types } from 'mongoose';
import { BadUserInputError, NotFoundError } from '../common/errors';
import {
  type Connection,
  NEWEST_FIRST,
  type PageRequest,
  afterFilter,
  paginate,
  toConnection,
} from '../common/pagination';
import { titleSchema, validate } from '../common/validation';
import { type Principal } from '../users/principal';
import { Role } from '../users/role';
import { TodoEventKind } from './todo-event.type';
import { type TodoEvents } from './todo-events';
import { TodoModel, type TodoRecord } from './todo.model';
import { type TodoType, toTodo } from './todo.type';

export interface TodoFilter {
  owner?: Types.ObjectId;
  completed?: boolean | null;
}

export interface TodoChanges {
  title?: string | null;
  completed?: boolean | null;
}

interface OwnerCountKey {
  ownerId: string;
  completed: boolean | null;
}

/** A page of one user's todos, as `User.todos` asks for it. */
export interface OwnerPageKey {
  ownerId: string;
  first: number;
  after: PageRequest['after'];
  completed: boolean | null;
}

const matchOf = (filter: TodoFilter) => ({
  ...(filter.owner ? { owner: filter.owner } : {}),
  ...(filter.completed == null ? {} : { completed: filter.completed }),
});

/** Admins reach every todo; anyone else only their own. Others' todos are simply not found. */
const visibleTo = (viewer: Principal, id: Types.ObjectId) =>
  viewer.role === Role.ADMIN ? { _id: id } : { _id: id, owner: new Types.ObjectId(viewer.id) };

export class TodoService {
  /**
   * Every change below is published to subscribers once it is stored; MAX_TODOS_PER_USER
   * bounds each owner's todos.
   */
  constructor(
    private readonly events: TodoEvents,
    private readonly maxPerOwner = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * Stored first, then counted: a todo that finds more than the quota created before it
   * (itself included) is taken back. So concurrent creates cannot overshoot the quota, which
   * a count before the insert would allow.
   */
  async create(owner: Principal, title: string): Promise<TodoType> {
    const record = await TodoModel.create({
      title: validate(titleSchema, title, 'title'),
      completed: false,
      owner: owner.id,
    });
    const rank = await TodoModel.countDocuments({ owner: record.owner, _id: { $lte: record._id } });
    if (rank > this.maxPerOwner) {
      await TodoModel.deleteOne({ _id: record._id });
      throw new BadUserInputError(
        `You have reached the limit of ${this.maxPerOwner} todos; delete some first`,
        'input',
      );
    }
    const todo = toTodo(record.toObject());
    await this.events.publish([{ kind: TodoEventKind.CREATED, todo }]);
    return todo;
  }

  async get(viewer: Principal, id: Types.ObjectId): Promise<TodoType> {
    const record = await TodoModel.collection.findOne<TodoRecord>(visibleTo(viewer, id));
    if (!record) throw new NotFoundError('Todo');
    return toTodo(record);
  }

  async update(viewer: Principal, id: Types.ObjectId, changes: TodoChanges): Promise<TodoType> {
    const set: Partial<Pick<TodoRecord, 'title' | 'completed'>> = {};
    if (changes.title != null) set.title = validate(titleSchema, changes.title, 'title');
    if (changes.completed != null) set.completed = changes.completed;
    const record =
      Object.keys(set).length === 0
        ? await TodoModel.findOne(visibleTo(viewer, id)).lean<TodoRecord>()
        : await TodoModel.findOneAndUpdate(
            visibleTo(viewer, id),
            { $set: set },
            { returnDocument: 'after' },
          ).lean<TodoRecord>();
    if (!record) throw new NotFoundError('Todo');
    const todo = toTodo(record);
    // A no-op update changed nothing: there is nothing to tell subscribers.
    if (Object.keys(set).length > 0) {
      await this.events.publish([{ kind: TodoEventKind.UPDATED, todo }]);
    }
    return todo;
  }

  async delete(viewer: Principal, id: Types.ObjectId): Promise<boolean> {
    const deleted = await TodoModel.collection.findOneAndDelete(visibleTo(viewer, id), {
      projection: { owner: 1 },
    });
    if (!deleted) throw new NotFoundError('Todo');
    await this.events.publish([
      {
        kind: TodoEventKind.DELETED,
        todoId: id.toHexString(),
        ownerId: deleted.owner.toHexString(),
      },
    ]);
    return true;
  }

  /**
   * Every todo of a user (their account is being deleted); returns how many went. The ids are
   * read first so that each deletion reaches subscribers; a todo created meanwhile is left to
   * the caller's final sweep.
   */
  async deleteAllOf(ownerId: Types.ObjectId): Promise<number> {
    const ids = await TodoModel.collection
      .find({ owner: ownerId }, { projection: { _id: 1 } })
      .map((row) => row._id)
      .toArray();
    if (ids.length === 0) return 0;
    const result = await TodoModel.deleteMany({ owner: ownerId, _id: { $in: ids } });
    const owner = ownerId.toHexString();
    await this.events.publish(
      ids.map((id) => ({ kind: TodoEventKind.DELETED, todoId: id.toHexString(), ownerId: owner })),
    );
    return result.deletedCount;
  }

  list(filter: TodoFilter, page: PageRequest): Promise<Connection<TodoType>> {
    return paginate<TodoRecord, TodoType>(TodoModel, matchOf(filter), page, toTodo);
  }

  /**
   * Batches `User.todos` across every user in a response: one aggregation per distinct page
   * shape (first / after / completed), whatever the number of users.
   */
  createOwnerPageLoader(): DataLoader<OwnerPageKey, Connection<TodoType>, string> {
    const countKey = (key: OwnerCountKey) => `${key.ownerId}:${key.completed}`;
    const countLoader = new DataLoader<OwnerCountKey, number, string>(
      async (keys) => {
        const counts = new Map<string, number>();
        for (const members of groupBy(keys, (key) => String(key.completed)).values()) {
          const { completed } = members[0]!;
          const rows = await TodoModel.collection
            .aggregate<{ _id: Types.ObjectId; n: number }>([
              {
                $match: {
                  owner: { $in: members.map((m) => new Types.ObjectId(m.ownerId)) },
                  ...matchOf({ completed }),
                },
              },
              { $group: { _id: '$owner', n: { $sum: 1 } } },
            ])
            .toArray();
          for (const row of rows)
            counts.set(countKey({ ownerId: row._id.toHexString(), completed }), row.n);
        }
        return keys.map((key) => counts.get(countKey(key)) ?? 0);
      },
      { cacheKeyFn: countKey },
    );

    return new DataLoader<OwnerPageKey, Connection<TodoType>, string>(
      async (keys) => {
        const groups = groupBy(keys, (key) =>
          JSON.stringify([key.first, key.after, key.completed]),
        );
        const pages = new Map<OwnerPageKey, Connection<TodoType>>();
        for (const members of groups.values()) {
          const { first, after, completed } = members[0]!;
          const rows = await TodoModel.collection
            .aggregate<{ _id: Types.ObjectId; items: TodoRecord[] }>([
              {
                $match: {
                  owner: { $in: members.map((m) => new Types.ObjectId(m.ownerId)) },
                  ...matchOf({ completed }),
                  ...afterFilter(after),
                },
              },
              { $sort: { owner: 1, ...NEWEST_FIRST } },
              // $firstN (MongoDB 5.2+) keeps only one page per owner, in the sorted order.
              { $group: { _id: '$owner', items: { $firstN: { input: '$$ROOT', n: first + 1 } } } },
            ])
            .toArray();
          const byOwner = new Map(rows.map((row) => [row._id.toHexString(), row.items]));
          for (const key of members) {
            pages.set(
              key,
              toConnection(byOwner.get(key.ownerId) ?? [], first, toTodo, () =>
                countLoader.load({ ownerId: key.ownerId, completed }),
              ),
            );
          }
        }
        return keys.map((key) => pages.get(key)!);
      },
      { cacheKeyFn: (key) => JSON.stringify([key.ownerId, key.first, key.after, key.completed]) },
    );
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

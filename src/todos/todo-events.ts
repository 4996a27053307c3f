import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { type Logger } from 'pino';
import { TodoEventKind } from './todo-event.type';
import { TodoEventModel, type TodoEventRecord } from './todo-event.model';
import { type TodoType } from './todo.type';

/** A change as subscribers receive it (the `TodoEvent` GraphQL type, plus routing fields). */
export interface TodoEvent {
  id: string;
  kind: TodoEventKind;
  todoId: string;
  ownerId: string;
  todo: TodoType | null;
}

export type TodoChange =
  | { kind: TodoEventKind.CREATED | TodoEventKind.UPDATED; todo: TodoType }
  | { kind: TodoEventKind.DELETED; todoId: string; ownerId: string };

export interface TodoEventFilter {
  /** Only this owner's todos; every todo when absent. */
  ownerId?: string;
}

/**
 * How far back each read reaches behind the previous one. Events are ordered by the writing
 * instance's clock and become visible when their insert lands, so an event can appear "in
 * the past" of a reader by the clock skew between instances plus the insert's latency. The
 * overlap covers that; ids already delivered are skipped.
 */
const OVERLAP_MS = 3000;
/** Rows per read; more than this in one overlap window is logged (events may be skipped). */
const READ_LIMIT = 5000;
/** Events a subscriber may have waiting before it is ended as too slow. */
const MAX_QUEUE = 1000;

/**
 * Todo changes for subscribers, across instances through MongoDB only. The instance that
 * makes a change delivers it to its own subscribers at once and writes it to a short-lived
 * events collection; every instance that has subscribers reads that collection every
 * WS_EVENT_POLL_MS and delivers what other instances wrote. Works on any MongoDB (standalone
 * included) and on the embedded server: no change streams, no extra infrastructure.
 */
export class TodoEvents {
  /** Tells this instance's events apart from others' in the shared collection. */
  readonly instanceId = randomUUID();
  private readonly everyone = new Set<EventQueue>();
  private readonly byOwner = new Map<string, Set<EventQueue>>();
  private count = 0;
  /** Event id → its `at` (ms), for every event read within the current window. */
  private readonly seen = new Map<string, number>();
  private since = 0;
  private primed: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** Subscribers on this instance right now. */
  get subscriberCount(): number {
    return this.count;
  }

  /** Delivers the changes here at once and records them for the other instances. */
  async publish(changes: readonly TodoChange[]): Promise<void> {
    if (changes.length === 0) return;
    const at = new Date();
    const records: TodoEventRecord[] = changes.map((change) => {
      const todo = change.kind === TodoEventKind.DELETED ? null : change.todo;
      return {
        _id: new Types.ObjectId(),
        kind: change.kind,
        todo: new Types.ObjectId(todo ? todo.id : (change as { todoId: string }).todoId),
        owner: new Types.ObjectId(todo ? todo.ownerId : (change as { ownerId: string }).ownerId),
        title: todo?.title ?? null,
        completed: todo?.completed ?? null,
        createdAt: todo?.createdAt ?? null,
        updatedAt: todo?.updatedAt ?? null,
        at,
        origin: this.instanceId,
      };
    });
    for (const record of records) this.deliver(toEvent(record));
    try {
      await TodoEventModel.collection.insertMany(records, { ordered: false });
    } catch (error) {
      // The change itself is stored; only other instances' subscribers miss it.
      this.logger.error({ err: error }, 'could not record todo events for other instances');
    }
  }

  /**
   * A stream of the changes that match `filter`, from now on. Resolves once this instance
   * reads other instances' events too, so nothing written after it resolves is missed.
   */
  async subscribe(filter: TodoEventFilter): Promise<AsyncIterableIterator<TodoEvent>> {
    const { ownerId } = filter;
    if (this.stopped) {
      const ended = new EventQueue(this.logger, () => undefined);
      ended.end();
      return ended;
    }
    const queue = new EventQueue(this.logger, () => {
      this.count -= 1;
      if (ownerId === undefined) this.everyone.delete(queue);
      else {
        const set = this.byOwner.get(ownerId);
        set?.delete(queue);
        if (set?.size === 0) this.byOwner.delete(ownerId);
      }
      if (this.count === 0) this.stopReading();
    });
    this.count += 1;
    if (ownerId === undefined) this.everyone.add(queue);
    else {
      let set = this.byOwner.get(ownerId);
      if (!set) this.byOwner.set(ownerId, (set = new Set()));
      set.add(queue);
    }
    await this.startReading();
    return queue;
  }

  /** Ends every stream and stops reading (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const queue of [...this.everyone]) queue.end();
    for (const set of [...this.byOwner.values()]) for (const queue of [...set]) queue.end();
    this.stopReading();
  }

  private deliver(event: TodoEvent): void {
    for (const queue of this.everyone) queue.push(event);
    const owners = this.byOwner.get(event.ownerId);
    if (owners) for (const queue of owners) queue.push(event);
  }

  /**
   * The first read only marks what is already there as seen: a new subscriber gets changes
   * from now on, not the last few seconds' worth.
   */
  private startReading(): Promise<void> {
    this.primed ??= this.read(false).then(() => this.schedule());
    return this.primed;
  }

  private stopReading(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.primed = undefined;
    this.since = 0;
    this.seen.clear();
  }

  private schedule(): void {
    if (this.count === 0 || this.stopped || this.primed === undefined) return;
    const generation = this.primed;
    this.timer = setTimeout(() => {
      void this.read(true).then(() => {
        // Reading stopped (and maybe restarted) meanwhile: that generation schedules itself.
        if (this.primed === generation) this.schedule();
      });
    }, this.pollMs);
    this.timer.unref();
  }

  private async read(deliver: boolean): Promise<void> {
    const startedAt = Date.now();
    const from = this.since > 0 && deliver ? this.since : startedAt - OVERLAP_MS;
    let rows: TodoEventRecord[];
    try {
      rows = await TodoEventModel.collection
        .find<TodoEventRecord>({ at: { $gte: new Date(from) }, origin: { $ne: this.instanceId } })
        .sort({ at: 1, _id: 1 })
        .limit(READ_LIMIT)
        .toArray();
    } catch (error) {
      // The next read covers the same window again (`since` did not move).
      this.logger.warn({ err: error }, 'could not read todo events from other instances');
      return;
    }
    if (rows.length === READ_LIMIT) {
      this.logger.warn({ limit: READ_LIMIT }, 'todo events: read limit reached; some may be late');
    }
    for (const row of rows) {
      const id = row._id.toHexString();
      if (this.seen.has(id)) continue;
      this.seen.set(id, row.at.getTime());
      if (deliver) this.deliver(toEvent(row));
    }
    this.since = startedAt - OVERLAP_MS;
    // What is older than the next read's window can never be read again.
    for (const [id, at] of this.seen) if (at < this.since) this.seen.delete(id);
  }
}

function toEvent(record: TodoEventRecord): TodoEvent {
  const todoId = record.todo.toHexString();
  const ownerId = record.owner.toHexString();
  const kind = record.kind as TodoEventKind;
  return {
    id: record._id.toHexString(),
    kind,
    todoId,
    ownerId,
    todo:
      kind === TodoEventKind.DELETED
        ? null
        : {
            id: todoId,
            ownerId,
            title: record.title!,
            completed: record.completed!,
            createdAt: record.createdAt!,
            updatedAt: record.updatedAt!,
          },
  };
}

/** One subscriber's pending events, as the async iterator graphql-js consumes. */
class EventQueue implements AsyncIterableIterator<TodoEvent> {
  private pending: TodoEvent[] = [];
  private waiting: ((result: IteratorResult<TodoEvent>) => void) | undefined;
  private done = false;

  constructor(
    private readonly logger: Logger,
    private readonly onEnd: () => void,
  ) {}

  push(event: TodoEvent): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
    } else if (this.pending.length >= MAX_QUEUE) {
      // A client that does not read its socket must not make the server buffer without end.
      this.logger.warn({ pending: this.pending.length }, 'subscriber too slow: stream ended');
      this.end();
    } else {
      this.pending.push(event);
    }
  }

  next(): Promise<IteratorResult<TodoEvent>> {
    const event = this.pending.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<TodoEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    this.onEnd();
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TodoEvent> {
    return this;
  }
}

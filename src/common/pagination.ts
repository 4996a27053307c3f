import { type Model, Types } from 'mongoose';
import { findPage } from '../db/find-page';
import { BadUserInputError } from './errors';
import { pageSizeSchema, validate } from './validation';

/**
 * Keyset pagination, newest first, over `(createdAt desc, _id desc)`. A cursor names the last
 * item a client saw; it is opaque to clients (base64url) and checked strictly when it comes
 * back, so a forged cursor is bad input, never a query operator.
 */

export interface Keyed {
  _id: Types.ObjectId;
  createdAt: Date;
}

export interface Position {
  createdAt: Date;
  id: Types.ObjectId;
}

export interface PageRequest {
  first: number;
  after: Position | undefined;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /**
   * Called by graphql-js's default resolver only when a client selects `totalCount`, so a page
   * that does not ask for it costs no count query.
   */
  totalCount: () => Promise<number>;
}

export const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

export function encodeCursor(item: Keyed): string {
  return Buffer.from(`${item.createdAt.getTime()}:${item._id.toHexString()}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const match = /^(\d{1,15}):([0-9a-f]{24})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || cursor.length > 64) throw new BadUserInputError('Malformed cursor', 'after');
  return { createdAt: new Date(Number(match[1])), id: new Types.ObjectId(match[2]) };
}

export const DEFAULT_PAGE_SIZE = 20;

/** `first: null` means the default, as if it had been left out. */
export function pageRequest(
  first: number | null | undefined,
  after: string | null | undefined,
): PageRequest {
  return {
    first: validate(pageSizeSchema, first ?? DEFAULT_PAGE_SIZE, 'first'),
    after: after == null ? undefined : decodeCursor(after),
  };
}

/** The filter that selects what comes after `position` in newest-first order. */
export function afterFilter(position: Position | undefined): Record<string, unknown> {
  if (!position) return {};
  return {
    $or: [
      { createdAt: { $lt: position.createdAt } },
      { createdAt: position.createdAt, _id: { $lt: position.id } },
    ],
  };
}

/**
 * Builds a connection from up to `first + 1` items in newest-first order (the extra item only
 * tells that another page follows).
 */
export function toConnection<T extends Keyed, N>(
  items: T[],
  first: number,
  map: (item: T) => N,
  totalCount: () => Promise<number>,
): Connection<N> {
  const hasNextPage = items.length > first;
  const edges = (hasNextPage ? items.slice(0, first) : items).map(
    (item) => new Edge(item, map(item)),
  );
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}

/**
 * An edge encodes its cursor only when read: graphql-js reads it only when the client selects
 * `cursor`, and a list that does not costs no base64 encoding per item.
 */
class Edge<T extends Keyed, N> {
  constructor(
    private readonly item: T,
    readonly node: N,
  ) {}

  get cursor(): string {
    return encodeCursor(this.item);
  }
}

/**
 * One page of `model` matching `match`, newest first: one `find`, and a count if asked for.
 * Reads go to the driver directly: for a hot read of plain, already typed filters mongoose's
 * query layer costs more than the driver itself (~400 µs against ~280 µs of client CPU for a
 * page of 21, measured on the embedded server), and `findPage` saves most of the rest.
 */
export async function paginate<T extends Keyed, N>(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  match: Record<string, unknown>,
  page: PageRequest,
  map: (item: T) => N,
  projection?: Record<string, 0 | 1>,
): Promise<Connection<N>> {
  const items = await findPage<T>(model, {
    filter: { ...match, ...afterFilter(page.after) },
    sort: NEWEST_FIRST,
    limit: page.first + 1,
    projection,
  });
  return toConnection(items, page.first, map, () => model.collection.countDocuments(match));
}

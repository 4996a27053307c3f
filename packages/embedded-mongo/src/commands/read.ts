import { Long } from 'bson';

import { type Doc, EMPTY_ARRAY, keyOf, kindOf, pathValues, toLong } from '../bson-values';
import { badValue, CommandError, ErrorCode } from '../errors';
import { compileFilter, projectDocuments } from '../query/filter';
import { cursorReply, type Reply, takeBatch } from '../wire/reply';
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  letVariables,
  optionalBool,
  optionalDocument,
  optionalHint,
  optionalInt,
  refuseOptions,
} from './context';

/** mongod's default size of a first batch. */
const DEFAULT_BATCH_SIZE = 101;

/** Replies with the first batch and keeps a cursor open for the rest, if any. */
export function firstBatchReply(
  ctx: CommandContext,
  ns: string,
  docs: Doc[],
  batchSize: number | undefined,
  singleBatch = false,
): Reply {
  const { batch, next } = takeBatch(docs, 0, batchSize ?? DEFAULT_BATCH_SIZE);
  if (singleBatch || next >= docs.length) return cursorReply('firstBatch', batch, Long.ZERO, ns);
  const cursor = ctx.cursors.open(ns, docs, next);
  return cursorReply('firstBatch', batch, cursor.id, ns);
}

function batchSizeOf(value: number | undefined): number | undefined {
  if (value !== undefined && value < 0) throw badValue('BatchSize value must be non-negative');
  return value;
}

function skipOf(value: number | undefined): number {
  if (value !== undefined && value < 0) throw badValue('Skip value must be non-negative');
  return value ?? 0;
}

const find: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  refuseOptions(cmd, [
    'collation',
    'tailable',
    'awaitData',
    'min',
    'max',
    'returnKey',
    'showRecordId',
  ]);
  const filter = optionalDocument(cmd, 'filter', ctx);
  const sort = optionalDocument(cmd, 'sort', ctx);
  const projection = optionalDocument(cmd, 'projection', ctx);
  const variables = letVariables(cmd, ctx);
  const skip = skipOf(optionalInt(cmd, 'skip', ctx));
  const rawLimit = optionalInt(cmd, 'limit', ctx) ?? 0;
  const batchSize = batchSizeOf(optionalInt(cmd, 'batchSize', ctx));
  // A negative limit is the legacy spelling of "limit, in a single batch".
  const limit = rawLimit === 0 ? undefined : Math.abs(rawLimit);
  const singleBatch = optionalBool(cmd, 'singleBatch') || rawLimit < 0;

  const hint = optionalHint(cmd, ctx);
  const compiled = compileFilter(filter, variables, projection);
  const collection = ctx.catalog.get(ctx.dbName, name);
  const scope = collection?.hintScope(hint) ?? {};
  const order = scope.reverse && sort === undefined ? { $natural: -1 } : sort;
  const results = collection
    ? collection.find(compiled, { sort: order, skip, limit, within: scope.within })
    : [];
  const projected = projectDocuments(results, compiled, projection);
  const firstBatch =
    singleBatch && limit !== undefined ? Math.min(limit, batchSize ?? limit) : batchSize;
  return firstBatchReply(ctx, `${ctx.dbName}.${name}`, projected, firstBatch, singleBatch);
};

const getMore: CommandHandler = (cmd, ctx) => {
  const rawId = cmd.getMore;
  const kind = kindOf(rawId);
  if (kind !== 'long' && kind !== 'number') {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field 'getMore.getMore' is the wrong type '${kind}', expected type 'long'`,
    );
  }
  const id = toLong(rawId);
  const collection = cmd.collection;
  if (typeof collection !== 'string') {
    throw new CommandError(
      40414,
      "BSON field 'getMore.collection' is missing but a required field",
    );
  }
  const cursor = ctx.cursors.get(id);
  if (!cursor)
    throw new CommandError(ErrorCode.CursorNotFound, `cursor id ${id.toString()} not found`);
  const ns = `${ctx.dbName}.${collection}`;
  if (cursor.ns !== ns) {
    throw new CommandError(
      ErrorCode.Unauthorized,
      `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  const batchSize = batchSizeOf(optionalInt(cmd, 'batchSize', ctx)) || Infinity;
  const { batch, next } = takeBatch(cursor.docs, cursor.position, batchSize);
  cursor.position = next;
  const exhausted = next >= cursor.docs.length;
  if (exhausted) ctx.cursors.kill(cursor.id);
  return cursorReply('nextBatch', batch, exhausted ? Long.ZERO : cursor.id, cursor.ns);
};

const killCursors: CommandHandler = (cmd, ctx) => {
  collectionName(cmd, ctx);
  const ids = cmd.cursors;
  if (!Array.isArray(ids)) {
    throw new CommandError(
      40414,
      "BSON field 'killCursors.cursors' is missing but a required field",
    );
  }
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const raw of ids) {
    const id = toLong(raw);
    (ctx.cursors.kill(id) ? killed : notFound).push(id);
  }
  return {
    cursorsKilled: killed,
    cursorsNotFound: notFound,
    cursorsAlive: [],
    cursorsUnknown: [],
    ok: 1,
  };
};

const count: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  refuseOptions(cmd, ['collation']);
  const query = optionalDocument(cmd, 'query', ctx);
  const skip = skipOf(optionalInt(cmd, 'skip', ctx));
  const rawLimit = optionalInt(cmd, 'limit', ctx) ?? 0;
  const limit = rawLimit === 0 ? undefined : Math.abs(rawLimit);
  const hint = optionalHint(cmd, ctx);
  const collection = ctx.catalog.get(ctx.dbName, name);
  if (!collection) return { n: 0, ok: 1 };
  const { within } = collection.hintScope(hint);
  if (
    (query === undefined || Object.keys(query).length === 0) &&
    skip === 0 &&
    limit === undefined &&
    within === undefined
  ) {
    return { n: collection.docs.size, ok: 1 };
  }
  const n = collection.find(compileFilter(query), { skip, limit, within }).length;
  return { n, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  refuseOptions(cmd, ['collation']);
  const key = cmd.key;
  if (typeof key !== 'string') {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field 'distinct.key' is the wrong type '${kindOf(key)}', expected type 'string'`,
    );
  }
  const query = optionalDocument(cmd, 'query', ctx);
  const collection = ctx.catalog.get(ctx.dbName, name);
  const values = new Map<string, unknown>();
  if (collection) {
    for (const doc of collection.find(compileFilter(query))) {
      for (const v of pathValues(doc, key)) {
        if (v === undefined || v === EMPTY_ARRAY) continue;
        const k = keyOf(v);
        if (!values.has(k)) values.set(k, v);
      }
    }
  }
  return { values: [...values.values()], ok: 1 };
};

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
};

import { calculateObjectSize } from 'bson';

import { type Doc, identicalValues, isPlainObject, kindOf, toInt } from '../bson-values';
import { badValue, CommandError, ErrorCode, failedToParse, toCommandError } from '../errors';
import { compileFilter, projectDocuments } from '../query/filter';
import { applyUpdate, buildUpsertDocument, classifyUpdate } from '../query/update';
import { Collection } from '../storage/collection';
import { MAX_BSON_OBJECT_SIZE } from '../wire/messages';
import {
  collectionName,
  type CommandHandler,
  letVariables,
  optionalArray,
  optionalBool,
  optionalDocument,
  optionalHint,
  refuseOptions,
  requiredArray,
} from './context';

function statement(value: unknown, command: string, index: number): Doc {
  if (!isPlainObject(value)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${command}.${index}' is the wrong type '${kindOf(value)}', expected type 'object'`,
    );
  }
  return value;
}

function checkInsertSize(doc: Doc): Doc {
  const size = calculateObjectSize(doc);
  if (size > MAX_BSON_OBJECT_SIZE) {
    throw badValue(
      `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`,
    );
  }
  return doc;
}

function checkUpdatedSize(doc: Doc): Doc {
  if (calculateObjectSize(doc) > MAX_BSON_OBJECT_SIZE) {
    throw new CommandError(
      17419,
      `Resulting document after update is larger than ${MAX_BSON_OBJECT_SIZE}`,
    );
  }
  return doc;
}

function orderedOf(cmd: Doc): boolean {
  return cmd.ordered === undefined || cmd.ordered === null ? true : optionalBool(cmd, 'ordered');
}

/** Runs statements one by one: an ordered batch stops at the first error, an unordered one goes on. */
function runStatements(
  items: unknown[],
  ordered: boolean,
  run: (item: unknown, index: number) => void,
): Doc[] {
  const writeErrors: Doc[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      run(items[i], i);
    } catch (err) {
      writeErrors.push(toCommandError(err).toWriteError(i));
      if (ordered) break;
    }
  }
  return writeErrors;
}

const insert: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const documents = requiredArray(cmd, 'documents', ctx);
  let n = 0;
  let collection: Collection | undefined;
  const writeErrors = runStatements(documents, orderedOf(cmd), (raw, i) => {
    const doc = checkInsertSize(Collection.prepareForInsert(statement(raw, 'insert.documents', i)));
    collection ??= ctx.catalog.getOrCreate(ctx.dbName, name).collection;
    collection.insert(doc);
    n++;
  });
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

function arrayFiltersOf(stmt: Doc): Doc[] | undefined {
  const filters = stmt.arrayFilters;
  if (filters === undefined || filters === null) return undefined;
  if (!Array.isArray(filters) || !filters.every(isPlainObject)) {
    throw new CommandError(ErrorCode.TypeMismatch, 'arrayFilters must be an array of objects');
  }
  return filters as Doc[];
}

function filterOf(value: unknown, field: string): Doc {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type '${kindOf(value)}', expected type 'object'`,
    );
  }
  return value;
}

const update: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const updates = requiredArray(cmd, 'updates', ctx);
  const variables = letVariables(cmd, ctx);
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors = runStatements(updates, orderedOf(cmd), (raw, index) => {
    const stmt = statement(raw, 'update.updates', index);
    refuseOptions(stmt, ['collation', 'sort']);
    const filter = filterOf(stmt.q, 'update.updates.q');
    const spec = stmt.u;
    const multi = optionalBool(stmt, 'multi');
    const kind = classifyUpdate(spec);
    if (multi && kind === 'replacement') {
      throw failedToParse('multi update is not supported for replacement-style update');
    }
    const arrayFilters = arrayFiltersOf(stmt);
    const hint = optionalHint(stmt, ctx);
    const compiled = compileFilter(filter, variables);
    const collection = ctx.catalog.get(ctx.dbName, name);
    const { within, reverse } = collection?.hintScope(hint) ?? {};
    const sort = reverse ? { $natural: -1 } : undefined;
    const matched = collection
      ? collection.find(compiled, { sort, limit: multi ? undefined : 1, within })
      : [];
    if (matched.length === 0 && optionalBool(stmt, 'upsert')) {
      const doc = checkUpdatedSize(
        Collection.prepareForInsert(buildUpsertDocument(filter, spec, { arrayFilters, variables })),
      );
      ctx.catalog.getOrCreate(ctx.dbName, name).collection.insert(doc);
      n++;
      upserted.push({ index, _id: doc._id });
      return;
    }
    for (const doc of matched) {
      const next = checkUpdatedSize(applyUpdate(doc, spec, { arrayFilters, filter, variables }));
      if (!identicalValues(doc, next)) {
        (collection as Collection).replace(doc, next);
        nModified++;
      }
      n++;
    }
  });
  const reply: Doc = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
};

const deleteCommand: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const deletes = requiredArray(cmd, 'deletes', ctx);
  const variables = letVariables(cmd, ctx);
  let n = 0;
  const writeErrors = runStatements(deletes, orderedOf(cmd), (raw, index) => {
    const stmt = statement(raw, 'delete.deletes', index);
    refuseOptions(stmt, ['collation']);
    const limit = stmt.limit === undefined ? 0 : toInt(stmt.limit);
    if (limit !== 0 && limit !== 1) {
      throw failedToParse(`The limit field in delete objects must be 0 or 1. Got ${limit}`);
    }
    const hint = optionalHint(stmt, ctx);
    const compiled = compileFilter(filterOf(stmt.q, 'delete.deletes.q'), variables);
    const collection = ctx.catalog.get(ctx.dbName, name);
    if (!collection) return;
    const { within, reverse } = collection.hintScope(hint);
    const sort = reverse ? { $natural: -1 } : undefined;
    const single = limit === 1 ? 1 : undefined;
    for (const doc of collection.find(compiled, { sort, limit: single, within })) {
      collection.remove(doc);
      n++;
    }
  });
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

const findAndModify: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  refuseOptions(cmd, ['collation']);
  const filter = optionalDocument(cmd, 'query', ctx) ?? {};
  const sort = optionalDocument(cmd, 'sort', ctx);
  const fields = optionalDocument(cmd, 'fields', ctx);
  const variables = letVariables(cmd, ctx);
  const remove = optionalBool(cmd, 'remove');
  const returnNew = optionalBool(cmd, 'new');
  const upsert = optionalBool(cmd, 'upsert');
  const spec = cmd.update;
  const hasUpdate = spec !== undefined && spec !== null;
  if (remove && hasUpdate) throw failedToParse('Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate)
    throw failedToParse('Either an update or remove=true must be specified');
  if (remove && upsert) throw failedToParse('Cannot specify both upsert=true and remove=true');
  if (remove && returnNew) {
    throw failedToParse(
      "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
    );
  }
  if (hasUpdate) classifyUpdate(spec);
  const arrayFilters = optionalArray(cmd, 'arrayFilters', ctx) as Doc[] | undefined;
  const hint = optionalHint(cmd, ctx);
  const compiled = compileFilter(filter, variables, fields);
  const collection = ctx.catalog.get(ctx.dbName, name);
  const { within, reverse } = collection?.hintScope(hint) ?? {};
  const order = reverse && sort === undefined ? { $natural: -1 } : sort;
  const target = collection?.find(compiled, { sort: order, limit: 1, within })[0];
  const shape = (doc: Doc | undefined) =>
    doc === undefined ? null : projectDocuments([doc], compiled, fields)[0];

  if (remove) {
    if (!collection || !target) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    collection.remove(target);
    return { lastErrorObject: { n: 1 }, value: shape(target), ok: 1 };
  }
  if (collection && target) {
    const next = checkUpdatedSize(applyUpdate(target, spec, { arrayFilters, filter, variables }));
    if (!identicalValues(target, next)) collection.replace(target, next);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: shape(returnNew ? next : target),
      ok: 1,
    };
  }
  if (upsert) {
    const doc = checkUpdatedSize(
      Collection.prepareForInsert(buildUpsertDocument(filter, spec, { arrayFilters, variables })),
    );
    ctx.catalog.getOrCreate(ctx.dbName, name).collection.insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: returnNew ? shape(doc) : null,
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
};

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
};

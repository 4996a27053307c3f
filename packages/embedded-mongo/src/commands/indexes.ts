import {
  type Doc,
  formatValue,
  isNumeric,
  isPlainObject,
  keyOf,
  kindOf,
  toInt,
  valuesEqual,
} from '../bson-values';
import { badValue, CommandError, ErrorCode, unsupported } from '../errors';
import { compileFilter } from '../query/filter';
import { type Collection, ID_INDEX_SPEC } from '../storage/collection';
import { SecondaryIndex } from '../storage/index-store';
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  optionalDocument,
  requiredArray,
} from './context';
import { firstBatchReply } from './read';

/** Options that make two indexes on the same key distinct indexes (mongod's "identifying" ones). */
const identifyingOptions = ['unique', 'sparse', 'partialFilterExpression', 'collation'];
/** Options kept in the spec and compared for an identical re-creation. */
const otherOptions = ['expireAfterSeconds', 'hidden'];
/** Accepted and dropped: they do not change what the index is. */
const ignoredOptions = new Set(['v', 'ns', 'background', 'storageEngine', 'key', 'name']);
const refusedOptions = new Set([
  'collation',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'bucketSize',
  'wildcardProjection',
  'clustered',
  'prepareUnique',
]);

const MAX_TTL_SECONDS = 2147483647;

function generatedName(key: Doc): string {
  return Object.entries(key)
    .map(([field, dir]) => `${field}_${String(toInt(dir))}`)
    .join('_');
}

function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0;
}

/** Validates a requested index and returns it in the shape listIndexes reports. */
function normalizeSpec(raw: unknown): Doc {
  if (!isPlainObject(raw)) throw badValue('Index spec must be an object');
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(
      ErrorCode.CannotCreateIndex,
      'Index key pattern must be a non-empty object',
    );
  }
  for (const [field, dir] of Object.entries(key)) {
    if (!isNumeric(dir)) throw unsupported(`The '${String(dir)}' index type (on field '${field}')`);
    if (field.includes('$**') || field.startsWith('$')) throw unsupported('Wildcard indexes');
    const n = toInt(dir);
    if (n === 0 || Number.isNaN(n)) {
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        `Values in the index key pattern can't be 0 or NaN: ${formatValue(key)}`,
      );
    }
  }
  for (const option of Object.keys(raw)) {
    if (refusedOptions.has(option) && raw[option] !== undefined) {
      throw unsupported(`The '${option}' index option`);
    }
  }
  const name = raw.name === undefined ? generatedName(key) : raw.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new CommandError(
      ErrorCode.CannotCreateIndex,
      'The index name must be a non-empty string',
    );
  }
  const spec: Doc = { v: 2, key, name };
  if (truthy(raw.unique)) spec.unique = true;
  if (truthy(raw.sparse)) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainObject(raw.partialFilterExpression)) {
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        "'partialFilterExpression' must be an object",
      );
    }
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  if (raw.expireAfterSeconds !== undefined) {
    const ttl = raw.expireAfterSeconds;
    if (!isNumeric(ttl) || toInt(ttl) < 0 || toInt(ttl) > MAX_TTL_SECONDS) {
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number",
      );
    }
    if (Object.keys(key).length > 1) {
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        `TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: ${formatValue(spec)}`,
      );
    }
    spec.expireAfterSeconds = Math.trunc(toInt(ttl));
  }
  if (truthy(raw.hidden)) spec.hidden = true;
  for (const option of Object.keys(raw)) {
    if (
      !ignoredOptions.has(option) &&
      !identifyingOptions.includes(option) &&
      !otherOptions.includes(option)
    ) {
      throw new CommandError(
        ErrorCode.InvalidOptions,
        `The field '${option}' is not valid for an index specification. Specification: ${formatValue(raw)}`,
      );
    }
  }
  return spec;
}

function sameOptions(a: Doc, b: Doc, options: string[]): boolean {
  return options.every((o) => keyOf(a[o]) === keyOf(b[o]));
}

function sameKey(a: Doc, b: Doc): boolean {
  return valuesEqual(a.key, b.key);
}

/**
 * mongod's rules for a requested index against an existing one: the same name with another
 * key or identifying option is IndexKeySpecsConflict; otherwise differing options are
 * IndexOptionsConflict; an identical index is a no-op (returns false).
 */
function checkAgainst(requested: Doc, existing: Doc): boolean {
  const identical = () => sameOptions(requested, existing, otherOptions);
  const equivalent =
    sameKey(requested, existing) && sameOptions(requested, existing, identifyingOptions);
  if (requested.name === existing.name) {
    if (!equivalent) {
      throw new CommandError(
        ErrorCode.IndexKeySpecsConflict,
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatValue(requested)}, existing index: ${formatValue(existing)}`,
      );
    }
    if (!identical()) {
      throw new CommandError(
        ErrorCode.IndexOptionsConflict,
        `An equivalent index already exists with the same name but different options. Requested index: ${formatValue(requested)}, existing index: ${formatValue(existing)}`,
      );
    }
    return false;
  }
  if (equivalent) {
    if (identical()) {
      throw new CommandError(
        ErrorCode.IndexOptionsConflict,
        `Index already exists with a different name: ${String(existing.name)}`,
      );
    }
    throw new CommandError(
      ErrorCode.IndexOptionsConflict,
      `An equivalent index already exists with a different name and options. Requested index: ${formatValue(requested)}, existing index: ${formatValue(existing)}`,
    );
  }
  return true;
}

/** `_id_` always exists: asking for it again is a no-op, other uses of its name conflict. */
function checkIdIndex(spec: Doc): boolean {
  const onId = sameKey(spec, ID_INDEX_SPEC);
  if (onId && spec.name === '_id_') {
    if (
      spec.sparse ||
      spec.partialFilterExpression !== undefined ||
      spec.expireAfterSeconds !== undefined
    ) {
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        `The _id index cannot be sparse, partial or TTL. Specification: ${formatValue(spec)}`,
      );
    }
    return false;
  }
  if (!onId && spec.name !== '_id_') return true;
  return checkAgainst(spec, ID_INDEX_SPEC);
}

/** The index a (normalized) spec describes; also how the journal rebuilds indexes. */
export function buildIndex(spec: Doc): SecondaryIndex {
  return new SecondaryIndex({
    spec,
    fields: Object.keys(spec.key as Doc),
    unique: spec.unique === true,
    sparse: spec.sparse === true,
    partial: spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined,
    expireAfterSeconds: spec.expireAfterSeconds as number | undefined,
  });
}

/** Replaces an index by one built from a changed spec, keeping its place in listIndexes. */
export function rebuildIndex(collection: Collection, name: string, spec: Doc): void {
  const order = [...collection.indexes.keys()];
  // Through the collection, so a persistent server journals the drop and the new build.
  collection.dropIndex(name);
  collection.addIndex(buildIndex(spec));
  const indexes = order.map((n) => [n, collection.indexes.get(n)] as const);
  collection.indexes.clear();
  for (const [n, index] of indexes) if (index) collection.indexes.set(n, index);
}

const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const requested = requiredArray(cmd, 'indexes', ctx).map(normalizeSpec);
  if (requested.length === 0) throw badValue('Must specify at least one index to create');

  const { collection, created } = ctx.catalog.getOrCreate(ctx.dbName, name);
  const before = collection.indexSpecs.length;
  const toBuild: Doc[] = [];
  for (const spec of requested) {
    let needed = checkIdIndex(spec);
    for (const existing of [...collection.indexes.values()].map((i) => i.spec)) {
      needed = needed && checkAgainst(spec, existing);
    }
    for (const pending of toBuild) needed = needed && checkAgainst(spec, pending);
    if (needed) toBuild.push(spec);
  }
  if (toBuild.length === 0) {
    return {
      numIndexesBefore: before,
      numIndexesAfter: before,
      note: 'all indexes already exist',
      ok: 1,
    };
  }
  const built: string[] = [];
  try {
    for (const spec of toBuild) {
      collection.addIndex(buildIndex(spec));
      built.push(spec.name as string);
    }
  } catch (err) {
    for (const indexName of built) collection.dropIndex(indexName);
    if (err instanceof CommandError && err.code === ErrorCode.DuplicateKey) {
      throw new CommandError(
        err.code,
        `Index build failed: ${collection.uuid.toHexString()}: Collection ${collection.ns} ( ${collection.uuid.toHexString()} ) :: caused by :: ${err.message}`,
        err.extra,
      );
    }
    throw err;
  }
  return {
    numIndexesBefore: before,
    numIndexesAfter: collection.indexSpecs.length,
    createdCollectionAutomatically: created,
    ok: 1,
  };
};

function existingCollection(ctx: CommandContext, name: string, message: string): Collection {
  const collection = ctx.catalog.get(ctx.dbName, name);
  if (!collection) {
    throw new CommandError(ErrorCode.NamespaceNotFound, `${message}${ctx.dbName}.${name}`);
  }
  return collection;
}

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const collection = existingCollection(ctx, name, 'ns does not exist: ');
  const cursor = optionalDocument(cmd, 'cursor', ctx);
  const batchSize = cursor?.batchSize === undefined ? undefined : toInt(cursor.batchSize);
  return firstBatchReply(
    ctx,
    `${ctx.dbName}.$cmd.listIndexes.${name}`,
    collection.indexSpecs,
    batchSize,
  );
};

function cannotDropId(): CommandError {
  return new CommandError(ErrorCode.InvalidOptions, 'cannot drop _id index');
}

const dropIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const collection = existingCollection(ctx, name, 'ns not found ');
  const nIndexesWas = collection.indexSpecs.length;
  const target = cmd.index;
  if (target === '*') {
    for (const indexName of [...collection.indexes.keys()]) collection.dropIndex(indexName);
    return { nIndexesWas, msg: 'non-_id indexes dropped for collection', ok: 1 };
  }
  let names: string[];
  if (typeof target === 'string') {
    names = [target];
  } else if (Array.isArray(target) && target.every((t) => typeof t === 'string')) {
    names = target as string[];
  } else if (isPlainObject(target)) {
    if (sameKey({ key: target }, ID_INDEX_SPEC)) throw cannotDropId();
    const match = [...collection.indexes.values()].filter((i) => valuesEqual(i.spec.key, target));
    if (match.length === 0) {
      throw new CommandError(
        ErrorCode.IndexNotFound,
        `can't find index with key: ${formatValue(target)}`,
      );
    }
    names = [match[0].name];
  } else {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field 'dropIndexes.index' is the wrong type '${kindOf(target)}', expected types '[string, object, array]'`,
    );
  }
  for (const indexName of names) {
    if (indexName === '_id_') throw cannotDropId();
    if (!collection.indexes.has(indexName)) {
      throw new CommandError(ErrorCode.IndexNotFound, `index not found with name [${indexName}]`);
    }
  }
  for (const indexName of names) collection.dropIndex(indexName);
  return { nIndexesWas, ok: 1 };
};

export const indexCommands: Record<string, CommandHandler> = {
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};

import { calculateObjectSize } from 'bson';

import { type Doc } from '../bson-values';
import { compileFilter } from '../query/filter';
import { type Collection, ID_INDEX_SPEC } from '../storage/collection';
import {
  collectionName,
  type CommandHandler,
  optionalBool,
  optionalDocument,
  refuseOptions,
  requireDatabase,
} from './context';
import { firstBatchReply } from './read';

/** Collection kinds this server cannot provide: refused rather than created as plain ones. */
const refusedCreateOptions = [
  'capped',
  'size',
  'max',
  'viewOn',
  'pipeline',
  'timeseries',
  'clusteredIndex',
  'expireAfterSeconds',
  'validator',
  'collation',
  'changeStreamPreAndPostImages',
  'encryptedFields',
];

function dataSize(collection: Collection): number {
  let bytes = 0;
  for (const doc of collection.docs.values()) bytes += calculateObjectSize(doc);
  return bytes;
}

const listDatabases: CommandHandler = (cmd, ctx) => {
  requireDatabase(ctx, 'admin');
  const filter = compileFilter(optionalDocument(cmd, 'filter', ctx));
  const nameOnly = optionalBool(cmd, 'nameOnly');
  const entries = ctx.catalog
    .databaseNames()
    .map((name) => {
      const sizeOnDisk = ctx.catalog
        .collections(name)
        .reduce((n, c) => n + 4096 * (1 + c.indexes.size) + dataSize(c), 0);
      return nameOnly ? { name } : { name, sizeOnDisk, empty: false };
    })
    .filter((entry) => filter.test(entry));
  if (nameOnly) return { databases: entries, ok: 1 };
  const totalSize = entries.reduce(
    (n, e) => n + ((e as { sizeOnDisk: number }).sizeOnDisk ?? 0),
    0,
  );
  return { databases: entries, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
};

const listCollections: CommandHandler = (cmd, ctx) => {
  const filter = compileFilter(optionalDocument(cmd, 'filter', ctx));
  const nameOnly = optionalBool(cmd, 'nameOnly');
  const cursor = optionalDocument(cmd, 'cursor', ctx);
  const entries: Doc[] = ctx.catalog
    .collections(ctx.dbName)
    .map((c) =>
      nameOnly
        ? { name: c.name, type: 'collection' }
        : {
            name: c.name,
            type: 'collection',
            options: c.options,
            info: { readOnly: false, uuid: c.uuid },
            idIndex: ID_INDEX_SPEC,
          },
    )
    .filter((entry) => filter.test(entry));
  const batchSize = typeof cursor?.batchSize === 'number' ? cursor.batchSize : undefined;
  return firstBatchReply(ctx, `${ctx.dbName}.$cmd.listCollections`, entries, batchSize);
};

const create: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  refuseOptions(cmd, refusedCreateOptions);
  ctx.catalog.create(ctx.dbName, name);
  return { ok: 1 };
};

const drop: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const dropped = ctx.catalog.drop(ctx.dbName, name);
  if (!dropped) return { ok: 1 };
  ctx.cursors.killNamespace(dropped.ns);
  return { nIndexesWas: dropped.indexSpecs.length, ns: dropped.ns, ok: 1 };
};

const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.catalog.dropDatabase(ctx.dbName);
  ctx.cursors.killNamespace(ctx.dbName, true);
  return { dropped: ctx.dbName, ok: 1 };
};

const dbStats: CommandHandler = (_cmd, ctx) => {
  const collections = ctx.catalog.collections(ctx.dbName);
  const objects = collections.reduce((n, c) => n + c.docs.size, 0);
  const size = collections.reduce((n, c) => n + dataSize(c), 0);
  const indexes = collections.reduce((n, c) => n + c.indexSpecs.length, 0);
  return {
    db: ctx.dbName,
    collections: collections.length,
    views: 0,
    objects,
    avgObjSize: objects === 0 ? 0 : size / objects,
    dataSize: size,
    storageSize: size,
    indexes,
    indexSize: 0,
    totalSize: size,
    scaleFactor: 1,
    fsUsedSize: 0,
    fsTotalSize: 0,
    ok: 1,
  };
};

export const databaseCommands: Record<string, CommandHandler> = {
  listDatabases,
  listCollections,
  create,
  drop,
  dropDatabase,
  dbStats,
  dbstats: dbStats,
};

import { Aggregator } from 'mingo/aggregator';
import { type Iterator } from 'mingo/lazy';
import { $lookup as mingoLookup } from 'mingo/operators/pipeline';
import { type AnyObject, type Options } from 'mingo/types';

import {
  cloneValue,
  type Doc,
  EMPTY_ARRAY,
  isNumeric,
  isPlainObject,
  keyOf,
  pathValues,
  setPath,
} from '../bson-values';
import { CommandError, ErrorCode, failedToParse, typeMismatch, unsupported } from '../errors';
import { asSafeInteger } from '../numbers';
import { deadlineChecked } from '../limits';
import { compileFilter, refuseUnsupportedOperators } from '../query/filter';
import { buildContext, mingoOptions } from '../query/operators';
import { type Catalog, validateCollectionName } from '../storage/catalog';
import {
  collectionName,
  type CommandHandler,
  letVariables,
  optionalDocument,
  optionalHint,
  optionalInt,
  refuseOptions,
} from './context';
import { firstBatchReply } from './read';

/** Stages that need a server feature this one does not have (or that write elsewhere). */
const refusedStages = new Set([
  '$out',
  '$merge',
  '$collStats',
  '$indexStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$planCacheStats',
  '$geoNear',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$listSearchIndexes',
  '$shardedDataDistribution',
]);

/** Stages mingo implements with MongoDB semantics, plus the ones this server overrides. */
const supportedStages = new Set([
  '$addFields',
  '$bucket',
  '$bucketAuto',
  '$count',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$graphLookup',
  '$group',
  '$limit',
  '$lookup',
  '$match',
  '$project',
  '$redact',
  '$replaceRoot',
  '$replaceWith',
  '$sample',
  '$set',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unset',
  '$unwind',
]);

/** Stages that build new documents and never modify the ones they receive. */
const readOnlyStages = new Set([
  '$match',
  '$sort',
  '$skip',
  '$limit',
  '$count',
  '$group',
  '$project',
  '$sortByCount',
  '$facet',
]);

/**
 * Counts in stage arguments given as Long or Decimal128 (which mongod accepts) become the JS
 * numbers mingo and the leading-stage planner expect.
 */
function normalizeCounts(stage: Doc): Doc {
  const [name] = Object.keys(stage);
  const arg = stage[name];
  if (name === '$limit' || name === '$skip') return { [name]: asSafeInteger(arg) };
  if (name === '$sample' && isPlainObject(arg)) {
    return { $sample: { ...arg, size: asSafeInteger(arg.size) } };
  }
  return stage;
}

function validatePipeline(pipeline: unknown[], dbLevel: boolean): Doc[] {
  pipeline.forEach((stage, i) => {
    const keys = isPlainObject(stage) ? Object.keys(stage) : [];
    if (keys.length !== 1) {
      throw new CommandError(
        40323,
        'A pipeline stage specification object must contain exactly one field.',
      );
    }
    const name = keys[0];
    if (refusedStages.has(name)) throw unsupported(`The ${name} aggregation stage`);
    if (!supportedStages.has(name)) {
      throw new CommandError(
        ErrorCode.UnrecognizedPipelineStage,
        `Unrecognized pipeline stage name: '${name}'`,
      );
    }
    if (name === '$documents' && (i !== 0 || !dbLevel)) {
      throw new CommandError(
        ErrorCode.InvalidNamespace,
        '$documents can only be used as the first stage of a collectionless aggregate',
      );
    }
  });
  refuseUnsupportedOperators(pipeline);
  return (pipeline as Doc[]).map(normalizeCounts);
}

/**
 * `$lookup` with `localField`/`foreignField` fetches the joined documents through the foreign
 * collection's indexes; other forms (pipeline, let) go to mingo over a copy of that collection.
 */
function lookupStage(catalog: Catalog, dbName: string) {
  return (coll: Iterator, expr: AnyObject, options: Options): Iterator => {
    const { from, localField, foreignField, as } = expr;
    const simple =
      typeof from === 'string' &&
      typeof localField === 'string' &&
      typeof foreignField === 'string' &&
      typeof as === 'string' &&
      expr.pipeline === undefined &&
      expr.let === undefined;
    if (!simple) return mingoLookup(coll, expr as never, options);
    const foreign = catalog.get(dbName, validateCollectionName(dbName, from));
    return coll.map((doc: Doc) => {
      const locals = new Map<string, unknown>();
      for (const v of pathValues(doc, localField)) {
        const value = v === undefined || v === EMPTY_ARRAY ? null : v;
        locals.set(keyOf(value), value);
      }
      const joined = foreign
        ? foreign
            .find(compileFilter({ [foreignField]: { $in: [...locals.values()] } }))
            .map(cloneValue)
        : [];
      const out = { ...doc };
      setPath(out, as, joined);
      return out;
    });
  };
}

const aggregate: CommandHandler = (cmd, ctx) => {
  const target = cmd.aggregate;
  const dbLevel = isNumeric(target) && Number(target) === 1;
  const name = dbLevel ? undefined : collectionName(cmd, ctx);
  refuseOptions(cmd, ['collation', 'explain']);
  const rawPipeline = cmd.pipeline;
  if (!Array.isArray(rawPipeline)) {
    throw typeMismatch("'pipeline' option must be specified as an array");
  }
  const cursorSpec = optionalDocument(cmd, 'cursor', ctx);
  if (cursorSpec === undefined) {
    throw failedToParse(
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const batchSize = optionalInt(cursorSpec, 'batchSize', {
    ...ctx,
    commandName: 'aggregate.cursor',
  });
  const variables = letVariables(cmd, ctx);
  const hint = optionalHint(cmd, ctx);
  const pipeline = validatePipeline(rawPipeline, dbLevel);

  const collection = name === undefined ? undefined : ctx.catalog.get(ctx.dbName, name);
  const scope = collection?.hintScope(hint) ?? {};
  // A leading $match, $sort, $skip, $limit (in that order, each optional) run through the
  // collection's indexes; the rest goes to mingo.
  let rest = pipeline;
  let input: Doc[] = [];
  if (collection) {
    let i = 0;
    const take = (stage: string, accept: (v: unknown) => boolean) =>
      i < rest.length && accept(rest[i][stage]) ? rest[i++][stage] : undefined;
    const filter = take('$match', isPlainObject) as Doc | undefined;
    const sort = take('$sort', isPlainObject) as Doc | undefined;
    const skip = take('$skip', (v) => typeof v === 'number') as number | undefined;
    const limit = take('$limit', (v) => typeof v === 'number') as number | undefined;
    const order = scope.reverse && sort === undefined ? { $natural: -1 } : sort;
    input = collection.find(compileFilter(filter, variables), {
      sort: order,
      skip,
      limit,
      within: scope.within,
    });
    rest = rest.slice(i);
    // Some stages modify their input documents in place: those get copies, never stored ones.
    if (!rest.every((stage) => readOnlyStages.has(Object.keys(stage)[0]))) {
      input = input.map(cloneValue);
    }
  }

  const context = buildContext({ $lookup: lookupStage(ctx.catalog, ctx.dbName) });
  const options = {
    ...mingoOptions(context, variables),
    collectionResolver: (from: string) =>
      ctx.catalog
        .get(ctx.dbName, validateCollectionName(ctx.dbName, from))
        ?.find(compileFilter({}))
        .map(cloneValue) ?? [],
  };
  const results =
    rest.length === 0
      ? input
      : new Aggregator(rest, options).run<Doc>(deadlineChecked(input) as unknown as Doc[]);
  const ns = name === undefined ? `${ctx.dbName}.$cmd.aggregate` : `${ctx.dbName}.${name}`;
  return firstBatchReply(ctx, ns, results, batchSize);
};

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };

import { type Doc, isPlainObject, kindOf, toInt, valuesEqual } from '../bson-values';
import { badValue, CommandError, ErrorCode, unsupported } from '../errors';
import { compileFilter } from '../query/filter';
import { type Catalog } from '../storage/catalog';
import { type Collection } from '../storage/collection';
import {
  collectionName,
  type CommandContext,
  type CommandHandler,
  letVariables,
  optionalDocument,
  requireDatabase,
} from './context';
import { rebuildIndex } from './indexes';

/** Fields any command may carry that are not its arguments. */
const envelopeFields = new Set([
  '$db',
  'lsid',
  '$clusterTime',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
]);

function commandArguments(cmd: Doc): [string, unknown][] {
  return Object.entries(cmd)
    .slice(1)
    .filter(([k]) => !envelopeFields.has(k));
}

/** Collection options this server does not have (validators, views, capped, time series...). */
const refusedCollModOptions = new Set([
  'validator',
  'validationLevel',
  'validationAction',
  'viewOn',
  'pipeline',
  'expireAfterSeconds',
  'timeseries',
  'changeStreamPreAndPostImages',
  'cappedSize',
  'cappedMax',
  'recordPreImages',
  'clusteredIndex',
  'dryRun',
]);

function findIndex(collection: Collection, spec: Doc) {
  const byName = typeof spec.name === 'string';
  if (byName === (spec.keyPattern !== undefined)) {
    throw badValue('must specify either index name or key pattern');
  }
  if (
    spec.name === '_id_' ||
    (isPlainObject(spec.keyPattern) && valuesEqual(spec.keyPattern, { _id: 1 }))
  ) {
    throw badValue('cannot modify the _id index');
  }
  const index = byName
    ? collection.indexes.get(spec.name as string)
    : [...collection.indexes.values()].find((i) => valuesEqual(i.spec.key, spec.keyPattern));
  if (index === undefined) {
    const what = byName ? `name ${String(spec.name)}` : `key pattern`;
    throw new CommandError(
      ErrorCode.IndexNotFound,
      `cannot find index ${what} for ns ${collection.ns}`,
    );
  }
  return index;
}

/**
 * `collMod` for what drivers and ODMs use on indexes: `hidden` and a TTL index's
 * `expireAfterSeconds`. Collection options (validators, views, capped...) are refused.
 */
const collMod: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, ctx);
  const collection = ctx.catalog.get(ctx.dbName, name);
  if (!collection) {
    throw new CommandError(ErrorCode.NamespaceNotFound, `ns does not exist: ${ctx.dbName}.${name}`);
  }
  const reply: Doc = {};
  for (const [option, value] of commandArguments(cmd)) {
    if (refusedCollModOptions.has(option)) throw unsupported(`The collMod option '${option}'`);
    if (option !== 'index') {
      throw new CommandError(40415, `BSON field 'collMod.${option}' is an unknown field.`);
    }
    if (!isPlainObject(value)) {
      throw new CommandError(
        ErrorCode.TypeMismatch,
        `BSON field 'collMod.index' is the wrong type '${kindOf(value)}', expected type 'object'`,
      );
    }
    const index = findIndex(collection, value);
    const spec: Doc = { ...index.spec };
    for (const [field, setting] of Object.entries(value)) {
      if (field === 'name' || field === 'keyPattern') continue;
      if (field === 'hidden') {
        const hidden = setting === true;
        if (hidden !== (spec.hidden === true)) {
          reply.hidden_old = spec.hidden === true;
          reply.hidden_new = hidden;
        }
        if (hidden) spec.hidden = true;
        else delete spec.hidden;
      } else if (field === 'expireAfterSeconds') {
        if (spec.expireAfterSeconds === undefined) {
          throw unsupported('Turning an index into a TTL index with collMod');
        }
        const seconds = Math.trunc(toInt(setting));
        if (!Number.isFinite(seconds) || seconds < 0) {
          throw badValue('expireAfterSeconds must be a non-negative number');
        }
        if (seconds !== spec.expireAfterSeconds) {
          reply.expireAfterSeconds_old = spec.expireAfterSeconds;
          reply.expireAfterSeconds_new = seconds;
        }
        spec.expireAfterSeconds = seconds;
      } else {
        throw unsupported(`The collMod index option '${field}'`);
      }
    }
    rebuildIndex(collection, index.name, spec);
  }
  return { ...reply, ok: 1 };
};

/** Parameters that only tune diagnostics: setting them changes no answer this server gives. */
const harmlessParameters: Doc = { logLevel: 0, logComponentVerbosity: { verbosity: 0 } };

const parameterValues = new WeakMap<Catalog, Doc>();

/** The current value of the settable parameters of one server. */
export function settableParameters(catalog: Catalog): Doc {
  let values = parameterValues.get(catalog);
  if (values === undefined) {
    values = { ...harmlessParameters };
    parameterValues.set(catalog, values);
  }
  return values;
}

const setParameter: CommandHandler = (cmd, ctx) => {
  requireDatabase(ctx, 'admin');
  const settings = commandArguments(cmd);
  if (settings.length === 0) throw badValue('no option found to set, use help:true to see options');
  const values = settableParameters(ctx.catalog);
  for (const [name] of settings) {
    if (!(name in harmlessParameters)) throw unsupported(`setParameter of '${name}'`);
  }
  const was = values[settings[0][0]];
  for (const [key, setting] of settings) values[key] = setting;
  return { was, ok: 1 };
};

const verbosities = new Set(['queryPlanner', 'executionStats', 'allPlansExecution']);

interface Explained {
  filter: Doc;
  /** Documents the command would return or touch, read without writing anything. */
  run: () => number;
}

function explainedFilter(raw: unknown): Doc {
  return isPlainObject(raw) ? raw : {};
}

/** What an explained command would read: its filter and how many documents it returns or writes. */
function explainTarget(
  inner: Doc,
  collection: Collection | undefined,
  ctx: CommandContext,
): Explained {
  const command = Object.keys(inner)[0];
  const variables = letVariables(inner, { ...ctx, commandName: command });
  const count = (filter: Doc, limit?: number) => () =>
    collection ? collection.find(compileFilter(filter, variables), { limit }).length : 0;
  switch (command) {
    case 'find': {
      const filter = explainedFilter(inner.filter);
      const skip = inner.skip === undefined ? 0 : toInt(inner.skip);
      const limit = inner.limit === undefined ? 0 : Math.abs(toInt(inner.limit));
      return {
        filter,
        run: () =>
          collection
            ? collection.find(compileFilter(filter, variables), {
                sort: optionalDocument(inner, 'sort', ctx),
                skip,
                limit: limit === 0 ? undefined : limit,
              }).length
            : 0,
      };
    }
    case 'count':
    case 'distinct': {
      const filter = explainedFilter(inner.query);
      return { filter, run: count(filter) };
    }
    case 'findAndModify':
    case 'findandmodify': {
      const filter = explainedFilter(inner.query);
      return { filter, run: count(filter, 1) };
    }
    case 'aggregate': {
      const pipeline = Array.isArray(inner.pipeline) ? inner.pipeline : [];
      const first = pipeline[0] as Doc | undefined;
      const filter = first && isPlainObject(first.$match) ? first.$match : {};
      return { filter, run: count(filter) };
    }
    case 'update':
    case 'delete': {
      const statements = inner[command === 'update' ? 'updates' : 'deletes'];
      if (!Array.isArray(statements) || statements.length !== 1 || !isPlainObject(statements[0])) {
        throw badValue(`explain of ${command} needs exactly one statement`);
      }
      const stmt = statements[0];
      const filter = explainedFilter(stmt.q);
      const single = command === 'update' ? stmt.multi !== true : toInt(stmt.limit ?? 0) === 1;
      return { filter, run: count(filter, single ? 1 : undefined) };
    }
    default:
      throw unsupported(`explain of the ${command} command`);
  }
}

/**
 * `explain` answers mongod's shape from this server's own plan: an index lookup (`FETCH` over
 * `IXSCAN`) when equality on indexed fields narrows the candidates, a `COLLSCAN` otherwise. With
 * `executionStats` the read part runs (nothing is written); there is one plan, so no rejected ones.
 */
const explain: CommandHandler = (cmd, ctx) => {
  const inner = cmd.explain;
  if (!isPlainObject(inner) || Object.keys(inner).length === 0) {
    throw new CommandError(
      ErrorCode.TypeMismatch,
      `BSON field 'explain.explain' is the wrong type '${kindOf(inner)}', expected type 'object'`,
    );
  }
  const verbosity = cmd.verbosity ?? 'allPlansExecution';
  if (typeof verbosity !== 'string' || !verbosities.has(verbosity)) {
    throw badValue(
      `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`,
    );
  }
  const command = Object.keys(inner)[0];
  const name = collectionName(inner, { ...ctx, commandName: command });
  const collection = ctx.catalog.get(ctx.dbName, name);
  const { filter, run } = explainTarget(inner, collection, ctx);
  compileFilter(filter);
  const plan = collection?.plan(filter);
  const winningPlan: Doc = plan
    ? { stage: 'FETCH', filter, inputStage: { stage: 'IXSCAN', direction: 'forward' } }
    : { stage: 'COLLSCAN', filter, direction: 'forward' };
  const queryPlanner: Doc = {
    namespace: `${ctx.dbName}.${name}`,
    indexFilterSet: false,
    parsedQuery: filter,
    winningPlan,
    rejectedPlans: [],
  };
  const reply: Doc = { queryPlanner };
  if (verbosity !== 'queryPlanner') {
    const nReturned = run();
    const examined = plan ? [...plan.docs].length : (collection?.docs.size ?? 0);
    reply.executionStats = {
      executionSuccess: true,
      nReturned,
      executionTimeMillis: 0,
      totalKeysExamined: plan ? examined : 0,
      totalDocsExamined: examined,
      executionStages: { ...winningPlan, nReturned, docsExamined: examined },
    };
    if (verbosity === 'allPlansExecution') (reply.executionStats as Doc).allPlansExecution = [];
  }
  const explained = command === 'aggregate' ? { stages: [{ $cursor: reply }] } : reply;
  return { explainVersion: '1', ...explained, command: { ...inner, $db: ctx.dbName }, ok: 1 };
};

export const adminCommands: Record<string, CommandHandler> = { collMod, setParameter, explain };

import { Long, ObjectId, Timestamp } from 'bson';
import { type AnyObject, type Options } from 'mingo/types';
import { updateOne } from 'mingo/updater';
import { Aggregator } from 'mingo/aggregator';

import {
  bsonTypeAlias,
  cloneValue,
  compareValues,
  type Doc,
  formatValue,
  getPath,
  idFirst,
  isNumeric,
  isPlainObject,
  kindOf,
  setPath,
  valuesEqual,
} from '../bson-values';
import {
  badValue,
  CommandError,
  decimalArithmeticRefusal,
  ErrorCode,
  failedToParse,
  typeMismatch,
  unsupported,
  wideNumberRefusal,
} from '../errors';
import {
  approximate,
  asDouble,
  fitsInt64,
  holdsWideNumber,
  integerOf,
  intOrLong,
  longOf,
  numberKind,
} from '../numbers';
import { refuseUnsupportedOperators } from './filter';
import {
  contextFor,
  defaultContext,
  elementMatcher,
  mingoOptions,
  topLevelOperators,
} from './operators';

const updateOperators = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$rename',
  '$min',
  '$max',
  '$currentDate',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$bit',
  '$setOnInsert',
]);

const pipelineUpdateStages = new Set([
  '$addFields',
  '$set',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

const arrayOperators = new Set(['$push', '$addToSet', '$pop', '$pull', '$pullAll']);

type UpdateKind = 'pipeline' | 'replacement' | 'operators';

export interface UpdateOptions {
  arrayFilters?: Doc[];
  /** The statement's filter, needed by the positional `$` operator. */
  filter?: Doc;
  /** True when the update builds a document for an upsert (applies `$setOnInsert`). */
  upsertInsert?: boolean;
  variables?: AnyObject;
}

function immutableId(path: string): CommandError {
  return new CommandError(
    ErrorCode.ImmutableField,
    `Performing an update on the path '${path}' would modify the immutable field '_id'`,
  );
}

/** Validates an update up front, as mongod does even when nothing matches; returns its kind. */
export function classifyUpdate(spec: unknown): UpdateKind {
  if (Array.isArray(spec)) {
    for (const stage of spec) {
      const keys = isPlainObject(stage) ? Object.keys(stage) : [];
      if (keys.length !== 1) {
        throw failedToParse(
          'A pipeline stage specification object must contain exactly one field.',
        );
      }
      if (!pipelineUpdateStages.has(keys[0])) {
        throw new CommandError(
          ErrorCode.InvalidOptions,
          `${keys[0]} is not allowed to be used within an update`,
        );
      }
    }
    refuseUnsupportedOperators(spec);
    return 'pipeline';
  }
  if (!isPlainObject(spec)) {
    throw typeMismatch('Update argument must be either an object or an array');
  }
  const keys = Object.keys(spec);
  if (keys.length === 0 || !keys[0].startsWith('$')) {
    const dollar = keys.find((k) => k.startsWith('$'));
    if (dollar !== undefined) {
      throw new CommandError(
        ErrorCode.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${dollar}' in '${dollar}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
    return 'replacement';
  }
  for (const op of keys) {
    if (!updateOperators.has(op)) {
      throw failedToParse(
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const args = spec[op];
    if (!isPlainObject(args)) {
      throw failedToParse(
        `Modifiers operate on fields but we found type ${bsonTypeAlias(args)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(args)}}`,
      );
    }
    for (const [path, arg] of Object.entries(args)) {
      if (path === '')
        throw new CommandError(ErrorCode.EmptyFieldName, 'An empty update path is not valid.');
      if ((op === '$inc' || op === '$mul') && !isNumeric(arg)) {
        const verb = op === '$inc' ? 'increment' : 'multiply';
        throw typeMismatch(
          `Cannot ${verb} with non-numeric argument: {${path}: ${formatValue(arg)}}`,
        );
      }
      if (op === '$bit') checkBitwiseSpec(arg);
      if (op === '$rename' && typeof arg !== 'string') {
        throw badValue(`The 'to' field for $rename must be a string: ${path}: ${formatValue(arg)}`);
      }
    }
  }
  checkConflicts(spec);
  refuseUnsupportedOperators(spec);
  return 'operators';
}

function checkConflicts(spec: Doc): void {
  const paths: string[] = [];
  for (const [op, args] of Object.entries(spec)) {
    for (const [path, arg] of Object.entries(args as Doc)) {
      paths.push(path);
      if (op === '$rename') paths.push(arg as string);
    }
  }
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a === b || b.startsWith(`${a}.`)) {
      throw new CommandError(
        ErrorCode.ConflictingUpdateOperators,
        `Updating the path '${b}' would create a conflict at '${a}'`,
      );
    }
  }
}

const isPositional = (path: string) => path.split('.').some((p) => p.startsWith('$'));

/** mongod refuses to create a field below a scalar; mingo would silently skip it. */
function checkPathViable(doc: Doc, path: string): void {
  const parts = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next: unknown = Array.isArray(cur)
      ? /^\d+$/.test(parts[i])
        ? cur[Number(parts[i])]
        : undefined
      : (cur as Doc)[parts[i]];
    if (next === undefined) return;
    const viable = isPlainObject(next) || (Array.isArray(next) && /^\d+$/.test(parts[i + 1] ?? ''));
    if (!viable) {
      throw new CommandError(
        ErrorCode.PathNotViable,
        `Cannot create field '${parts[i + 1]}' in element {${parts[i]}: ${formatValue(next)}}`,
      );
    }
    cur = next;
  }
}

type ArithmeticOp = '$inc' | '$mul';

/**
 * mongod's update arithmetic: int32 results widen to int64, int64 results that overflow are an
 * error (`undefined` here), anything with a double is computed in doubles. Decimal128 would need
 * decimal arithmetic, which this server does not have.
 */
function arithmetic(op: ArithmeticOp, a: unknown, b: unknown): unknown {
  const ka = numberKind(a);
  const kb = numberKind(b);
  if (ka === 'decimal' || kb === 'decimal') throw decimalArithmeticRefusal(op);
  if (ka === 'double' || kb === 'double') {
    const x = approximate(a);
    const y = approximate(b);
    return asDouble(op === '$inc' ? x + y : x * y);
  }
  const x = integerOf(a);
  const y = integerOf(b);
  const result = op === '$inc' ? x + y : x * y;
  // Two int32 operands always fit an int64.
  if (ka === 'int' && kb === 'int') return intOrLong(result);
  return fitsInt64(result) ? longOf(result) : undefined;
}

/** `$mul` on a missing field stores zero of the multiplier's type. */
function zeroLike(v: unknown): unknown {
  const kind = numberKind(v);
  if (kind === 'decimal') throw decimalArithmeticRefusal('$mul');
  if (kind === 'long') return Long.ZERO;
  return kind === 'double' ? asDouble(0) : 0;
}

function debugNumber(v: unknown): string {
  const kind = numberKind(v);
  const name = kind === 'long' ? 'NumberLong' : kind === 'int' ? 'NumberInt' : 'NumberDouble';
  return `(${name})${formatValue(v)}`;
}

function idForMessage(doc: Doc): string {
  return `{_id: ${formatValue(doc._id)}}`;
}

function checkArrayTarget(doc: Doc, op: string, path: string, current: unknown): void {
  if (arrayOperators.has(op) && current !== undefined && !Array.isArray(current)) {
    throw badValue(
      `Cannot apply ${op} to a non-array field. Field named '${path}' has a non-array type ${bsonTypeAlias(current)} in the document ${idForMessage(doc)}`,
    );
  }
}

/** `$addToSet` with BSON equality: `5` and `Long(5)` are one value, field order matters. */
function addToSet(doc: Doc, path: string, current: unknown, arg: unknown): unknown[] {
  checkArrayTarget(doc, '$addToSet', path, current);
  const each = isPlainObject(arg) && '$each' in arg;
  if (each && !Array.isArray(arg.$each)) {
    throw typeMismatch(
      `The argument to $each in $addToSet must be an array but it was of type ${bsonTypeAlias(arg.$each)}`,
    );
  }
  const out = current === undefined ? [] : [...(current as unknown[])];
  for (const value of each ? (arg.$each as unknown[]) : [arg]) {
    if (!out.some((el) => valuesEqual(el, value))) out.push(cloneValue(value));
  }
  return out;
}

const bitwiseOps = new Set(['and', 'or', 'xor']);

/** Validates `$bit` arguments up front, as mongod does even when nothing matches. */
function checkBitwiseSpec(arg: unknown): void {
  if (!isPlainObject(arg)) {
    throw badValue(
      `The $bit modifier is not compatible with a ${bsonTypeAlias(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
    );
  }
  if (Object.keys(arg).length === 0) {
    throw badValue(
      'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}',
    );
  }
  for (const [name, operand] of Object.entries(arg)) {
    if (!bitwiseOps.has(name)) {
      throw badValue(
        `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: {${name}: ${formatValue(operand)}}`,
      );
    }
    const kind = numberKind(operand);
    if (kind !== 'int' && kind !== 'long') {
      throw badValue(
        `The $bit modifier field must be an Integer(32/64 bit); a '${bsonTypeAlias(operand)}' is not supported here: {${name}: ${formatValue(operand)}}`,
      );
    }
  }
}

/** `$bit` on int32 and int64 values, with mongod's result type (int64 if either is). */
function applyBitwise(doc: Doc, path: string, current: unknown, spec: Doc): unknown {
  const kind = current === undefined ? 'int' : numberKind(current);
  if (kind !== 'int' && kind !== 'long') {
    throw badValue(
      `Cannot apply $bit to a value of non-integral type.${idForMessage(doc)} has the field ${path.split('.').pop()} of non-integer type ${bsonTypeAlias(current)}`,
    );
  }
  let value = current === undefined ? 0n : integerOf(current);
  let long = kind === 'long';
  for (const [name, operand] of Object.entries(spec)) {
    const n = integerOf(operand);
    long ||= numberKind(operand) === 'long';
    value = name === 'and' ? value & n : name === 'or' ? value | n : value ^ n;
  }
  return long ? longOf(BigInt.asIntN(64, value)) : Number(BigInt.asIntN(32, value));
}

/** `$push` modifiers mingo applies with JS numbers and JS ordering. */
function refuseWidePush(current: unknown, arg: unknown): void {
  if (!isPlainObject(arg) || !('$each' in arg)) return;
  if (holdsWideNumber(arg.$slice) || holdsWideNumber(arg.$position)) {
    throw wideNumberRefusal('$push modifiers');
  }
  if (arg.$sort !== undefined && (holdsWideNumber(current) || holdsWideNumber(arg.$each))) {
    throw wideNumberRefusal('$push with $sort');
  }
}

const comparingUpdateOperators = new Set(['$inc', '$mul', '$min', '$max', '$bit', '$addToSet']);

function holdsDocument(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(holdsDocument);
  return isPlainObject(v);
}

/**
 * Positional paths (`a.$`, `a.$[]`, `a.$[id]`) go to mingo, which computes with JS numbers and
 * compares as JS: refused when that would differ from mongod (Long or Decimal128 involved,
 * int32 arithmetic that mongod would widen to int64, documents compared for `$addToSet`, which
 * mingo does regardless of field order).
 */
function refuseUnsafePositional(doc: Doc, op: string, path: string, arg: unknown): void {
  const parts = path.split('.');
  const positional = parts.findIndex((p) => p.startsWith('$'));
  const array = getPath(doc, parts.slice(0, positional).join('.'));
  if (op === '$pull' && isPlainObject(arg) && topLevelOperators.has(Object.keys(arg)[0])) {
    // mingo would test such a condition against a wrapper and remove nothing.
    throw unsupported(`$pull with ${Object.keys(arg)[0]} on a positional path`);
  }
  if (op === '$push') {
    refuseWidePush(array, arg);
    return;
  }
  if (!comparingUpdateOperators.has(op)) return;
  if (holdsWideNumber(arg) || holdsWideNumber(array)) {
    throw wideNumberRefusal(`${op} on a positional path`);
  }
  if (op === '$addToSet' && holdsDocument(arg)) {
    throw unsupported('$addToSet of a document on a positional path');
  }
  if ((op !== '$inc' && op !== '$mul') || numberKind(arg) !== 'int') return;
  const unsafe = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(unsafe);
    if (isPlainObject(v)) return Object.values(v).some(unsafe);
    if (numberKind(v) !== 'int') return false;
    const result = arithmetic(op, v, arg);
    return typeof result !== 'number';
  };
  if (unsafe(array)) throw unsupported(`${op} on a positional path beyond int32`);
}

/**
 * Operators whose semantics depend on BSON comparison or numeric types are applied here for
 * plain paths (mingo treats Long/Decimal128 as opaque and skips non-numeric targets silently);
 * the rest of the update goes to mingo.
 */
function applyOwnOperators(doc: Doc, spec: Doc, variables?: AnyObject): Doc {
  const rest: Doc = {};
  for (const [op, rawArgs] of Object.entries(spec)) {
    const args = rawArgs as Doc;
    const delegated: Doc = {};
    for (const [path, arg] of Object.entries(args)) {
      if (isPositional(path)) {
        refuseUnsafePositional(doc, op, path, arg);
        delegated[path] = arg;
        continue;
      }
      checkPathViable(doc, path);
      if (op === '$rename') checkPathViable(doc, arg as string);
      const current = getPath(doc, path);
      switch (op) {
        case '$inc':
        case '$mul': {
          if (current !== undefined && !isNumeric(current)) {
            throw typeMismatch(
              `Cannot apply ${op} to a value of non-numeric type. ${idForMessage(doc)} has the field '${path}' of non-numeric type ${bsonTypeAlias(current)}`,
            );
          }
          let next: unknown;
          if (current === undefined) next = op === '$inc' ? arg : zeroLike(arg);
          else next = arithmetic(op, current, arg);
          if (next === undefined) {
            throw badValue(
              `Failed to apply ${op} operations to current value (${debugNumber(current)}) for document ${idForMessage(doc)}`,
            );
          }
          setPath(doc, path, next);
          break;
        }
        case '$set':
          // mingo's $set skips values it deems equal (a Binary differing only by subtype, a
          // Double over an int) and assigns keys such as `__proto__`; mongod compares bytes.
          setPath(doc, path, cloneValue(arg));
          break;
        case '$pull': {
          checkArrayTarget(doc, op, path, current);
          if (current === undefined) break;
          const matches = elementMatcher(arg, mingoOptions(contextFor(arg), variables) as Options);
          setPath(
            doc,
            path,
            (current as unknown[]).filter((el) => !matches(el)),
          );
          break;
        }
        case '$addToSet':
          setPath(doc, path, addToSet(doc, path, current, arg));
          break;
        case '$bit':
          setPath(doc, path, applyBitwise(doc, path, current, arg as Doc));
          break;
        case '$min':
        case '$max': {
          const c = current === undefined ? 0 : compareValues(arg, current);
          if (current === undefined || (op === '$min' ? c < 0 : c > 0)) {
            setPath(doc, path, cloneValue(arg));
          }
          break;
        }
        case '$currentDate': {
          const wantsTimestamp = isPlainObject(arg) && arg.$type === 'timestamp';
          if (isPlainObject(arg) && arg.$type !== 'date' && arg.$type !== 'timestamp') {
            throw badValue(
              "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
            );
          }
          const now = Date.now();
          setPath(
            doc,
            path,
            wantsTimestamp ? new Timestamp({ t: Math.floor(now / 1000), i: 1 }) : new Date(now),
          );
          break;
        }
        default:
          checkArrayTarget(doc, op, path, current);
          // mingo would store `$each` as is for a missing field, skipping $slice/$sort; starting
          // from an empty array gives mongod's result.
          if (op === '$push') {
            if (current === undefined) setPath(doc, path, []);
            refuseWidePush(current, arg);
          }
          delegated[path] = arg;
      }
    }
    if (Object.keys(delegated).length > 0) rest[op] = delegated;
  }
  return rest;
}

/** Pulls `_id` assignments out of an operator update: equal values are no-ops, others refused. */
function extractIdAssignments(doc: Doc, spec: Doc, upsertInsert: boolean): Doc {
  const out: Doc = {};
  for (const [op, rawArgs] of Object.entries(spec)) {
    const args: Doc = { ...(rawArgs as Doc) };
    for (const path of Object.keys(args)) {
      const touchesId = path === '_id' || path.startsWith('_id.');
      const renamesToId =
        op === '$rename' &&
        ((args[path] as string) === '_id' || (args[path] as string).startsWith('_id.'));
      if (!touchesId && !renamesToId) continue;
      if ((op === '$set' || op === '$setOnInsert') && path === '_id') {
        if (doc._id === undefined && upsertInsert) doc._id = cloneValue(args._id);
        else if (!valuesEqual(doc._id, args._id)) throw immutableId('_id');
        delete args[path];
        continue;
      }
      throw immutableId(renamesToId ? (args[path] as string) : path);
    }
    out[op] = args;
  }
  return out;
}

/**
 * Applies an update to a copy of `current` and returns the new document; `current` is never
 * mutated, so a failure leaves stored data untouched.
 */
export function applyUpdate(current: Doc, spec: unknown, options: UpdateOptions = {}): Doc {
  const kind = classifyUpdate(spec);
  const before = current;
  if (kind === 'replacement') {
    const replacement = spec as Doc;
    if (
      replacement._id !== undefined &&
      before._id !== undefined &&
      !valuesEqual(replacement._id, before._id)
    ) {
      throw new CommandError(
        ErrorCode.ImmutableField,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(replacement._id)}`,
      );
    }
    const next = cloneValue(replacement);
    if (next._id === undefined && before._id !== undefined) next._id = before._id;
    return idFirst(next);
  }

  const doc = cloneValue(before);
  if (kind === 'pipeline') {
    // Run as an aggregation of the one document (mingo's updater diffs the result and fails on
    // $replaceWith); a new root without _id keeps the old one, as mongod does.
    const mingoOpts = mingoOptions(defaultContext, options.variables);
    const [next] = new Aggregator(spec as AnyObject[], mingoOpts).run<Doc>([doc]);
    if (next._id === undefined && before._id !== undefined) next._id = before._id;
    if (before._id !== undefined && !valuesEqual(next._id, before._id)) {
      throw new CommandError(
        ErrorCode.ImmutableField,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(next._id)}`,
      );
    }
    return idFirst(next);
  }

  let ops: Doc = { ...(spec as Doc) };
  if (ops.$setOnInsert !== undefined) {
    if (options.upsertInsert)
      ops.$set = { ...(ops.$set as Doc | undefined), ...(ops.$setOnInsert as Doc) };
    delete ops.$setOnInsert;
  }
  ops = extractIdAssignments(doc, ops, options.upsertInsert === true);
  ops = resolveFirstPositional(doc, ops, options);
  const rest = applyOwnOperators(doc, ops, options.variables);
  // mingo refuses two paths through one array in a single update (`a.$[].x` with `a.$[].y`);
  // real conflicts were refused by classifyUpdate, so each path is applied on its own.
  const context = contextFor([options.arrayFilters ?? [], rest.$pull ?? {}]);
  let result = doc;
  for (const [op, args] of Object.entries(rest)) {
    for (const [path, arg] of Object.entries(args as Doc)) {
      const docs = [result];
      updateOne(
        docs,
        {},
        { [op]: { [path]: arg } } as never,
        { arrayFilters: options.arrayFilters ?? [] },
        mingoOptions(context, options.variables),
      );
      result = docs[0];
    }
  }
  return idFirst(result);
}

/**
 * Replaces the positional `$` of update paths by the index of the array element the filter
 * matched, found on the document before the update as mongod does (mingo finds it for one
 * path at a time, against the document as already modified).
 */
function resolveFirstPositional(doc: Doc, ops: Doc, options: UpdateOptions): Doc {
  const indexes = new Map<string, string>();
  const resolve = (path: string): string => {
    const parts = path.split('.');
    const at = parts.indexOf('$');
    if (at < 0) return path;
    const arrayPath = parts.slice(0, at).join('.');
    let index = indexes.get(arrayPath);
    if (index === undefined) {
      const marker = `\u0000positional:${arrayPath}`;
      const condition = options.filter ?? {};
      const probe = [cloneValue(doc)];
      updateOne(
        probe,
        condition,
        { $set: { [`${arrayPath}.$`]: marker } } as never,
        {},
        mingoOptions(contextFor(condition), options.variables),
      );
      const array = getPath(probe[0], arrayPath);
      const found = Array.isArray(array) ? array.indexOf(marker) : -1;
      if (found < 0) {
        throw badValue('The positional operator did not find the match needed from the query.');
      }
      index = String(found);
      indexes.set(arrayPath, index);
    }
    return [...parts.slice(0, at), index, ...parts.slice(at + 1)].join('.');
  };
  const out: Doc = {};
  for (const [op, args] of Object.entries(ops)) {
    const resolved: Doc = {};
    for (const [path, arg] of Object.entries(args as Doc)) {
      resolved[resolve(path)] = op === '$rename' ? resolve(arg as string) : arg;
    }
    out[op] = resolved;
  }
  return out;
}

/**
 * The document an upsert starts from: the filter's equality conditions (top level and inside
 * `$and`), dotted paths expanded, as mongod builds it.
 */
function upsertSeed(filter: Doc): Doc {
  const seed: Doc = {};
  const visit = (f: Doc) => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const sub of value) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (key.startsWith('$')) continue;
      if (isPlainObject(value)) {
        const keys = Object.keys(value);
        if (keys.length > 0 && keys[0].startsWith('$')) {
          if (keys.length === 1 && '$eq' in value) setPath(seed, key, cloneValue(value.$eq));
          continue;
        }
      }
      if (kindOf(value) === 'regex') continue;
      setPath(seed, key, cloneValue(value));
    }
  };
  visit(filter);
  return seed;
}

/** Builds the document an upsert inserts, `_id` first (generated when the filter gives none). */
export function buildUpsertDocument(filter: Doc, spec: unknown, options: UpdateOptions): Doc {
  const kind = classifyUpdate(spec);
  const seed = upsertSeed(filter);
  let doc: Doc;
  if (kind === 'replacement') {
    doc = cloneValue(spec as Doc);
    if (doc._id === undefined && seed._id !== undefined) doc._id = seed._id;
  } else {
    doc = applyUpdate(seed, spec, { ...options, upsertInsert: true });
  }
  if (doc._id === undefined) doc._id = new ObjectId();
  return idFirst(doc);
}

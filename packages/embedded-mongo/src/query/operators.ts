import { Context, evalExpr } from 'mingo/core';
import { Lazy, type Iterator } from 'mingo/lazy';
import * as pipelineOps from 'mingo/operators/pipeline';
import * as projectionOps from 'mingo/operators/projection';
import * as queryOps from 'mingo/operators/query';
import * as windowOps from 'mingo/operators/window';
import { Query } from 'mingo/query';
import { type AnyObject, type Options } from 'mingo/types';

import { withAccumulatorLimits, withExpressionLimits, withStageLimits } from '../limits';
import {
  bsonTypeAlias,
  bytesOf,
  compareValues,
  dbrefAsObject,
  type Doc,
  formatValue,
  getPath,
  inDocumentOrder,
  isNumeric,
  isPlainObject,
  keyOf,
  kindOf,
  ownField,
  typeRankOf,
  valuesEqual,
} from '../bson-values';
import { badValue, wideNumberRefusal } from '../errors';
import {
  approximate,
  asSafeInteger,
  coerceToBool,
  holdsWideNumber,
  integerOf,
  numberKind,
  unwrapDoubles,
} from '../numbers';
import {
  bsonAccumulatorOperators,
  bsonExpressionOperators,
  bsonPipelineOperators,
} from './expressions';
import { sortDocuments } from './sort';

/**
 * mingo compares values with JS semantics: Long and Decimal128 are opaque objects to it, and
 * ObjectId ordering relies on string conversion. The comparison query operators (and `$all`,
 * `$expr`) are therefore replaced by BSON-aware ones built on compareValues/valuesEqual; the
 * ones that compute with numbers (`$mod`, `$bits*`) refuse Long and Decimal128. Logical,
 * element and the other evaluation operators and projection are mingo's own; aggregation
 * operators are set up in expressions.ts.
 */

/**
 * The values a path designates in a document, without expanding a final array: arrays met
 * along the path are traversed element-wise; a missing field yields `undefined`.
 */
function leafValues(doc: unknown, parts: string[]): unknown[] {
  const out: unknown[] = [];
  walkLeaves(doc, parts, 0, out);
  return out;
}

function walkLeaves(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    out.push(value);
    return;
  }
  const part = parts[i];
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part)) {
      const element = value[Number(part)];
      if (element !== undefined) walkLeaves(element, parts, i + 1, out);
    }
    // Only documents inside the array are descended; nested arrays are not, as in MongoDB.
    let reached = false;
    for (const el of value) {
      if (kindOf(el) === 'object') {
        reached = true;
        walkLeaves(el, parts, i, out);
      }
    }
    if (!reached && !/^\d+$/.test(part)) out.push(undefined);
    return;
  }
  const kind = kindOf(value);
  if (kind === 'object' || kind === 'dbref') {
    const fields = kind === 'dbref' ? dbrefAsObject(value) : (value as Doc);
    walkLeaves(ownField(fields, part), parts, i + 1, out);
    return;
  }
  out.push(undefined);
}

type LeafPredicate = (leaf: unknown) => boolean;
type FieldOperator = (
  selector: string,
  rhs: unknown,
  options: Options,
) => (doc: AnyObject) => boolean;

function fieldOperator(build: (rhs: unknown) => LeafPredicate): FieldOperator {
  return (selector, rhs) => {
    const parts = selector.split('.');
    const test = build(rhs);
    return (doc) => leafValues(doc, parts).some(test);
  };
}

function negate(op: FieldOperator): FieldOperator {
  return (selector, rhs, options) => {
    const positive = op(selector, rhs, options);
    return (doc) => !positive(doc);
  };
}

function equalsPredicate(rhs: unknown): LeafPredicate {
  return (leaf) => {
    if (valuesEqual(leaf, rhs)) return true;
    return Array.isArray(leaf) && leaf.some((el) => valuesEqual(el, rhs));
  };
}

function rangePredicate(accept: (cmp: number) => boolean): (rhs: unknown) => LeafPredicate {
  return (rhs) => {
    const rank = typeRankOf(rhs);
    const rhsKind = kindOf(rhs);
    const crossType = rhsKind === 'minKey' || rhsKind === 'maxKey';
    const comparable = (v: unknown) => crossType || typeRankOf(v) === rank;
    const check = (v: unknown) => comparable(v) && accept(compareValues(v, rhs));
    return (leaf) => {
      if (Array.isArray(leaf)) {
        if (Array.isArray(rhs) && check(leaf)) return true;
        return leaf.some(check);
      }
      return check(leaf);
    };
  };
}

function inPredicate(rhs: unknown): LeafPredicate {
  if (!Array.isArray(rhs)) throw badValue('$in needs an array');
  const keys = new Set<string>();
  const patterns: RegExp[] = [];
  for (const v of rhs) {
    if (kindOf(v) === 'regex') patterns.push(v as RegExp);
    else if (kindOf(v) === 'object' && Object.keys(v as Doc).some((k) => k.startsWith('$'))) {
      throw badValue('cannot nest $ under $in');
    } else keys.add(keyOf(v));
  }
  const matchOne = (v: unknown) =>
    keys.has(keyOf(v)) ||
    (patterns.length > 0 && typeof v === 'string' && patterns.some((re) => re.test(v)));
  return (leaf) => {
    if (matchOne(leaf)) return true;
    return Array.isArray(leaf) && leaf.some(matchOne);
  };
}

const typeNumbers: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  13: 'javascript',
  14: 'symbol',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};

const typeAliases = new Set([...Object.values(typeNumbers), 'number']);

function typePredicate(rhs: unknown): LeafPredicate {
  const wanted = (Array.isArray(rhs) ? rhs : [rhs]).map((t) => {
    const alias = typeof t === 'string' ? t : typeNumbers[Number(t)];
    if (alias === undefined || !typeAliases.has(alias)) {
      throw badValue(`Unknown type name alias: ${String(t)}`);
    }
    return alias;
  });
  const matches = (v: unknown) => {
    if (v === undefined) return false;
    if (wanted.includes('number') && isNumeric(v)) return true;
    return wanted.includes(bsonTypeAlias(v));
  };
  return (leaf) => {
    if (matches(leaf)) return true;
    return Array.isArray(leaf) && leaf.some(matches);
  };
}

const $eq = fieldOperator(equalsPredicate);
const $in = fieldOperator(inPredicate);

/** `$expr` is true by mongod's truthiness (Long and Decimal128 zeros are false). */
const $expr: FieldOperator = (_selector, rhs, options) => (doc) =>
  coerceToBool(evalExpr(doc, rhs, options));

/**
 * `$all` as the conjunction of one condition per value, so that values compare as BSON (mingo
 * compares them as JS objects). Lists of `$elemMatch` stay with mingo, whose nested conditions
 * run on these operators.
 */
const $all: FieldOperator = (selector, rhs, options) => {
  if (!Array.isArray(rhs)) throw badValue('$all needs an array');
  if (rhs.length === 0) return () => false;
  const isElemMatch = (v: unknown) => isPlainObject(v) && Object.keys(v)[0] === '$elemMatch';
  if (rhs.some(isElemMatch)) return queryOps.$all(selector, rhs, options);
  const conditions = rhs.map((v) => {
    if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
      throw badValue('no $ expressions in $all');
    }
    return { [selector]: kindOf(v) === 'regex' ? v : { $eq: v } };
  });
  const query = new Query({ $and: conditions }, options);
  return (doc) => query.test(doc);
};

const $size: FieldOperator = (selector, rhs, options) =>
  queryOps.$size(selector, asSafeInteger(rhs), options);

/** The bit positions a `$bits*` operand designates: a bitmask number, BinData or positions. */
function bitPositions(name: string, rhs: unknown): number[] {
  if (kindOf(rhs) === 'binData') {
    const bytes = bytesOf(rhs);
    const out: number[] = [];
    for (let i = 0; i < bytes.length * 8; i++) if ((bytes[i >> 3] >> (i & 7)) & 1) out.push(i);
    return out;
  }
  if (Array.isArray(rhs)) {
    return rhs.map((p) => {
      const n = integralValue(p);
      if (n === undefined || n < 0n) {
        throw badValue(`bit positions must be a non-negative integer: ${name}: ${formatValue(p)}`);
      }
      return Number(n);
    });
  }
  if (!isNumeric(rhs)) {
    throw badValue(
      `${name} takes an Array, a number, or a BinData but received: ${formatValue(rhs)}`,
    );
  }
  let mask = integralValue(rhs);
  if (mask === undefined || mask < 0n) {
    throw badValue(`${name} bitmask must be a non-negative integer: ${formatValue(rhs)}`);
  }
  const out: number[] = [];
  for (let i = 0; mask > 0n; i++, mask >>= 1n) if (mask & 1n) out.push(i);
  return out;
}

/** An integral number that fits an int64, as mongod's `$bits*` operators test it. */
function integralValue(v: unknown): bigint | undefined {
  const kind = numberKind(v);
  if (kind === 'int' || kind === 'long') return integerOf(v);
  if (kind !== 'double') return undefined;
  const x = approximate(v);
  if (!Number.isInteger(x) || x >= 2 ** 63 || x < -(2 ** 63)) return undefined;
  return BigInt(x);
}

/**
 * `$bitsAllSet` and friends on numbers (two's complement, sign-extended past bit 63) and on
 * BinData (bit 0 is the low bit of the first byte; bits past the end are clear), as mongod.
 */
function bitsOperator(name: string, wantSet: boolean, all: boolean): FieldOperator {
  return fieldOperator((rhs) => {
    const positions = bitPositions(name, rhs);
    const matches = (leaf: unknown): boolean => {
      if (Array.isArray(leaf)) return leaf.some(matches);
      let bit: (pos: number) => boolean;
      if (kindOf(leaf) === 'binData') {
        const bytes = bytesOf(leaf);
        bit = (pos) => pos >> 3 < bytes.length && ((bytes[pos >> 3] >> (pos & 7)) & 1) === 1;
      } else {
        if (numberKind(leaf) === 'decimal') throw wideNumberRefusal(`The ${name} query operator`);
        const n = integralValue(leaf);
        if (n === undefined) return false;
        bit = (pos) => ((n >> BigInt(pos)) & 1n) === 1n;
      }
      const test = (pos: number) => bit(pos) === wantSet;
      return all ? positions.every(test) : positions.some(test);
    };
    return matches;
  });
}

/** mingo's operator, refused when a Long or Decimal128 is the operand or a tested value. */
function refusingWide(name: string, op: FieldOperator): FieldOperator {
  return (selector, rhs, options) => {
    if (holdsWideNumber(rhs)) throw wideNumberRefusal(`The ${name} query operator`);
    const test = op(selector, rhs, options);
    const parts = selector.split('.');
    return (doc) => {
      if (leafValues(doc, parts).some(holdsWideNumber)) {
        throw wideNumberRefusal(`The ${name} query operator`);
      }
      return test(unwrapDoubles(doc));
    };
  };
}

const bsonQueryOperators: Record<string, FieldOperator> = {
  $eq,
  $ne: negate($eq),
  $gt: fieldOperator(rangePredicate((c) => c > 0)),
  $gte: fieldOperator(rangePredicate((c) => c >= 0)),
  $lt: fieldOperator(rangePredicate((c) => c < 0)),
  $lte: fieldOperator(rangePredicate((c) => c <= 0)),
  $in,
  $nin: negate($in),
  $type: fieldOperator(typePredicate),
  $expr,
  $all,
  $size,
  $mod: refusingWide('$mod', queryOps.$mod),
  $bitsAllSet: bitsOperator('$bitsAllSet', true, true),
  $bitsAnySet: bitsOperator('$bitsAnySet', true, false),
  $bitsAllClear: bitsOperator('$bitsAllClear', false, true),
  $bitsAnyClear: bitsOperator('$bitsAnyClear', false, false),
};

/** Conditions that apply to a whole document, not to a path. */
export const topLevelOperators = new Set(['$or', '$and', '$nor', '$expr', '$comment']);

/**
 * How mongod tests one array element against a condition (`$pull`, `$elemMatch` projection):
 * a condition whose first field is not a path operator (`{a: 1}`, `{$or: [...]}`) is a query
 * on document elements; one made of path operators (`{$gt: 5}`) or a regex tests the element
 * itself; any other value is compared for equality.
 */
export function elementMatcher(cond: unknown, options: Options): (el: unknown) => boolean {
  if (isPlainObject(cond)) {
    const first = Object.keys(cond)[0];
    if (first === undefined || !first.startsWith('$') || topLevelOperators.has(first)) {
      const query = new Query(cond, options);
      return (el) => isPlainObject(el) && query.test(el);
    }
  }
  if (isPlainObject(cond) || kindOf(cond) === 'regex') {
    const query = new Query({ v: cond }, options);
    return (el) => query.test({ v: el });
  }
  return (el) => valuesEqual(el, cond);
}

/** The `$elemMatch` projection: the first matching element, scalars included. */
function $elemMatchProjection(obj: Doc, expr: unknown, field: string, options: Options): unknown {
  const array = getPath(obj, field);
  if (!Array.isArray(array)) return undefined;
  if (!isPlainObject(expr)) throw badValue('elemMatch: Invalid argument, object required.');
  const matches = elementMatcher(expr, options);
  const found = array.find((el) => matches(el));
  return found === undefined ? undefined : [found];
}

const projectionOperators = { ...projectionOps, $elemMatch: $elemMatchProjection };

function $sort(coll: Iterator, spec: AnyObject): Iterator {
  return coll.transform((docs: Doc[]) => Lazy(sortDocuments(docs, spec)));
}

/** mingo's $project, with fields in mongod's order (`_id`, then the document's order). */
function $project(coll: Iterator, spec: AnyObject, options: Options): Iterator {
  return coll.map((doc: Doc) =>
    inDocumentOrder(
      pipelineOps.$project(Lazy([doc]), unwrapDoubles(spec), options).collect<Doc>()[0],
      doc,
    ),
  );
}

/**
 * The operator set every query, update and pipeline runs with. `extraPipeline` lets a command
 * plug in stages bound to the catalog (for example `$lookup`).
 */
export function buildContext(extraPipeline: Record<string, unknown> = {}): Context {
  return Context.init({
    accumulator: withAccumulatorLimits(bsonAccumulatorOperators()) as never,
    expression: withExpressionLimits(bsonExpressionOperators()) as never,
    pipeline: withStageLimits({
      ...pipelineOps,
      ...bsonPipelineOperators,
      $sort,
      $project,
      ...extraPipeline,
    }) as never,
    projection: projectionOperators as never,
    query: { ...queryOps, ...bsonQueryOperators } as never,
    window: { ...windowOps } as never,
  });
}

export const defaultContext = buildContext();

/**
 * mingo copies every operator table of a context each time a Query is built; with the ~200
 * expression operators that copy dominates a findOne. Filters and projections that use only
 * query and projection operators get a context holding just those.
 */
const leanContext = Context.init({
  query: { ...queryOps, ...bsonQueryOperators } as never,
  projection: projectionOperators as never,
});

const leanQueryOperators = new Set([...Object.keys(queryOps), '$options']);

/** Filters need expression operators only through `$expr` (or operators mingo lacks). */
function filterNeedsFullContext(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(filterNeedsFullContext);
  if (kindOf(value) !== 'object') return false;
  for (const [k, v] of Object.entries(value as Doc)) {
    if (k === '$expr' || (k.startsWith('$') && !leanQueryOperators.has(k))) return true;
    if (filterNeedsFullContext(v)) return true;
  }
  return false;
}

/** Projections beyond inclusion, exclusion and `$slice` may hold aggregation expressions. */
function projectionNeedsFullContext(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(projectionNeedsFullContext);
  if (kindOf(value) !== 'object') return false;
  for (const [k, v] of Object.entries(value as Doc)) {
    if (k.startsWith('$') && k !== '$slice') return true;
    if (projectionNeedsFullContext(v)) return true;
  }
  return false;
}

/** The cheapest context able to evaluate a filter (or update arguments) and a projection. */
export function contextFor(filter: unknown, projection?: unknown): Context {
  return filterNeedsFullContext(filter) || projectionNeedsFullContext(projection)
    ? defaultContext
    : leanContext;
}

/** Evaluates an expression that refers to no document (a `let` variable's value). */
export function evaluateExpression(expr: unknown): unknown {
  return evalExpr({}, expr, mingoOptions(defaultContext) as Options);
}

export function mingoOptions(context: Context, variables?: AnyObject): Partial<Options> {
  return {
    context,
    // Client-supplied $where/$function/$accumulator never get here (refuseUnsupportedOperators),
    // while mingo's own $setWindowFields is built on $function and needs scripts enabled.
    scriptEnabled: true,
    ...(variables ? { variables } : {}),
  };
}

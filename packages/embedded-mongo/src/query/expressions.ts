import { Decimal128, type Long } from 'bson';
import { evalExpr } from 'mingo/core';
import { Lazy, type Iterator } from 'mingo/lazy';
import * as accumulatorOps from 'mingo/operators/accumulator';
import * as expressionOps from 'mingo/operators/expression';
import * as pipelineOps from 'mingo/operators/pipeline';
import { type Options } from 'mingo/types';

import {
  bsonTypeAlias,
  compareExpressionValues,
  compareValues,
  type Doc,
  getPath,
  isNumeric,
  isPlainObject,
  keyOf,
  kindOf,
} from '../bson-values';
import {
  badValue,
  CommandError,
  decimalArithmeticRefusal,
  ErrorCode,
  typeMismatch,
  unsupported,
  wideNumberRefusal,
} from '../errors';
import {
  approximate,
  asDouble,
  coerceToBool,
  CompensatedSum,
  fitsInt64,
  holdsDouble,
  holdsWideNumber,
  integerOf,
  intOrLong,
  longOf,
  numberKind,
  unwrapDoubles,
} from '../numbers';
import { sortDocuments } from './sort';

/**
 * Aggregation operators whose results depend on BSON numeric types, BSON equality or mongod's
 * truthiness are implemented here; mingo's are JS-typed (Long and Decimal128 are opaque objects
 * to it). Every other mingo operator refuses Long and Decimal128 operands instead of computing
 * a wrong answer with them.
 */

type ExpressionFn = (obj: unknown, expr: unknown, options: Options) => unknown;
type AccumulatorFn = (coll: unknown[], expr: unknown, options: Options) => unknown;
type StageFn = (coll: Iterator, expr: unknown, options: Options) => Iterator;

interface LocalizableOptions {
  update(locals: Record<string, unknown>): Options;
}

/**
 * mingo resolves field paths against `local.root`; evaluating an expression for another
 * document needs a copy of the options rooted there. mingo hands operators its ComputeOptions,
 * whose static `init` copies them (its class is not exported).
 */
function localized(options: Options, locals: Record<string, unknown>): Options {
  const ctor = (options as { constructor?: { init?: (o: Options) => LocalizableOptions } })
    .constructor;
  return typeof ctor?.init === 'function' ? ctor.init(options).update(locals) : options;
}

/** Evaluates an expression for one document after another, each as the root. */
function evaluatorFor(expr: unknown, options: Options): (doc: unknown) => unknown {
  const rooted = localized(options, {}) as Options & Partial<LocalizableOptions>;
  if (typeof rooted.update !== 'function') return (doc) => evalExpr(doc, expr, rooted);
  const update = rooted.update.bind(rooted);
  return (doc) => evalExpr(doc, expr, update({ root: doc }));
}

const isNullish = (v: unknown) => v === undefined || v === null;

function isDate(v: unknown): v is Date {
  return kindOf(v) === 'date';
}

function arityError(name: string, expected: number, got: number): CommandError {
  return new CommandError(
    16020,
    `Expression ${name} takes exactly ${expected} arguments. ${got} were passed in.`,
  );
}

/** The operands of a fixed-arity expression: `[a, b]`, or a lone non-array operand. */
function fixedOperands(name: string, expr: unknown, count: number): unknown[] {
  const operands = Array.isArray(expr) ? expr : [expr];
  if (operands.length !== count) throw arityError(name, count, operands.length);
  return operands;
}

function evalOperands(obj: unknown, operands: unknown[], options: Options): unknown[] {
  return operands.map((e) => evalExpr(obj, e, options));
}

/** Values reaching an operator must not be Long or Decimal128 unless it is ours. */
function refuseWide(value: unknown, where: string): void {
  if (holdsWideNumber(value)) throw wideNumberRefusal(where);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic with mongod's type rules: int32 results widen to int64 on overflow, int64 to
// double; a date plus numbers is a date.

const INT64_BOUND = 2 ** 63;

/** C's llround: halfway cases away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** JS dates hold ±8.64e15 ms; mongod's hold any int64, which this server cannot return. */
function dateOfMillis(ms: bigint | number, where: string): Date {
  const n = Number(ms);
  if (Math.abs(n) > 8.64e15) throw unsupported(`A date beyond ±8.64e15 ms from ${where}`);
  return new Date(n);
}

type NumericWidth = 'int' | 'long' | 'double';

function widen(a: NumericWidth, b: NumericWidth): NumericWidth {
  if (a === 'double' || b === 'double') return 'double';
  return a === 'long' || b === 'long' ? 'long' : 'int';
}

/** The width of a numeric operand, refusing Decimal128 (which would need decimal arithmetic). */
function widthOf(v: unknown, where: string): NumericWidth | undefined {
  const kind = numberKind(v);
  if (kind === 'decimal') throw decimalArithmeticRefusal(where);
  return kind;
}

function operandList(obj: unknown, expr: unknown, options: Options): unknown[] {
  return Array.isArray(expr) ? evalOperands(obj, expr, options) : [evalExpr(obj, expr, options)];
}

/**
 * Sums and products of int32 and double operands that JS numbers compute exactly as mongod:
 * integer partial results stay below 2^53, and doubles are doubles. `undefined` otherwise.
 */
function plainArithmetic(values: unknown[], multiply: boolean): unknown {
  let result = multiply ? 1 : 0;
  let integral = true;
  for (const v of values) {
    if (typeof v !== 'number') return undefined;
    if (numberKind(v) === 'double') integral = false;
    result = multiply ? result * v : result + v;
    if (integral && !Number.isSafeInteger(result)) return undefined;
  }
  if (!integral) return asDouble(result);
  if (result >= -2147483648 && result <= 2147483647) return result;
  return longOf(BigInt(result));
}

const $add: ExpressionFn = (obj, expr, options) => {
  const operands = operandList(obj, expr, options);
  return plainArithmetic(operands, false) ?? addValues(operands);
};

function addValues(operands: unknown[]): unknown {
  let widest: NumericWidth = 'int';
  let longTotal = 0n;
  let doubleTotal = 0;
  let date = false;
  for (const value of operands) {
    if (isNullish(value)) return null;
    let addend: bigint | number;
    if (isDate(value)) {
      if (date) throw new CommandError(16612, 'only one date allowed in an $add expression');
      date = true;
      addend = BigInt(value.getTime());
    } else {
      const width = widthOf(value, '$add');
      if (width === undefined) {
        throw typeMismatch(`$add only supports numeric or date types, not ${bsonTypeAlias(value)}`);
      }
      const before = widest;
      widest = widen(widest, width);
      if (before !== 'double' && widest === 'double') doubleTotal = Number(longTotal);
      addend = width === 'double' ? approximate(value) : integerOf(value);
    }
    if (widest === 'double') {
      doubleTotal += Number(addend);
      continue;
    }
    const next = longTotal + (addend as bigint);
    if (fitsInt64(next)) {
      longTotal = next;
    } else {
      widest = 'double';
      doubleTotal = Number(longTotal) + Number(addend);
    }
  }
  if (date) {
    if (widest !== 'double') return dateOfMillis(longTotal, '$add');
    if (!(doubleTotal >= -INT64_BOUND && doubleTotal < INT64_BOUND)) {
      throw new CommandError(ErrorCode.Overflow, 'date overflow in $add');
    }
    return dateOfMillis(roundHalfAway(doubleTotal), '$add');
  }
  if (widest === 'double') return asDouble(doubleTotal);
  return widest === 'long' ? longOf(longTotal) : intOrLong(longTotal);
}

const $subtract: ExpressionFn = (obj, expr, options) => {
  const [lhs, rhs] = evalOperands(obj, fixedOperands('$subtract', expr, 2), options);
  const lw = widthOf(lhs, '$subtract');
  const rw = widthOf(rhs, '$subtract');
  if (lw !== undefined && rw !== undefined) {
    const width = widen(lw, rw);
    if (width === 'double') return asDouble(approximate(lhs) - approximate(rhs));
    const diff = integerOf(lhs) - integerOf(rhs);
    if (width === 'int') return intOrLong(diff);
    return fitsInt64(diff) ? longOf(diff) : asDouble(approximate(lhs) - approximate(rhs));
  }
  if (isNullish(lhs) || isNullish(rhs)) return null;
  if (isDate(lhs)) {
    const ms = BigInt(lhs.getTime());
    if (isDate(rhs)) return longOf(ms - BigInt(rhs.getTime()));
    if (rw === 'int' || rw === 'long') {
      const diff = ms - integerOf(rhs);
      if (!fitsInt64(diff)) throw new CommandError(ErrorCode.Overflow, 'date overflow');
      return dateOfMillis(diff, '$subtract');
    }
    if (rw === 'double') {
      const x = approximate(rhs);
      if (!(x >= -INT64_BOUND && x < INT64_BOUND)) {
        throw new CommandError(ErrorCode.Overflow, 'date overflow');
      }
      const diff = ms - BigInt(roundHalfAway(x));
      if (!fitsInt64(diff)) throw new CommandError(ErrorCode.Overflow, 'date overflow');
      return dateOfMillis(diff, '$subtract');
    }
    throw typeMismatch(`can't $subtract ${bsonTypeAlias(rhs)} from Date`);
  }
  throw typeMismatch(`can't $subtract ${bsonTypeAlias(rhs)} from ${bsonTypeAlias(lhs)}`);
};

const $multiply: ExpressionFn = (obj, expr, options) => {
  const operands = operandList(obj, expr, options);
  const plain = plainArithmetic(operands, true);
  if (plain !== undefined) return plain;
  let widest: NumericWidth = 'int';
  let longProduct = 1n;
  let doubleProduct = 1;
  for (const value of operands) {
    if (isNullish(value)) return null;
    const width = widthOf(value, '$multiply');
    if (width === undefined) {
      throw typeMismatch(`$multiply only supports numeric types, not ${bsonTypeAlias(value)}`);
    }
    widest = widen(widest, width);
    // mongod keeps a double product alongside the integer one and falls back to it when the
    // integer one overflows.
    doubleProduct *= approximate(value);
    if (widest !== 'double') {
      longProduct *= integerOf(value);
      if (!fitsInt64(longProduct)) widest = 'double';
    }
  }
  if (widest === 'double') return asDouble(doubleProduct);
  return widest === 'long' ? longOf(longProduct) : intOrLong(longProduct);
};

const $divide: ExpressionFn = (obj, expr, options) => {
  const [lhs, rhs] = evalOperands(obj, fixedOperands('$divide', expr, 2), options);
  const lw = widthOf(lhs, '$divide');
  const rw = widthOf(rhs, '$divide');
  if (lw !== undefined && rw !== undefined) {
    const denominator = approximate(rhs);
    if (denominator === 0) throw badValue("can't $divide by zero");
    return asDouble(approximate(lhs) / denominator);
  }
  if (isNullish(lhs) || isNullish(rhs)) return null;
  throw typeMismatch(
    `$divide only supports numeric types, not ${bsonTypeAlias(lhs)} and ${bsonTypeAlias(rhs)}`,
  );
};

// ---------------------------------------------------------------------------------------------
// $sum, $avg, $min, $max: accumulators in $group (and windows), expressions elsewhere.

function sumOf(values: unknown[], where: string): CompensatedSum {
  const sum = new CompensatedSum();
  for (const v of values) {
    if (!isNumeric(v)) continue;
    if (numberKind(v) === 'decimal') throw decimalArithmeticRefusal(where);
    sum.add(v);
  }
  return sum;
}

function pickExtreme(values: unknown[], sense: 1 | -1): unknown {
  let best: unknown;
  for (const v of values) {
    if (isNullish(v)) continue;
    if (best === undefined || compareValues(v, best) * sense > 0) best = v;
  }
  return best === undefined ? null : best;
}

interface Reducer {
  (values: unknown[], constant?: number): unknown;
}

const reducers: Record<'$sum' | '$avg' | '$min' | '$max', Reducer> = {
  $sum: (values, constant) => {
    const compensated = sumOf(values, '$sum').result();
    if (constant === undefined || Number.isInteger(constant)) return compensated;
    // Depending on the version, mongod adds a constant either plainly or compensated; refuse
    // when the two differ rather than pick one.
    let plain = 0;
    for (let i = 0; i < values.length; i++) plain += constant;
    if (Object.is(plain, compensated)) return compensated;
    throw unsupported(`$sum of the non-integral constant ${constant}`);
  },
  $avg: (values) => {
    const sum = sumOf(values, '$avg');
    return sum.count === 0 ? null : asDouble(sum.toDouble() / sum.count);
  },
  $min: (values) => pickExtreme(values, -1),
  $max: (values) => pickExtreme(values, 1),
};

/** Values an accumulator sees: the expression per document, or (from mingo) values already. */
function accumulated(coll: unknown[], expr: unknown, options: Options): unknown[] {
  if (expr === null || expr === undefined) return coll;
  return coll.map(evaluatorFor(expr, options));
}

function accumulator(reduce: Reducer): AccumulatorFn {
  return (coll, expr, options) =>
    reduce(accumulated(coll, expr, options), typeof expr === 'number' ? expr : undefined);
}

/**
 * The expression form: one operand that is an array contributes its elements, otherwise each
 * operand is one value. mingo evaluates a group's accumulators through the expression table
 * with the group's documents as `obj`, so an array `obj` means accumulator use.
 */
function accumulatorExpression(reduce: Reducer): ExpressionFn {
  const asAccumulator = accumulator(reduce);
  return (obj, expr, options) => {
    if (Array.isArray(obj)) return asAccumulator(obj, expr, options);
    const operands = Array.isArray(expr) ? expr : [expr];
    if (operands.length === 1) {
      const value = evalExpr(obj, operands[0], options);
      return reduce(Array.isArray(value) ? value : [value]);
    }
    return reduce(evalOperands(obj, operands, options));
  };
}

/** Computed values as mongod builds them: no missing fields in documents, null in arrays. */
function normalizeComputed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((el) => (el === undefined ? null : normalizeComputed(el)));
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const [k, field] of Object.entries(v)) {
    if (field !== undefined) out[k] = normalizeComputed(field);
  }
  return out;
}

const $push: AccumulatorFn = (coll, expr, options) =>
  accumulated(coll, expr, options).filter((v) => v !== undefined);

const $addToSet: AccumulatorFn = (coll, expr, options) => {
  const seen = new Map<string, unknown>();
  for (const v of accumulated(coll, expr, options)) {
    if (v === undefined) continue;
    const value = normalizeComputed(v);
    const key = keyOf(value);
    if (!seen.has(key)) seen.set(key, value);
  }
  return [...seen.values()];
};

// ---------------------------------------------------------------------------------------------
// Comparison, membership, logic and type inspection.

function comparison(name: string, accept: (c: number) => boolean): ExpressionFn {
  return (obj, expr, options) => {
    const [a, b] = evalOperands(obj, fixedOperands(name, expr, 2), options);
    return accept(compareExpressionValues(a, b));
  };
}

const $cmp: ExpressionFn = (obj, expr, options) => {
  const [a, b] = evalOperands(obj, fixedOperands('$cmp', expr, 2), options);
  return compareExpressionValues(a, b);
};

const $in: ExpressionFn = (obj, expr, options) => {
  const [value, list] = evalOperands(obj, fixedOperands('$in', expr, 2), options);
  if (!Array.isArray(list)) {
    throw new CommandError(
      40081,
      `$in requires an array as a second argument, found: ${bsonTypeAlias(list)}`,
    );
  }
  return list.some((el) => compareExpressionValues(value, el) === 0);
};

const $and: ExpressionFn = (obj, expr, options) => {
  for (const e of Array.isArray(expr) ? expr : [expr]) {
    if (!coerceToBool(evalExpr(obj, e, options))) return false;
  }
  return true;
};

const $or: ExpressionFn = (obj, expr, options) => {
  for (const e of Array.isArray(expr) ? expr : [expr]) {
    if (coerceToBool(evalExpr(obj, e, options))) return true;
  }
  return false;
};

const $not: ExpressionFn = (obj, expr, options) =>
  !coerceToBool(evalExpr(obj, fixedOperands('$not', expr, 1)[0], options));

const $cond: ExpressionFn = (obj, expr, options) => {
  let branches: unknown[];
  if (isPlainObject(expr)) {
    for (const key of Object.keys(expr)) {
      if (key !== 'if' && key !== 'then' && key !== 'else') {
        throw new CommandError(17083, `Unrecognized parameter to $cond: ${key}`);
      }
    }
    ['if', 'then', 'else'].forEach((key, i) => {
      if (!(key in expr)) throw new CommandError(17080 + i, `Missing '${key}' parameter to $cond`);
    });
    branches = [expr.if, expr.then, expr.else];
  } else {
    branches = fixedOperands('$cond', expr, 3);
  }
  const chosen = coerceToBool(evalExpr(obj, branches[0], options)) ? branches[1] : branches[2];
  return evalExpr(obj, chosen, options);
};

const $switch: ExpressionFn = (obj, expr, options) => {
  if (!isPlainObject(expr)) {
    throw new CommandError(40060, '$switch requires an object as an argument');
  }
  for (const key of Object.keys(expr)) {
    if (key !== 'branches' && key !== 'default') {
      throw new CommandError(40067, `$switch found an unknown argument: ${key}`);
    }
  }
  const branches = expr.branches;
  if (!Array.isArray(branches)) {
    throw new CommandError(40061, "$switch expected an array for 'branches'");
  }
  if (branches.length === 0) throw new CommandError(40068, '$switch requires at least one branch.');
  for (const branch of branches) {
    if (!isPlainObject(branch))
      throw new CommandError(40061, '$switch expected each branch to be an object');
    for (const key of Object.keys(branch)) {
      if (key !== 'case' && key !== 'then') {
        throw new CommandError(40063, `$switch found an unknown argument to a branch: ${key}`);
      }
    }
    if (!('case' in branch)) {
      throw new CommandError(40064, "$switch requires each branch have a 'case' expression");
    }
    if (!('then' in branch)) {
      throw new CommandError(40065, "$switch requires each branch have a 'then' expression.");
    }
  }
  for (const branch of branches as Doc[]) {
    if (coerceToBool(evalExpr(obj, branch.case, options)))
      return evalExpr(obj, branch.then, options);
  }
  if (!('default' in expr)) {
    throw new CommandError(
      40066,
      '$switch could not find a matching branch for an input, and no default was specified.',
    );
  }
  return evalExpr(obj, expr.default, options);
};

function singleOperand(name: string, obj: unknown, expr: unknown, options: Options): unknown {
  const operand = Array.isArray(expr) ? fixedOperands(name, expr, 1)[0] : expr;
  return evalExpr(obj, operand, options);
}

const $type: ExpressionFn = (obj, expr, options) =>
  bsonTypeAlias(singleOperand('$type', obj, expr, options));

const $isNumber: ExpressionFn = (obj, expr, options) =>
  isNumeric(singleOperand('$isNumber', obj, expr, options));

const $toBool: ExpressionFn = (obj, expr, options) => {
  const v = singleOperand('$toBool', obj, expr, options);
  return isNullish(v) ? null : coerceToBool(v);
};

function conversionFailure(message: string): CommandError {
  return new CommandError(
    ErrorCode.ConversionFailure,
    `${message} in $convert with no onError value`,
  );
}

/** $toLong and $convert to long, for the inputs whose conversion is certain. */
function convertToLong(v: unknown): Long | null {
  if (isNullish(v)) return null;
  if (typeof v === 'boolean') return longOf(v ? 1n : 0n);
  if (isDate(v)) return longOf(BigInt(v.getTime()));
  switch (numberKind(v)) {
    case 'int':
    case 'long':
      return longOf(integerOf(v));
    case 'double': {
      const x = approximate(v);
      if (Number.isNaN(x)) throw conversionFailure('Attempt to convert NaN value to integer type');
      if (!Number.isFinite(x)) {
        throw conversionFailure('Attempt to convert infinity value to integer type');
      }
      const n = BigInt(Math.trunc(x));
      if (!fitsInt64(n)) {
        throw conversionFailure(`Conversion would overflow target type: ${x}`);
      }
      return longOf(n);
    }
    case 'decimal':
      throw unsupported('Converting a Decimal128 to long');
  }
  if (typeof v === 'string') {
    if (!/\d/.test(v)) throw conversionFailure(`Failed to parse number '${v}'`);
    // mongod's parser accepts more spellings than plain digits; which ones is not certain here.
    if (!/^-?\d+$/.test(v)) throw unsupported(`Converting the string "${v}" to long`);
    const n = BigInt(v);
    if (!fitsInt64(n)) throw conversionFailure(`Failed to parse number '${v}'`);
    return longOf(n);
  }
  throw conversionFailure(`Unsupported conversion from ${bsonTypeAlias(v)} to long`);
}

/** $toDecimal and $convert to decimal: only exact inputs (a double's digits would vary). */
function convertToDecimal(v: unknown): Decimal128 | null {
  if (isNullish(v)) return null;
  if (typeof v === 'boolean') return Decimal128.fromString(v ? '1' : '0');
  if (isDate(v)) return Decimal128.fromString(String(v.getTime()));
  switch (numberKind(v)) {
    case 'int':
    case 'long':
      return Decimal128.fromString(integerOf(v).toString());
    case 'decimal':
      return v as Decimal128;
    case 'double':
      throw unsupported('Converting a double to Decimal128');
  }
  if (typeof v === 'string') throw unsupported('Converting a string to Decimal128');
  throw conversionFailure(`Unsupported conversion from ${bsonTypeAlias(v)} to decimal`);
}

const $toLong: ExpressionFn = (obj, expr, options) =>
  convertToLong(singleOperand('$toLong', obj, expr, options));

const $toDecimal: ExpressionFn = (obj, expr, options) =>
  convertToDecimal(singleOperand('$toDecimal', obj, expr, options));

const longTargets = new Set<unknown>(['long', 18]);
const mingoConvert: ExpressionFn = (obj, expr, options) =>
  guardedExpression('$convert', expressionOps.$convert)(obj, expr, options);
const decimalTargets = new Set<unknown>(['decimal', 19]);

const $convert: ExpressionFn = (obj, expr, options) => {
  if (!isPlainObject(expr)) return mingoConvert(obj, expr, options);
  const to = evalExpr(obj, expr.to, options);
  const convert = longTargets.has(to)
    ? convertToLong
    : decimalTargets.has(to)
      ? convertToDecimal
      : undefined;
  if (convert === undefined) return mingoConvert(obj, expr, options);
  const input = evalExpr(obj, expr.input, options);
  if (isNullish(input) && 'onNull' in expr) return evalExpr(obj, expr.onNull, options);
  try {
    return convert(input);
  } catch (err) {
    const failed = err instanceof CommandError && err.code === ErrorCode.ConversionFailure;
    if (failed && 'onError' in expr) return evalExpr(obj, expr.onError, options);
    throw err;
  }
};

/** mingo's $filter with the condition's truthiness decided by mongod's rules. */
const $filter: ExpressionFn = (obj, expr, options) => {
  if (!isPlainObject(expr) || !('cond' in expr)) {
    return expressionOps.$filter(obj as never, expr as never, options);
  }
  refuseWide(expr.limit, '$filter');
  const spec = { ...expr, cond: { $cond: [expr.cond, true, false] } };
  return expressionOps.$filter(obj as never, spec as never, options);
};

// ---------------------------------------------------------------------------------------------
// Every other mingo operator: evaluated as mingo does, after checking what it would receive.

/**
 * Operators that move values without inspecting them, so Long and Decimal128 pass through
 * unharmed; lazy ones (`$let`, `$map`, ...) evaluate their parts through guarded operators.
 */
const passThroughExpressions = new Set([
  '$literal',
  '$let',
  '$map',
  '$reduce',
  '$ifNull',
  '$mergeObjects',
  '$objectToArray',
  '$arrayToObject',
  '$concatArrays',
  '$first',
  '$last',
  '$reverseArray',
  '$size',
  '$isArray',
  '$getField',
  '$setField',
  '$unsetField',
  '$zip',
  '$rand',
]);

function guardedExpression(name: string, op: unknown): ExpressionFn {
  const fn = op as ExpressionFn;
  return (obj, expr, options) => {
    // Evaluated twice (here and by mingo): mingo offers no hook between the two steps.
    const args = evalExpr(obj, expr, options);
    refuseWide(args, name);
    return holdsDouble(args)
      ? fn(unwrapDoubles(obj), unwrapDoubles(expr), options)
      : fn(obj, expr, options);
  };
}

/**
 * Operators that pass array elements through and read numbers only at some positions: only
 * those are checked, so arrays of Long values still pass.
 */
const numericPositions: Record<string, (args: unknown) => unknown> = {
  $arrayElemAt: (args) => (Array.isArray(args) ? args.slice(1) : args),
  $slice: (args) => (Array.isArray(args) ? args.slice(1) : args),
  $firstN: (args) => (isPlainObject(args) ? args.n : args),
  $lastN: (args) => (isPlainObject(args) ? args.n : args),
};

function guardedPositions(
  name: string,
  op: unknown,
  pick: (args: unknown) => unknown,
): ExpressionFn {
  const fn = op as ExpressionFn;
  return (obj, expr, options) => {
    const args = evalExpr(obj, expr, options);
    refuseWide(pick(args), name);
    return holdsDouble(args)
      ? fn(unwrapDoubles(obj), unwrapDoubles(expr), options)
      : fn(obj, expr, options);
  };
}

/** Accumulators that only collect or count values (`n` of $firstN/$lastN must be a number). */
const passThroughAccumulators = new Set([
  '$first',
  '$last',
  '$mergeObjects',
  '$count',
  '$firstN',
  '$lastN',
]);

function guardedAccumulator(name: string, op: unknown): AccumulatorFn {
  const fn = op as AccumulatorFn;
  return (coll, expr, options) => {
    refuseWide(expr, name);
    refuseWide(accumulated(coll, expr, options), name);
    // $top, $bottom and their N forms order the documents by fields the output may not hold.
    const sortBy =
      isPlainObject(expr) && isPlainObject(expr.sortBy) ? Object.keys(expr.sortBy) : [];
    for (const doc of coll) for (const path of sortBy) refuseWide(getPath(doc, path), name);
    return fn(unwrapDoubles(coll), unwrapDoubles(expr), options);
  };
}

const ownExpressions: Record<string, ExpressionFn> = {
  $add,
  $subtract,
  $multiply,
  $divide,
  $sum: accumulatorExpression(reducers.$sum),
  $avg: accumulatorExpression(reducers.$avg),
  $min: accumulatorExpression(reducers.$min),
  $max: accumulatorExpression(reducers.$max),
  $eq: comparison('$eq', (c) => c === 0),
  $ne: comparison('$ne', (c) => c !== 0),
  $gt: comparison('$gt', (c) => c > 0),
  $gte: comparison('$gte', (c) => c >= 0),
  $lt: comparison('$lt', (c) => c < 0),
  $lte: comparison('$lte', (c) => c <= 0),
  $cmp,
  $in,
  $and,
  $or,
  $not,
  $cond,
  $switch,
  $type,
  $isNumber,
  $toBool,
  $toLong,
  $toDecimal,
  $convert,
  $filter,
};

const ownAccumulators: Record<string, AccumulatorFn> = {
  $sum: accumulator(reducers.$sum),
  $avg: accumulator(reducers.$avg),
  $min: accumulator(reducers.$min),
  $max: accumulator(reducers.$max),
  $push,
  $addToSet,
};

/** mongod answers $dateDiff with an int64; mingo with a JS number. */
function asLongResult(op: ExpressionFn): ExpressionFn {
  return (obj, expr, options) => {
    const result = op(obj, expr, options);
    return typeof result === 'number' && Number.isInteger(result) ? longOf(BigInt(result)) : result;
  };
}

/** mingo answers `$toDouble: 5` with the JS number 5, which would go out as an int32. */
function asDoubleResult(op: ExpressionFn): ExpressionFn {
  return (obj, expr, options) => {
    const result = op(obj, expr, options);
    return typeof result === 'number' ? asDouble(result) : result;
  };
}

/** mingo's hash is not mongod's, so its index keys would be made-up values. */
const $toHashedIndexKey: ExpressionFn = () => {
  throw unsupported('$toHashedIndexKey');
};

export function bsonExpressionOperators(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, op] of Object.entries(expressionOps)) {
    const positions = numericPositions[name];
    out[name] = passThroughExpressions.has(name)
      ? op
      : positions
        ? guardedPositions(name, op, positions)
        : guardedExpression(name, op);
  }
  out.$dateDiff = asLongResult(out.$dateDiff as ExpressionFn);
  out.$toDouble = asDoubleResult(out.$toDouble as ExpressionFn);
  return { ...out, ...ownExpressions, $toHashedIndexKey };
}

/** mingo answers $top and $bottom with a one-element array; mongod with the element itself. */
function singleResult(op: AccumulatorFn): AccumulatorFn {
  return (coll, expr, options) => {
    const result = op(coll, expr, options);
    if (!Array.isArray(result)) return result;
    return result.length === 0 ? null : result[0];
  };
}

export function bsonAccumulatorOperators(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, op] of Object.entries(accumulatorOps)) {
    out[name] = passThroughAccumulators.has(name) ? op : guardedAccumulator(name, op);
  }
  out.$top = singleResult(out.$top as AccumulatorFn);
  out.$bottom = singleResult(out.$bottom as AccumulatorFn);
  return { ...out, ...ownAccumulators };
}

// ---------------------------------------------------------------------------------------------
// Stages.

/** $group keyed by BSON equality: 5, 5.0, Long(5) and Decimal128('5') are one group. */
const $group: StageFn = (coll, rawSpec, options) => {
  if (!isPlainObject(rawSpec)) {
    throw new CommandError(15947, "a group's fields must be specified in an object");
  }
  const spec = rawSpec;
  if (!('_id' in spec)) throw new CommandError(15955, 'a group specification must include an _id');
  const fields = Object.keys(spec).filter((k) => k !== '_id');
  for (const field of fields) {
    const acc = spec[field];
    if (!isPlainObject(acc) || Object.keys(acc).length !== 1) {
      throw new CommandError(40234, `The field '${field}' must be an accumulator object`);
    }
    if (field.includes('.')) {
      throw new CommandError(40235, `The field name '${field}' cannot contain '.'`);
    }
  }
  return coll.transform((items: Doc[]) => {
    const groups = new Map<string, { id: unknown; docs: Doc[] }>();
    for (const doc of items) {
      const computed = evalExpr(doc, spec._id, options);
      const id = computed === undefined ? null : normalizeComputed(computed);
      const key = keyOf(id);
      let group = groups.get(key);
      if (group === undefined) {
        group = { id, docs: [] };
        groups.set(key, group);
      }
      group.docs.push(doc);
    }
    const out: Doc[] = [];
    for (const { id, docs } of groups.values()) {
      const row: Doc = { _id: id };
      const groupOptions = localized(options, { root: null, groupId: id });
      for (const field of fields) row[field] = evalExpr(docs, spec[field], groupOptions);
      out.push(row);
    }
    return Lazy(out);
  });
};

const $sortByCount: StageFn = (coll, expr, options) => {
  const grouped = $group(coll, { _id: expr, count: { $sum: 1 } }, options);
  return grouped.transform((docs: Doc[]) => Lazy(sortDocuments(docs, { count: -1 })));
};

/**
 * Stages whose grouping, ordering or arithmetic is mingo's own (not the operator tables):
 * documents holding Long or Decimal128 values anywhere are refused.
 */
function guardedStage(name: string, op: unknown): StageFn {
  const fn = op as StageFn;
  return (coll, expr, options) => {
    refuseWide(expr, `The ${name} stage`);
    const checked = coll.map((doc: Doc) => {
      refuseWide(doc, `The ${name} stage`);
      return unwrapDoubles(doc);
    });
    return fn(checked, expr, options);
  };
}

const $graphLookup: StageFn = (coll, expr, options) => {
  if (isPlainObject(expr) && typeof expr.from === 'string' && options.collectionResolver) {
    const foreign = options.collectionResolver(expr.from);
    refuseWide(foreign, 'The $graphLookup stage');
    return guardedStage('$graphLookup', pipelineOps.$graphLookup)(
      coll,
      { ...expr, from: foreign },
      options,
    );
  }
  return guardedStage('$graphLookup', pipelineOps.$graphLookup)(coll, expr, options);
};

/** mongod numbers unwound elements with int64 indexes; mingo with JS numbers. */
const $unwind: StageFn = (coll, expr, options) => {
  const unwound = (pipelineOps.$unwind as unknown as StageFn)(coll, expr, options);
  const field = isPlainObject(expr) ? expr.includeArrayIndex : undefined;
  if (typeof field !== 'string' || field === '') return unwound;
  return unwound.map((doc: Doc) => {
    const index = doc[field];
    if (typeof index === 'number') doc[field] = longOf(BigInt(index));
    return doc;
  });
};

/** mingo yields `undefined` for a document pruned at the top level; mongod drops it. */
const $redact: StageFn = (coll, expr, options) =>
  (pipelineOps.$redact as unknown as StageFn)(coll, expr, options).filter(
    (doc: unknown) => doc !== undefined,
  );

export const bsonPipelineOperators: Record<string, unknown> = {
  $group,
  $redact,
  $unwind,
  $sortByCount,
  $graphLookup,
  $bucket: guardedStage('$bucket', pipelineOps.$bucket),
  $bucketAuto: guardedStage('$bucketAuto', pipelineOps.$bucketAuto),
  $densify: guardedStage('$densify', pipelineOps.$densify),
  $fill: guardedStage('$fill', pipelineOps.$fill),
  $setWindowFields: guardedStage('$setWindowFields', pipelineOps.$setWindowFields),
};

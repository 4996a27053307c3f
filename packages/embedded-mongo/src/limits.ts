import { calculateObjectSize } from 'bson';
import { evalExpr } from 'mingo/core';
import safeRegex from 'safe-regex2';

import { type Doc, formatValue, isPlainObject } from './bson-values';
import { CommandError, ErrorCode, unsupported } from './errors';

/*
 * The limits mongod has, so that one request cannot take the whole server (and every other
 * client) down. Each answers the error mongod answers; the server keeps serving.
 */

/** mongod's BSONObjMaxInternalSize: 16 MB plus the 16 kB it allows for command overhead. */
export const MAX_INTERNAL_BSON_SIZE = 16 * 1024 * 1024 + 16 * 1024;
/** mongod's internalQueryMaxRangeBytes, internalQueryMaxPushBytes, internalQueryMaxAddToSetBytes. */
export const MAX_EXPRESSION_BYTES = 100 * 1024 * 1024;
/** mongod's internalQueryMaxBlockingSortMemoryUsageBytes (and $group's memory limit). */
export const MAX_BLOCKING_STAGE_BYTES = 100 * 1024 * 1024;
/** mongod's estimate of one array element (`sizeof(Value)`). */
const VALUE_BYTES = 16;

export function objectTooLarge(size: number, doc?: Doc): CommandError {
  const hex = `0x${size.toString(16).toUpperCase()}`;
  const first = doc === undefined ? undefined : Object.entries(doc)[0];
  const element = first ? ` First element: ${first[0]}: ${formatValue(first[1])}` : '';
  return new CommandError(
    ErrorCode.BSONObjectTooLarge,
    `BSONObj size: ${size} (${hex}) is invalid. Size must be between 0 and ${MAX_INTERNAL_BSON_SIZE}(16MB)${element}`,
  );
}

/** A document bound for a reply: more than mongod's 16 MB limit answers 10334. */
export function checkDocumentSize(doc: Doc, encodedSize: number): void {
  if (encodedSize > MAX_INTERNAL_BSON_SIZE) throw objectTooLarge(encodedSize, doc);
}

function exceeded(what: string, limit: number): CommandError {
  return new CommandError(
    ErrorCode.ExceededMemoryLimit,
    `${what} used too much memory and cannot spill to disk. Memory limit: ${limit} bytes`,
  );
}

/**
 * `$range` is refused before its array exists: `[0, 3e8]` would need gigabytes and end the
 * process (V8 aborts on heap exhaustion rather than throwing).
 */
export function checkRange(start: number, end: number, step: number): void {
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    return; // mongod's own argument errors are the operator's to give
  }
  const count = Math.max(0, Math.ceil((end - start) / step));
  const bytes = count * VALUE_BYTES;
  if (bytes > MAX_EXPRESSION_BYTES) {
    throw new CommandError(
      ErrorCode.ExceededMemoryLimit,
      `$range would use too much memory (${bytes} bytes) and cannot spill to disk. Memory limit: ${MAX_EXPRESSION_BYTES} bytes`,
    );
  }
}

/** `$push` / `$addToSet` accumulating more than mongod allows one group. */
export function checkAccumulated(name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length * VALUE_BYTES <= MAX_EXPRESSION_BYTES / 64) return;
  const bytes = calculateObjectSize({ value });
  if (bytes > MAX_EXPRESSION_BYTES) throw exceeded(name, MAX_EXPRESSION_BYTES);
}

/**
 * Bytes held by a blocking stage ($sort, $group): past the limit mongod would spill to disk,
 * which this server cannot; with `allowDiskUse: false` mongod answers 292 itself.
 */
function blockingStageMeter(stage: string) {
  let bytes = 0;
  return (doc: unknown): void => {
    bytes += calculateObjectSize(isPlainObject(doc) ? doc : { doc });
    if (bytes <= MAX_BLOCKING_STAGE_BYTES) return;
    if (allowDiskUse === false) {
      throw new CommandError(
        ErrorCode.QueryExceededMemoryLimitNoDiskUseAllowed,
        `Exceeded memory limit for ${stage}, but didn't allow external sort. Pass allowDiskUse:true to opt in.`,
      );
    }
    throw exceeded(`${stage} (this server cannot spill to disk)`, MAX_BLOCKING_STAGE_BYTES);
  };
}

// ---------------------------------------------------------------------------------------------
// maxTimeMS

// Commands run one at a time and synchronously, so the running command's limits can live here.
let deadline = Infinity;
let allowDiskUse: boolean | undefined;

/**
 * Runs one command under its `maxTimeMS` (0 or absent: no limit) and `allowDiskUse`, as
 * mongod does.
 */
export function withCommandLimits<T>(cmd: Doc, run: () => T): T {
  const maxTimeMS = cmd.maxTimeMS;
  let ms = 0;
  if (maxTimeMS !== undefined && maxTimeMS !== null) {
    ms = Number(maxTimeMS);
    if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
      throw new CommandError(
        ErrorCode.BadValue,
        `${formatValue(maxTimeMS)} value for maxTimeMS is out of range [0, 2147483647]`,
      );
    }
  }
  const previous = { deadline, allowDiskUse };
  deadline = ms === 0 ? Infinity : Date.now() + ms;
  allowDiskUse = typeof cmd.allowDiskUse === 'boolean' ? cmd.allowDiskUse : undefined;
  try {
    return run();
  } finally {
    ({ deadline, allowDiskUse } = previous);
  }
}

/** Called between documents by scans and pipelines: past the deadline the command fails with 50. */
export function checkDeadline(): void {
  if (deadline !== Infinity && Date.now() > deadline) {
    throw new CommandError(ErrorCode.MaxTimeMSExpired, 'operation exceeded time limit');
  }
}

/** The documents of `source`, checking the deadline before each. */
export function* deadlineChecked<T>(source: Iterable<T>): Generator<T> {
  for (const item of source) {
    checkDeadline();
    yield item;
  }
}

// ---------------------------------------------------------------------------------------------
// Operators wrapped with their limits

type Fn = (...args: unknown[]) => unknown;

/** `$range` checked before it allocates (its arguments evaluated once, then passed as values). */
export function withExpressionLimits(ops: Record<string, unknown>): Record<string, unknown> {
  const range = ops.$range as Fn | undefined;
  if (!range) return ops;
  const $range: Fn = (obj: unknown, expr: unknown, options: unknown) => {
    const args = evalExpr(obj, expr, options as never);
    if (Array.isArray(args)) {
      const [start, end, step = 1] = args as unknown[];
      checkRange(Number(start), Number(end), Number(step));
    }
    return range(obj, args, options);
  };
  return { ...ops, $range };
}

/** `$push` and `$addToSet` results checked against mongod's per-group limit. */
export function withAccumulatorLimits(ops: Record<string, unknown>): Record<string, unknown> {
  const out = { ...ops };
  for (const name of ['$push', '$addToSet']) {
    const op = ops[name] as Fn | undefined;
    if (!op) continue;
    out[name] = (...args: unknown[]) => {
      const result = op(...args);
      checkAccumulated(name, result);
      return result;
    };
  }
  return out;
}

interface LazyLike {
  map(fn: (doc: unknown) => unknown): LazyLike;
}

/**
 * `$sort` metered on the documents it holds, `$group` on the groups it builds, and every stage
 * fed through the deadline check.
 */
export function withStageLimits(ops: Record<string, unknown>): Record<string, unknown> {
  const out = { ...ops };
  const sort = ops.$sort as Fn | undefined;
  const group = ops.$group as Fn | undefined;
  if (sort) {
    out.$sort = (coll: LazyLike, expr: unknown, options: unknown) => {
      const meter = blockingStageMeter('$sort');
      return sort(
        coll.map((doc) => (checkDeadline(), meter(doc), doc)),
        expr,
        options,
      );
    };
  }
  if (group) {
    out.$group = (coll: LazyLike, expr: unknown, options: unknown) => {
      const meter = blockingStageMeter('$group');
      const input = coll.map((doc) => (checkDeadline(), doc));
      return (group(input, expr, options) as LazyLike).map((doc) => (meter(doc), doc));
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions

function checkPattern(pattern: string): void {
  try {
    new RegExp(pattern);
  } catch {
    return; // not valid here: the query operator reports it
  }
  if (!safeRegex(pattern, { limit: Infinity })) {
    throw unsupported(
      `A regular expression with nested quantifiers (exponential backtracking), /${pattern}/,`,
    );
  }
}

/**
 * JavaScript's regex engine backtracks and cannot be interrupted: one `/(a+)+$/` over a
 * 30-character string blocks every client for seconds. Patterns with a quantifier inside a
 * quantified group (star height above one) are refused before the command runs. Inserted
 * documents are not inspected: storing a regex does not run it.
 */
export function refuseCatastrophicRegexes(cmd: Doc): void {
  const visit = (value: unknown, depth: number): void => {
    if (depth > 200) return;
    if (value instanceof RegExp) {
      checkPattern(value.source);
    } else if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
    } else if (isPlainObject(value)) {
      if (typeof value.$regex === 'string') checkPattern(value.$regex);
      if (typeof value.regex === 'string') checkPattern(value.regex);
      for (const v of Object.values(value)) visit(v, depth + 1);
    }
  };
  for (const [field, value] of Object.entries(cmd)) if (field !== 'documents') visit(value, 0);
}

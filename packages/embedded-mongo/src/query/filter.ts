import { Query } from 'mingo/query';
import { type AnyObject } from 'mingo/types';

import {
  defineField,
  type Doc,
  inDocumentOrder,
  isNumeric,
  isPlainObject,
  kindOf,
  toInt,
} from '../bson-values';
import { badValue, unsupported, wideNumberRefusal } from '../errors';
import { asSafeInteger, holdsWideNumber, unwrapDoubles } from '../numbers';
import { contextFor, mingoOptions } from './operators';

/**
 * Operators that MongoDB knows but this server cannot honour faithfully: server-side
 * JavaScript, text and geo search, schema validation. They are refused instead of being
 * mis-evaluated or reported as unknown.
 */
const refusedOperators = new Set([
  '$where',
  '$function',
  '$accumulator',
  '$text',
  '$near',
  '$nearSphere',
  '$geoWithin',
  '$geoIntersects',
  '$geoNear',
  '$within',
  '$jsonSchema',
  '$sampleRate',
  '$meta',
  '$search',
  '$searchMeta',
  '$vectorSearch',
]);

/** Throws CommandNotSupported for any refused operator anywhere inside `value`. */
export function refuseUnsupportedOperators(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) refuseUnsupportedOperators(v);
    return;
  }
  if (kindOf(value) !== 'object') return;
  for (const [k, v] of Object.entries(value as Doc)) {
    if (refusedOperators.has(k)) throw unsupported(`The ${k} operator`);
    refuseUnsupportedOperators(v);
  }
}

export interface CompiledFilter {
  readonly filter: Doc;
  readonly query: Query;
  readonly variables?: AnyObject;
  test(doc: Doc): boolean;
}

/** Plain `field: value` pairs cannot be invalid, so compiling them may wait until needed. */
function isPlainEquality(filter: Doc): boolean {
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$')) return false;
    if (kindOf(v) === 'object' && Object.keys(v as Doc).some((f) => f.startsWith('$')))
      return false;
  }
  return true;
}

/**
 * Compiles a query filter with the BSON-aware operator set. `$comment` is an annotation.
 * Plain equality filters are compiled lazily: an index lookup often answers them alone.
 */
export function compileFilter(
  raw: unknown,
  variables?: AnyObject,
  projection?: unknown,
): CompiledFilter {
  if (raw === undefined || raw === null) raw = {};
  if (kindOf(raw) !== 'object') throw badValue('query filter must be an object');
  let filter = raw as Doc;
  if ('$comment' in filter) {
    filter = { ...filter };
    delete filter.$comment;
  }
  refuseUnsupportedOperators(filter);
  const compile = () => new Query(filter, mingoOptions(contextFor(filter, projection), variables));
  let query = isPlainEquality(filter) ? undefined : compile();
  const empty = Object.keys(filter).length === 0;
  return {
    filter,
    variables,
    get query() {
      return (query ??= compile());
    },
    test: empty ? () => true : (doc: Doc) => (query ??= compile()).test(doc),
  };
}

/**
 * `$slice` counts given as Long or Decimal128 (mongod accepts them) become the JS numbers
 * mingo computes with; others that are not exact integers are refused.
 */
function normalizeSlices(spec: Doc): Doc {
  const out: Doc = {};
  for (const [key, value] of Object.entries(spec)) {
    if (!isPlainObject(value)) {
      out[key] = value;
    } else if ('$slice' in value) {
      const slice = value.$slice;
      const counts = Array.isArray(slice) ? slice.map(asSafeInteger) : asSafeInteger(slice);
      if (holdsWideNumber(counts)) throw wideNumberRefusal('The $slice projection');
      out[key] = { ...value, $slice: counts };
    } else {
      out[key] = normalizeSlices(value);
    }
  }
  return out;
}

const isSlice = (v: unknown) => isPlainObject(v) && Object.keys(v).length === 1 && '$slice' in v;
const isExclusion = (v: unknown) => v === 0 || v === false || (isNumeric(v) && toInt(v) === 0);

function sliceArray(array: unknown[], count: unknown): unknown[] {
  if (Array.isArray(count)) {
    const [skip, limit] = count as number[];
    if (limit <= 0) throw badValue(`$slice limit must be positive`);
    const start = skip < 0 ? Math.max(0, array.length + skip) : skip;
    return array.slice(start, start + limit);
  }
  const n = count as number;
  return n >= 0 ? array.slice(0, n) : array.slice(Math.max(0, array.length + n));
}

/** Slices the arrays a dotted path reaches, through arrays of documents as mongod does. */
function applySlice(value: unknown, parts: string[], count: unknown): unknown {
  if (Array.isArray(value)) {
    if (parts.length === 0) return sliceArray(value, count);
    return value.map((el) => (isPlainObject(el) ? applySlice(el, parts, count) : el));
  }
  if (parts.length === 0 || !isPlainObject(value)) return value;
  const [head, ...rest] = parts;
  if (!Object.prototype.hasOwnProperty.call(value, head)) return value;
  const out = { ...value };
  defineField(out, head, applySlice(value[head], rest, count));
  return out;
}

/**
 * `$slice` decides neither inclusion nor exclusion: with no included field, the projection
 * keeps every field but the excluded ones and slices the arrays (mingo would read
 * `{arr: {$slice: 2}}` as an inclusion of `arr` alone).
 */
function splitSlices(spec: Doc): { rest: Doc; slices: [string, unknown][] } | undefined {
  const entries = Object.entries(spec);
  if (!entries.some(([, v]) => isSlice(v))) return undefined;
  if (!entries.every(([, v]) => isSlice(v) || isExclusion(v))) return undefined;
  const rest: Doc = {};
  const slices: [string, unknown][] = [];
  for (const [key, value] of entries) {
    if (isSlice(value)) slices.push([key, (value as Doc).$slice]);
    else rest[key] = value;
  }
  return { rest, slices };
}

/** Applies a find-style projection (inclusion, exclusion, `$slice`, `$elemMatch`, `a.$`). */
export function projectDocuments(
  docs: Doc[],
  compiled: CompiledFilter,
  projection: unknown,
): Doc[] {
  if (projection === undefined || projection === null) return docs;
  if (kindOf(projection) !== 'object') throw badValue('projection must be an object');
  if (Object.keys(projection as Doc).length === 0 || docs.length === 0) return docs;
  refuseUnsupportedOperators(projection);
  // A projection's numbers are flags and counts, whatever their BSON type.
  const spec = normalizeSlices(unwrapDoubles(projection as Doc));
  const sliced = splitSlices(spec);
  if (sliced) {
    const kept = projectDocuments(docs, compiled, sliced.rest);
    return kept.map((doc) =>
      sliced.slices.reduce<Doc>(
        (out, [path, count]) => applySlice(out, path.split('.'), count) as Doc,
        doc,
      ),
    );
  }
  // Only the positional `a.$` form needs the filter; otherwise no document may be dropped.
  const positional = Object.keys(spec).some((k) => k.endsWith('.$'));
  const query = positional
    ? compiled.query
    : new Query({}, mingoOptions(contextFor({}, spec), compiled.variables));
  const projected = query.find<Doc>(docs, spec as AnyObject).all();
  if (projected.length !== docs.length) {
    throw badValue('The positional operator did not find the match needed from the query.');
  }
  return projected.map((doc, i) => inDocumentOrder(doc, docs[i]));
}

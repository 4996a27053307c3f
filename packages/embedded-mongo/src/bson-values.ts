import { type Binary, type Decimal128, Long, type ObjectId, type Timestamp } from 'bson';

import { approximate, compareNumeric, integerOf, numberKind, numericKey } from './numbers';

/** A stored or wire document as deserialized by `bson` (int64 kept as `Long`). */
export type Doc = Record<string, unknown>;

/**
 * BSON value kinds as MongoDB distinguishes them. `number` covers JS numbers (int32 and double
 * arrive promoted), `long` and `decimal` the wrapper classes the server keeps intact.
 */
export type BsonKind =
  | 'missing'
  | 'null'
  | 'number'
  | 'long'
  | 'decimal'
  | 'string'
  | 'symbol'
  | 'object'
  | 'array'
  | 'binData'
  | 'objectId'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'regex'
  | 'javascript'
  | 'dbref'
  | 'minKey'
  | 'maxKey';

const objectTag = Object.prototype.toString;

export function kindOf(v: unknown): BsonKind {
  switch (typeof v) {
    case 'undefined':
      return 'missing';
    case 'number':
      return 'number';
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'missing';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype !== undefined) {
    switch (bsontype) {
      case 'ObjectId':
        return 'objectId';
      case 'Long':
        return 'long';
      case 'Decimal128':
        return 'decimal';
      case 'Binary':
        return 'binData';
      case 'Timestamp':
        return 'timestamp';
      case 'MinKey':
        return 'minKey';
      case 'MaxKey':
        return 'maxKey';
      case 'Code':
        return 'javascript';
      case 'BSONSymbol':
        return 'symbol';
      case 'BSONRegExp':
        return 'regex';
      case 'DBRef':
        return 'dbref';
      case 'Int32':
      case 'Double':
        return 'number';
      default:
        return 'object';
    }
  }
  // Tag checks rather than instanceof: values may come from another realm (Jest's sandbox).
  const tag = objectTag.call(v);
  if (tag === '[object Date]') return 'date';
  if (tag === '[object RegExp]') return 'regex';
  if (ArrayBuffer.isView(v)) return 'binData';
  return 'object';
}

/** MongoDB's cross-type sort order (numbers share one bracket, as do strings and symbols). */
const typeRank: Record<BsonKind, number> = {
  minKey: 0,
  missing: 1,
  null: 1,
  number: 2,
  long: 2,
  decimal: 2,
  string: 3,
  symbol: 3,
  object: 4,
  dbref: 4,
  array: 5,
  binData: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  timestamp: 10,
  regex: 11,
  javascript: 12,
  maxKey: 13,
};

export function typeRankOf(v: unknown): number {
  return typeRank[kindOf(v)];
}

export function isPlainObject(v: unknown): v is Doc {
  return kindOf(v) === 'object';
}

export function isNumeric(v: unknown): boolean {
  const k = kindOf(v);
  return k === 'number' || k === 'long' || k === 'decimal';
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/**
 * Code point order, which is the UTF-8 byte order mongod compares by. JS compares UTF-16 code
 * units, which puts astral characters (surrogate pairs) below U+E000..U+FFFF; only the first
 * differing unit needs fixing up.
 */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return codePointRank(x) < codePointRank(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

/** Moves surrogates above the rest of the upper BMP, where the code points they encode belong. */
function codePointRank(unit: number): number {
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

/** The bytes of a BinData value (a `Binary` or a typed array). */
export function bytesOf(v: unknown): Uint8Array {
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const bin = v as Binary;
  return bin.buffer.subarray(0, bin.position);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return sign(a.length - b.length);
}

function subtypeOf(v: unknown): number {
  return ArrayBuffer.isView(v) ? 0 : (v as Binary).sub_type;
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const byType = typeRankOf(va) - typeRankOf(vb);
    if (byType !== 0) return sign(byType);
    const byName = compareStrings(ka[i], kb[i]);
    if (byName !== 0) return byName;
    const byValue = compareValues(va, vb);
    if (byValue !== 0) return byValue;
  }
  return sign(ka.length - kb.length);
}

/** A DBRef as the document it is in BSON (`$ref`, `$id`, `$db`, then any other fields). */
export function dbrefAsObject(v: unknown): Doc {
  const ref = v as { collection: string; oid: unknown; db?: string; fields?: Doc };
  const out: Doc = { $ref: ref.collection, $id: ref.oid };
  if (ref.db) out.$db = ref.db;
  return ref.fields ? { ...out, ...ref.fields } : out;
}

/** Total order over BSON values following MongoDB's comparison/sort rules (no collation). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  // Fast paths for the common sort keys; the general case below handles every pairing.
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'number' && typeof b === 'number') return compareNumeric(a, b);
  if (a instanceof Date && b instanceof Date) return sign(a.getTime() - b.getTime());
  const ka = kindOf(a);
  const kb = kindOf(b);
  const byType = typeRank[ka] - typeRank[kb];
  if (byType !== 0) return sign(byType);
  switch (ka) {
    case 'missing':
    case 'null':
    case 'minKey':
    case 'maxKey':
      return 0;
    case 'number':
    case 'long':
    case 'decimal':
      return compareNumeric(a, b);
    case 'string':
    case 'symbol':
      return compareStrings(String(a), String(b));
    case 'object':
    case 'dbref':
      return compareObjects(
        ka === 'dbref' ? dbrefAsObject(a) : (a as Doc),
        kb === 'dbref' ? dbrefAsObject(b) : (b as Doc),
      );
    case 'array': {
      const xs = a as unknown[];
      const ys = b as unknown[];
      const n = Math.min(xs.length, ys.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(xs[i], ys[i]);
        if (c !== 0) return c;
      }
      return sign(xs.length - ys.length);
    }
    case 'binData': {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return sign(x.length - y.length);
      const bySubtype = subtypeOf(a) - subtypeOf(b);
      if (bySubtype !== 0) return sign(bySubtype);
      return compareBytes(x, y);
    }
    case 'objectId':
      return compareStrings((a as ObjectId).toHexString(), (b as ObjectId).toHexString());
    case 'bool':
      return sign(Number(a) - Number(b));
    case 'date':
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 'timestamp': {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return sign(x.t - y.t) || sign(x.i - y.i);
    }
    case 'regex': {
      const x = a as RegExp;
      const y = b as RegExp;
      return compareStrings(x.source, y.source) || compareStrings(x.flags, y.flags);
    }
    case 'javascript':
      return compareStrings(
        String((a as { code: unknown }).code),
        String((b as { code: unknown }).code),
      );
  }
}

/**
 * Comparison inside aggregation expressions (`$eq`, `$gt`, `$max`, ...): the sort order above,
 * except that a missing value is its own type, below null and above MinKey.
 */
export function compareExpressionValues(a: unknown, b: unknown): number {
  const aMissing = a === undefined;
  const bMissing = b === undefined;
  if (!aMissing && !bMissing) return compareValues(a, b);
  if (aMissing && bMissing) return 0;
  const other = aMissing ? b : a;
  const missingFirst = kindOf(other) === 'minKey' ? 1 : -1;
  return aMissing ? missingFirst : -missingFirst;
}

/** MongoDB equality: numeric types compare by value, documents by field order and value. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  return compareValues(a, b) === 0;
}

/**
 * Binary equality, as mongod decides whether an update changed a document: like valuesEqual,
 * but `5`, `Long(5)` and `Decimal128('5.0')` differ, so that a type change is written.
 */
export function identicalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ka = kindOf(a);
  if (ka !== kindOf(b)) return false;
  switch (ka) {
    case 'number':
      return numberKind(a) === numberKind(b) && Object.is(approximate(a), approximate(b));
    case 'long':
      return integerOf(a) === integerOf(b);
    case 'decimal':
      return (a as Decimal128).toString() === (b as Decimal128).toString();
    case 'array': {
      const xs = a as unknown[];
      const ys = b as unknown[];
      return xs.length === ys.length && xs.every((x, i) => identicalValues(x, ys[i]));
    }
    case 'object':
    case 'dbref': {
      const x = ka === 'dbref' ? dbrefAsObject(a) : (a as Doc);
      const y = ka === 'dbref' ? dbrefAsObject(b) : (b as Doc);
      const kx = Object.keys(x);
      const ky = Object.keys(y);
      return (
        kx.length === ky.length && kx.every((k, i) => k === ky[i] && identicalValues(x[k], y[k]))
      );
    }
    default:
      return compareValues(a, b) === 0;
  }
}

function lengthPrefixed(s: string): string {
  return `${s.length}:${s}`;
}

/**
 * A string that is equal for exactly the values MongoDB considers equal (null and missing
 * share one key, as they do in an index). Used to hash `_id`s, index keys and `$in` sets.
 */
export function keyOf(v: unknown): string {
  if (typeof v === 'string') return `s${lengthPrefixed(v)}`;
  if (typeof v === 'number') return numericKey(v);
  const kind = kindOf(v);
  switch (kind) {
    case 'missing':
    case 'null':
      return 'N';
    case 'long':
    case 'decimal':
    case 'number':
      return numericKey(v);
    case 'symbol':
      return `s${lengthPrefixed(String(v))}`;
    case 'bool':
      return v ? 'b1' : 'b0';
    case 'date':
      return `d${(v as Date).getTime()}`;
    case 'objectId':
      return `o${(v as ObjectId).toHexString()}`;
    case 'binData':
      return `x${subtypeOf(v)}:${Buffer.from(bytesOf(v)).toString('base64')}`;
    case 'regex': {
      const re = v as RegExp;
      return `r${lengthPrefixed(re.source)}/${re.flags}`;
    }
    case 'array':
      return `a[${(v as unknown[]).map(keyOf).join(',')}]`;
    case 'object':
      return objectKey(v as Doc);
    case 'dbref':
      return objectKey(dbrefAsObject(v));
    case 'timestamp':
      return `t${(v as Timestamp).toString()}`;
    case 'javascript':
      return `c${lengthPrefixed(String((v as { code: unknown }).code))}`;
    case 'minKey':
      return 'min';
    case 'maxKey':
      return 'max';
    default:
      return `?${String(v)}`;
  }
}

function objectKey(doc: Doc): string {
  const parts: string[] = [];
  for (const k of Object.keys(doc)) parts.push(`${lengthPrefixed(k)}=${keyOf(doc[k])}`);
  return `O{${parts.join(',')}}`;
}

/** Marks an empty array reached at the end of a path: it is neither null nor missing. */
export const EMPTY_ARRAY = Symbol('empty array');

const digits = /^\d+$/;

/**
 * Values reached by a dotted path with MongoDB's implicit array traversal: arrays met along
 * the way are descended element by element, an array at the end contributes its elements
 * (or EMPTY_ARRAY). A path that leads nowhere contributes `undefined`.
 */
export function pathValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  collectPath(doc, path.split('.'), 0, out, false);
  return out;
}

function collectPath(
  value: unknown,
  parts: string[],
  i: number,
  out: unknown[],
  insideArray: boolean,
): void {
  if (i === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(EMPTY_ARRAY);
      else for (const el of value) out.push(el);
    } else {
      out.push(value);
    }
    return;
  }
  const part = parts[i];
  if (Array.isArray(value)) {
    if (digits.test(part)) {
      collectPath(value[Number(part)], parts, i + 1, out, false);
      return;
    }
    // Arrays directly inside arrays are not traversed, as in MongoDB.
    if (insideArray) {
      out.push(undefined);
      return;
    }
    if (value.length === 0) out.push(undefined);
    for (const el of value) collectPath(el, parts, i, out, true);
    return;
  }
  const kind = kindOf(value);
  if (kind === 'object' || kind === 'dbref') {
    const fields = kind === 'dbref' ? dbrefAsObject(value) : (value as Doc);
    collectPath(ownField(fields, part), parts, i + 1, out, false);
    return;
  }
  out.push(undefined);
}

/** Reads a dotted path through plain objects only (no array traversal). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && digits.test(part)) cur = cur[Number(part)];
    else if (isPlainObject(cur)) cur = cur[part];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** The same document with `_id` as its first field, as mongod stores and projects it. */
export function idFirst(doc: Doc): Doc {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/**
 * mongod lists included fields in the order of the document (with `_id` first); mingo lists
 * them in its own order. Fields the projection computed come after the document's.
 */
export function inDocumentOrder(projected: Doc, source: Doc): Doc {
  const out: Doc = {};
  if ('_id' in projected) out._id = projected._id;
  for (const key of Object.keys(source)) {
    if (key === '_id' || !Object.prototype.hasOwnProperty.call(projected, key)) continue;
    const value = projected[key];
    const original = source[key];
    defineField(
      out,
      key,
      isPlainObject(value) && isPlainObject(original) ? inDocumentOrder(value, original) : value,
    );
  }
  for (const key of Object.keys(projected)) {
    if (!Object.prototype.hasOwnProperty.call(out, key)) defineField(out, key, projected[key]);
  }
  return out;
}

/**
 * Sets a field as an own property: `__proto__` is a field name like any other in BSON, while
 * assigning it would replace the object's prototype instead.
 */
export function defineField(target: Doc, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** An own field's value (never one inherited from the prototype, such as `__proto__`). */
export function ownField(source: Doc, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
}

/** mongod pads an array with nulls up to an index written past its end. */
function padArray(target: unknown, key: string): void {
  if (!Array.isArray(target) || !digits.test(key)) return;
  for (let i = target.length; i < Number(key); i++) target.push(null);
}

/** Writes a dotted path, creating intermediate documents. */
export function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Doc = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = ownField(cur, parts[i]);
    if (isPlainObject(next) || Array.isArray(next)) {
      cur = next as Doc;
    } else {
      const created: Doc = {};
      padArray(cur, parts[i]);
      defineField(cur, parts[i], created);
      cur = created;
    }
  }
  padArray(cur, parts[parts.length - 1]);
  defineField(cur, parts[parts.length - 1], value);
}

/**
 * Deep copy of the mutable parts of a document. BSON class instances (ObjectId, Long, ...)
 * are never mutated in place, so they are shared.
 */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v === null || typeof v !== 'object') return v;
  const kind = kindOf(v);
  if (kind === 'object') {
    const out: Doc = {};
    for (const k of Object.keys(v)) defineField(out, k, cloneValue((v as Doc)[k]));
    return out as T;
  }
  if (kind === 'date') return new Date((v as unknown as Date).getTime()) as T;
  return v;
}

/** Renders a value the way mongod prints BSON in messages (`{ email: "a@b.c" }`). */
export function formatValue(v: unknown): string {
  switch (kindOf(v)) {
    case 'missing':
    case 'null':
      return 'null';
    case 'string':
    case 'symbol':
      return JSON.stringify(String(v));
    case 'number':
      return String(Number(v));
    case 'long':
      return typeof v === 'bigint' ? v.toString() : (v as Long).toString();
    case 'decimal':
      return `NumberDecimal("${(v as Decimal128).toString()}")`;
    case 'bool':
      return String(v);
    case 'date':
      return `new Date(${(v as Date).getTime()})`;
    case 'objectId':
      return `ObjectId('${(v as ObjectId).toHexString()}')`;
    case 'binData':
      return `BinData(${subtypeOf(v)}, ${Buffer.from(bytesOf(v)).toString('hex').toUpperCase()})`;
    case 'regex': {
      const re = v as RegExp;
      return `/${re.source}/${re.flags}`;
    }
    case 'timestamp': {
      const ts = v as Timestamp;
      return `Timestamp(${ts.t}, ${ts.i})`;
    }
    case 'minKey':
      return 'MinKey';
    case 'maxKey':
      return 'MaxKey';
    case 'javascript':
      return String((v as { code: unknown }).code);
    case 'array': {
      const xs = v as unknown[];
      return xs.length === 0 ? '[]' : `[ ${xs.map(formatValue).join(', ')} ]`;
    }
    case 'dbref':
      return formatValue(dbrefAsObject(v));
    case 'object': {
      const doc = v as Doc;
      const keys = Object.keys(doc);
      if (keys.length === 0) return '{}';
      return `{ ${keys.map((k) => `${k}: ${formatValue(doc[k])}`).join(', ')} }`;
    }
  }
}

/** MongoDB's `$type` alias for a value. JS numbers report `int` when integral in int32 range. */
export function bsonTypeAlias(v: unknown): string {
  const kind = kindOf(v);
  switch (kind) {
    case 'number':
      return numberKind(v) === 'int' ? 'int' : 'double';
    case 'missing':
      return 'missing';
    case 'dbref':
      return 'object';
    default:
      return kind;
  }
}

export function toLong(v: unknown): Long {
  const kind = kindOf(v);
  if (kind === 'long') return typeof v === 'bigint' ? Long.fromBigInt(v) : (v as Long);
  return Long.fromNumber(Number(v));
}

/** Reads a command's integer argument whether it arrived as int32, double or int64. */
export function toInt(v: unknown): number {
  const kind = kindOf(v);
  if (kind === 'long') return typeof v === 'bigint' ? Number(v) : (v as Long).toNumber();
  if (kind === 'decimal') return Number((v as Decimal128).toString());
  return Number(v);
}

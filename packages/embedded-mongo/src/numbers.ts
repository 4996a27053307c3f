import { type Decimal128, Double, Long } from 'bson';

/**
 * BSON's four numeric types. A JS number is an int32 when integral and in int32 range (that is
 * how `bson` serializes it), a double otherwise; a double holding such a value is kept as a
 * `Double` so that it stays a double (see `asDouble`).
 */
export type NumberKind = 'int' | 'long' | 'double' | 'decimal';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export function numberKind(v: unknown): NumberKind | undefined {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0)
      ? 'int'
      : 'double';
  }
  if (typeof v === 'bigint') return 'long';
  if (v === null || typeof v !== 'object') return undefined;
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    default:
      return undefined;
  }
}

/**
 * A double result or value as it must be held so that it is serialized as a double: integral
 * values in int32 range become `Double` (a plain JS number would go out as int32).
 */
export function asDouble(x: number): number | Double {
  return numberKind(x) === 'int' ? new Double(x) : x;
}

function isDoubleObject(v: unknown): boolean {
  return (
    v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'Double'
  );
}

/** True when `v` is, or holds in arrays and embedded documents, a `Double`. */
export function holdsDouble(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(holdsDouble);
  if (isDoubleObject(v)) return true;
  if (Object.prototype.toString.call(v) !== '[object Object]' || '_bsontype' in v) return false;
  const record = v as Record<string, unknown>;
  for (const key of Object.keys(record)) if (holdsDouble(record[key])) return true;
  return false;
}

/**
 * The same value with every `Double` as a JS number, for mingo's operators, which compute with
 * JS numbers only (they lose the double tag of an integral result, see the README).
 */
export function unwrapDoubles<T>(v: T): T {
  if (!holdsDouble(v)) return v;
  if (isDoubleObject(v)) return (v as unknown as Double).value as T;
  if (Array.isArray(v)) return v.map(unwrapDoubles) as T;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    Object.defineProperty(out, key, {
      value: unwrapDoubles(value),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out as T;
}

/**
 * Values as decoded with `promoteValues: false`, back to what the server computes with: int32
 * as JS numbers, doubles as JS numbers unless that would make them int32 (then `Double`),
 * symbols as strings. Documents are changed in place.
 */
export function normalizeDecoded(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype === 'Int32') return (v as { value: number }).value;
  if (bsontype === 'Double') return asDouble((v as Double).value);
  if (bsontype === 'BSONSymbol') return (v as { value: string }).value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalizeDecoded(v[i]);
    return v;
  }
  if (bsontype === 'DBRef') {
    const ref = v as { oid: unknown; fields: Record<string, unknown> };
    ref.oid = normalizeDecoded(ref.oid);
    normalizeDecoded(ref.fields);
    return v;
  }
  if (bsontype !== undefined || Object.prototype.toString.call(v) !== '[object Object]') return v;
  const record = v as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value !== null && typeof value === 'object') {
      const next = normalizeDecoded(value);
      // defineProperty: `__proto__` may be a field name here.
      if (next !== value)
        Object.defineProperty(record, key, {
          value: next,
          writable: true,
          enumerable: true,
          configurable: true,
        });
    }
  }
  return v;
}

export function fitsInt64(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}

export function fitsInt32(n: bigint): boolean {
  return n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX);
}

/** The exact value of an int or long. */
export function integerOf(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype === 'Long') return (v as Long).toBigInt();
  return BigInt(Number((v as { valueOf(): unknown }).valueOf()));
}

/** An int64 result: BSON's Long, so that the reply keeps the type. */
export function longOf(n: bigint): Long {
  return Long.fromBigInt(n);
}

/** An int32 when it fits, otherwise an int64, as mongod's `createIntOrLong`. */
export function intOrLong(n: bigint): number | Long {
  return fitsInt32(n) ? Number(n) : longOf(n);
}

/**
 * The nearest double. For Long this is the correctly rounded value (what mongod's cast gives),
 * and for Decimal128 the correctly rounded parse of its exact decimal string.
 */
export function approximate(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype === 'Long') return (v as Long).toNumber();
  if (bsontype === 'Decimal128') return Number((v as Decimal128).toString());
  return Number((v as { valueOf(): unknown }).valueOf());
}

/** A number as an exact fraction `n / d` (d > 0), or one of the values fractions cannot hold. */
export type Exact = { n: bigint; d: bigint } | 'nan' | 'inf' | '-inf';

const decimalCache = new WeakMap<object, Exact>();

const decimalSyntax = /^(-?)(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i;

function exactOfDecimal(d: Decimal128): Exact {
  const cached = decimalCache.get(d);
  if (cached !== undefined) return cached;
  const text = d.toString();
  let out: Exact;
  if (text === 'NaN' || text === '-NaN') out = 'nan';
  else if (text === 'Infinity') out = 'inf';
  else if (text === '-Infinity') out = '-inf';
  else {
    const m = decimalSyntax.exec(text);
    if (!m) throw new Error(`unexpected Decimal128 text ${text}`);
    const fraction = m[3] ?? '';
    let coefficient = BigInt(m[2] + fraction);
    let exponent = Number(m[4] ?? 0) - fraction.length;
    // Trailing zeros only change the quantum, not the value: strip them so that equal values
    // get one representation.
    while (coefficient !== 0n && coefficient % 10n === 0n) {
      coefficient /= 10n;
      exponent++;
    }
    if (coefficient === 0n) exponent = 0;
    const signed = m[1] === '-' ? -coefficient : coefficient;
    out =
      exponent >= 0
        ? { n: signed * 10n ** BigInt(exponent), d: 1n }
        : { n: signed, d: 10n ** BigInt(-exponent) };
  }
  decimalCache.set(d, out);
  return out;
}

const doubleView = new DataView(new ArrayBuffer(8));

function exactOfDouble(x: number): Exact {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isInteger(x)) return { n: BigInt(x), d: 1n };
  doubleView.setFloat64(0, x);
  const hi = doubleView.getUint32(0);
  const lo = doubleView.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  // A non-integral double has a negative binary exponent.
  const n = hi >>> 31 ? -mantissa : mantissa;
  return { n, d: 1n << BigInt(-exponent) };
}

export function exactOf(v: unknown): Exact {
  if (typeof v === 'number') return exactOfDouble(v);
  const kind = numberKind(v);
  if (kind === 'long') return { n: integerOf(v), d: 1n };
  if (kind === 'decimal') return exactOfDecimal(v as Decimal128);
  return exactOfDouble(approximate(v));
}

function compareExact(a: Exact, b: Exact): number {
  const rank = (e: Exact) => (e === 'nan' ? 0 : e === '-inf' ? 1 : e === 'inf' ? 3 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb || ra !== 2) return Math.sign(ra - rb);
  const x = a as { n: bigint; d: bigint };
  const y = b as { n: bigint; d: bigint };
  const diff = x.n * y.d - y.n * x.d;
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/**
 * Numeric order across int, long, double and Decimal128, exact as mongod's (which compares a
 * decimal to a double without rounding either); NaN is below every number and equal to NaN.
 */
export function compareNumeric(a: unknown, b: unknown): number {
  const x = approximate(a);
  const y = approximate(b);
  const xNaN = Number.isNaN(x);
  const yNaN = Number.isNaN(y);
  if (xNaN || yNaN) return xNaN ? (yNaN ? 0 : -1) : 1;
  // Rounding to the nearest double keeps order, so different approximations decide; equal
  // ones may still hide a difference in digits a double cannot hold.
  if (x < y) return -1;
  if (x > y) return 1;
  if (typeof a === 'number' && typeof b === 'number') return 0;
  return compareExact(exactOf(a), exactOf(b));
}

function doubleKey(x: number): string {
  if (Number.isNaN(x)) return 'nNaN';
  if (Number.isSafeInteger(x)) return `n${Object.is(x, -0) ? 0 : x}`;
  // Beyond 2^53 JS prints the shortest round-trip digits (2^60 as 1152921504606847000); an
  // int64 or a decimal of the same value is keyed by its exact digits.
  return Number.isFinite(x) && Number.isInteger(x) ? `n${BigInt(x).toString()}` : `n${x}`;
}

/**
 * A string equal for exactly the numbers that compare equal: a value a double can hold is keyed
 * as that double, an integer beyond doubles by its digits, any other decimal by its fraction.
 */
export function numericKey(v: unknown): string {
  if (typeof v === 'number') return doubleKey(v);
  const kind = numberKind(v);
  if (kind === 'long') {
    const x = approximate(v);
    return Number.isSafeInteger(x) ? doubleKey(x) : `n${integerOf(v).toString()}`;
  }
  if (kind !== 'decimal') return doubleKey(approximate(v));
  const exact = exactOf(v);
  if (exact === 'nan') return 'nNaN';
  if (exact === 'inf') return doubleKey(Infinity);
  if (exact === '-inf') return doubleKey(-Infinity);
  const x = approximate(v);
  if (Number.isFinite(x) && compareExact(exactOfDouble(x), exact) === 0) return doubleKey(x);
  if (exact.d === 1n) return `n${exact.n.toString()}`;
  return `n${exact.n.toString()}/${exact.d.toString()}`;
}

/**
 * An integral Long or Decimal128 as a JS number when that is exact, for the places that take a
 * count or position (`$limit`, `$size`, ...) from mingo, which expects JS numbers there.
 */
export function asSafeInteger(v: unknown): unknown {
  const kind = numberKind(v);
  if (kind !== 'long' && kind !== 'decimal') return v;
  const x = approximate(v);
  const exact = exactOf(v);
  return Number.isSafeInteger(x) && typeof exact === 'object' && exact.n === BigInt(x) * exact.d
    ? x
    : v;
}

/** True for a Decimal128 zero of any sign or exponent. */
function isDecimalZero(v: Decimal128): boolean {
  const e = exactOfDecimal(v);
  return typeof e === 'object' && e.n === 0n;
}

/**
 * mongod's truthiness of a value in aggregation: null, missing, false and zero of any numeric
 * type are false; everything else (NaN, empty strings and arrays included) is true.
 */
export function coerceToBool(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  switch (numberKind(v)) {
    case 'long':
      return integerOf(v) !== 0n;
    case 'decimal':
      return !isDecimalZero(v as Decimal128);
    case 'int':
    case 'double':
      return approximate(v) !== 0;
    default:
      return true;
  }
}

/** True when `v` is a Long or a Decimal128, or holds one in an array or embedded document. */
export function holdsWideNumber(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint';
  if (Array.isArray(v)) return v.some(holdsWideNumber);
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype === 'Long' || bsontype === 'Decimal128') return true;
  // Tag check rather than prototype identity: documents may come from another realm.
  if (bsontype !== undefined || Object.prototype.toString.call(v) !== '[object Object]') {
    return false;
  }
  const record = v as Record<string, unknown>;
  for (const key of Object.keys(record)) if (holdsWideNumber(record[key])) return true;
  return false;
}

/**
 * Sums the way mongod's $sum and $avg do: a double-double (2Sum/Fast2Sum) accumulator for
 * int, long and double inputs, so that results round exactly as mongod's, plus an exact integer
 * total while every input is an int or a long.
 */
export class CompensatedSum {
  private sum = 0;
  private addend = 0;
  // Plain sum returned when the compensated one turns into NaN through infinities.
  private special = 0;
  private integral: bigint | undefined = 0n;
  widest: 'int' | 'long' | 'double' = 'int';
  count = 0;

  private addDouble(x: number): void {
    this.special += x;
    // Fast2Sum(x, addend): the addend is the smaller of the two.
    const s0 = x + this.addend;
    const low = this.addend - (s0 - x);
    x = s0;
    this.addend = low;
    // 2Sum(sum, x): no assumption on which is larger.
    const s = this.sum + x;
    const sumPrime = s - x;
    const xPrime = s - sumPrime;
    const error = this.sum - sumPrime + (x - xPrime);
    this.sum = s;
    this.addend += error;
  }

  /** Adds an int, long or double; the caller refuses Decimal128 first. */
  add(v: unknown): void {
    const kind = numberKind(v);
    this.count++;
    if (kind === 'long') {
      const n = integerOf(v);
      if (this.widest === 'int') this.widest = 'long';
      if (this.integral !== undefined) this.integral += n;
      // Split into halves that doubles hold exactly, as mongod does, so the sum stays exact.
      const high = (n / (1n << 32n)) * (1n << 32n);
      this.addDouble(Number(n - high));
      this.addDouble(Number(high));
      return;
    }
    const x = approximate(v);
    if (kind === 'int') {
      if (this.integral !== undefined) this.integral += BigInt(x);
    } else {
      this.widest = 'double';
      this.integral = undefined;
    }
    this.addDouble(x);
  }

  /** The nearest double to the sum, as mongod's `getDouble`. */
  toDouble(): number {
    return Number.isNaN(this.sum) ? this.special : this.sum;
  }

  /** mongod's $sum result type: int or long while they hold the total, double otherwise. */
  result(): number | Long | Double {
    if (this.widest !== 'double' && this.integral !== undefined && fitsInt64(this.integral)) {
      return this.widest === 'int' ? intOrLong(this.integral) : longOf(this.integral);
    }
    return asDouble(this.toDouble());
  }
}

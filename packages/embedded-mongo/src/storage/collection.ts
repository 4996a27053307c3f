import { ObjectId, UUID } from 'bson';

import {
  type Doc,
  formatValue,
  idFirst,
  isPlainObject,
  keyOf,
  kindOf,
  toInt,
  valuesEqual,
} from '../bson-values';
import { badValue, CommandError, ErrorCode, unsupported } from '../errors';
import { deadlineChecked } from '../limits';
import { type CompiledFilter } from '../query/filter';
import { parseSort, type SortField, sortDocuments } from '../query/sort';
import { type IndexEntry, type SecondaryIndex } from './index-store';

export const ID_INDEX_SPEC: Doc = { v: 2, key: { _id: 1 }, name: '_id_' };

export interface FindOptions {
  sort?: unknown;
  skip?: number;
  limit?: number;
  /** Restricts the answer to the documents a hinted sparse or partial index holds. */
  within?: (doc: Doc) => boolean;
}

/** What a `hint` changes about a query's answer. */
export interface HintScope {
  within?: (doc: Doc) => boolean;
  /** `{ $natural: -1 }`: a collection scan in reverse insertion order. */
  reverse?: boolean;
}

/** At most this many key combinations are looked up for `$in` lists on compound indexes. */
const MAX_LOOKUP_COMBINATIONS = 10_000;

function duplicateKey(
  ns: string,
  indexName: string,
  keyPattern: Doc,
  fields: string[],
  values: unknown[],
): CommandError {
  const keyValue: Doc = {};
  fields.forEach((f, i) => (keyValue[f] = values[i] ?? null));
  const shown = fields.map((f, i) => `${f}: ${formatValue(values[i])}`).join(', ');
  return new CommandError(
    ErrorCode.DuplicateKey,
    `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: { ${shown} }`,
    { keyPattern, keyValue },
  );
}

interface Equality {
  values: unknown[];
  /** The values alone decide the match: scalars whose index key is exact, no other operator. */
  exact: boolean;
}

const exactKinds = new Set(['string', 'number', 'bool', 'objectId', 'date', 'long']);

function isExactScalar(v: unknown): boolean {
  return exactKinds.has(kindOf(v)) && !(typeof v === 'number' && Number.isNaN(v));
}

/**
 * Acceptable values per field, taken from equality-like conditions (`v`, `{ $eq: v }`,
 * `{ $in: [...] }`) at the top level and inside `$and`. Every match of the filter satisfies
 * them, so they may narrow the candidates before the full filter runs.
 */
function equalityConditions(filter: Doc): Map<string, Equality> {
  const out = new Map<string, Equality>();
  const usable = (v: unknown) => {
    const kind = kindOf(v);
    if (kind === 'array' || kind === 'regex') return false;
    return !(kind === 'object' && Object.keys(v as Doc).some((k) => k.startsWith('$')));
  };
  const visit = (f: Doc, topLevel: boolean) => {
    for (const [path, cond] of Object.entries(f)) {
      if (path === '$and' && Array.isArray(cond)) {
        for (const sub of cond) if (isPlainObject(sub)) visit(sub, false);
        continue;
      }
      if (path.startsWith('$') || path.split('.').some((p) => /^\d+$/.test(p))) continue;
      let values: unknown[] | undefined;
      let single = topLevel;
      if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
        single &&= Object.keys(cond).length === 1;
        if ('$eq' in cond && usable(cond.$eq)) values = [cond.$eq];
        else if (Array.isArray(cond.$in) && cond.$in.every(usable)) values = cond.$in;
      } else if (usable(cond)) {
        values = [cond];
      }
      if (values !== undefined && !out.has(path)) {
        const exact = single && !path.includes('.') && values.every(isExactScalar);
        out.set(path, { values, exact });
      }
    }
  };
  visit(filter, true);
  return out;
}

interface Plan {
  docs: Iterable<Doc>;
  /** True when the lookup alone decides the match, so the filter need not run again. */
  exact: boolean;
  /** True when `docs` already come in the requested sort order. */
  ordered: boolean;
}

/**
 * Whether walking `index` below its first `prefix` fields yields the requested order: the sort
 * fields must be the next key fields, all in the index's direction or all reversed.
 */
function walkDirection(
  index: SecondaryIndex,
  prefix: number,
  sort: SortField[],
): 'forward' | 'reverse' | undefined {
  if (sort.length === 0 || index.multikey || prefix + sort.length > index.fields.length) {
    return undefined;
  }
  let relation = 0;
  for (let i = 0; i < sort.length; i++) {
    if (index.fields[prefix + i] !== sort[i].path) return undefined;
    const r = sort[i].dir * index.directions[prefix + i];
    if (relation !== 0 && r !== relation) return undefined;
    relation = r;
  }
  return relation === 1 ? 'forward' : 'reverse';
}

/**
 * Receives every change to the catalog's contents, in the order they are made in memory (the
 * journal writes them down). Documents are passed as stored; a receiver must not modify them.
 */
export interface ChangeSink {
  createCollection(collection: Collection): void;
  dropCollection(dbName: string, name: string): void;
  dropDatabase(dbName: string): void;
  createIndex(collection: Collection, spec: Doc): void;
  dropIndex(collection: Collection, name: string): void;
  /** An insert or the new version of an updated document. */
  put(collection: Collection, doc: Doc): void;
  remove(collection: Collection, id: unknown): void;
}

const ignore = () => undefined;

export const NO_CHANGES: ChangeSink = {
  createCollection: ignore,
  dropCollection: ignore,
  dropDatabase: ignore,
  createIndex: ignore,
  dropIndex: ignore,
  put: ignore,
  remove: ignore,
};

export class Collection {
  readonly uuid: UUID;
  readonly options: Doc;
  changes: ChangeSink = NO_CHANGES;
  /** Documents by `_id` key; this map is the `_id_` index. Insertion order is natural order. */
  readonly docs = new Map<string, Doc>();
  readonly indexes = new Map<string, SecondaryIndex>();

  constructor(
    readonly dbName: string,
    readonly name: string,
    options: Doc = {},
    uuid?: UUID,
  ) {
    this.options = options;
    this.uuid = uuid ?? new UUID();
  }

  get ns(): string {
    return `${this.dbName}.${this.name}`;
  }

  get indexSpecs(): Doc[] {
    return [ID_INDEX_SPEC, ...[...this.indexes.values()].map((i) => i.spec)];
  }

  private entriesOf(doc: Doc): Map<SecondaryIndex, IndexEntry[]> {
    const out = new Map<SecondaryIndex, IndexEntry[]>();
    for (const index of this.indexes.values()) out.set(index, index.entriesFor(doc));
    return out;
  }

  private checkUnique(entries: Map<SecondaryIndex, IndexEntry[]>, id: string): void {
    for (const [index, list] of entries) {
      const conflict = index.findConflict(list, id);
      if (conflict) throw this.duplicateIn(index, conflict.values);
    }
  }

  private duplicateIn(index: SecondaryIndex, values: Parameters<typeof duplicateKey>[4]) {
    return duplicateKey(this.ns, index.name, index.spec.key as Doc, index.fields, values);
  }

  /** Gives a document an `_id` (first, as mongod stores it) and validates it. */
  static prepareForInsert(doc: Doc): Doc {
    if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
    const kind = kindOf(doc._id);
    if (kind === 'array') throw badValue(`The '_id' value cannot be of type array`);
    if (kind === 'regex') throw badValue(`The '_id' value cannot be of type regex`);
    // MongoDB 5.0 allows `$`-prefixed field names anywhere but directly inside _id.
    const dollar =
      kind === 'object' ? Object.keys(doc._id as Doc).find((k) => k[0] === '$') : undefined;
    if (dollar !== undefined) {
      throw new CommandError(
        ErrorCode.DollarPrefixedFieldName,
        `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`,
      );
    }
    return idFirst(doc);
  }

  /** Inserts a prepared document, or throws (changing nothing) on a duplicate key. */
  insert(doc: Doc): void {
    const id = keyOf(doc._id);
    if (this.docs.has(id)) {
      throw duplicateKey(this.ns, '_id_', { _id: 1 }, ['_id'], [doc._id]);
    }
    const entries = this.entriesOf(doc);
    this.checkUnique(entries, id);
    this.docs.set(id, doc);
    for (const [index, list] of entries) index.add(list, id, doc);
    this.changes.put(this, doc);
  }

  /** Replaces a stored document (same `_id`), or throws (changing nothing) on a duplicate key. */
  replace(previous: Doc, next: Doc): void {
    const id = keyOf(previous._id);
    const nextEntries = this.entriesOf(next);
    this.checkUnique(nextEntries, id);
    for (const index of this.indexes.values()) {
      index.update(index.entriesFor(previous), nextEntries.get(index) ?? [], id, next);
    }
    this.docs.set(id, next);
    this.changes.put(this, next);
  }

  remove(doc: Doc): void {
    const id = keyOf(doc._id);
    if (!this.docs.delete(id)) return;
    for (const index of this.indexes.values()) index.remove(index.entriesFor(doc), id);
    this.changes.remove(this, doc._id);
  }

  dropIndex(name: string): void {
    if (this.indexes.delete(name)) this.changes.dropIndex(this, name);
  }

  /** Builds an index over the current documents; throws (adding nothing) on duplicates. */
  addIndex(index: SecondaryIndex): void {
    for (const [id, doc] of this.docs) {
      const entries = index.entriesFor(doc);
      const conflict = index.findConflict(entries, id);
      if (conflict) {
        index.clear();
        throw this.duplicateIn(index, conflict.values);
      }
      index.add(entries, id, doc);
    }
    this.indexes.set(index.name, index);
    this.changes.createIndex(this, index.spec);
  }

  /**
   * Documents that may match `filter`, fetched through `_id` or a covering index when the filter
   * pins leading key fields by equality, or walked in index order when that order is the
   * requested sort. `undefined` means a collection scan is needed.
   */
  plan(filter: Doc, sort: SortField[] = []): Plan | undefined {
    const orBranches = filter.$or;
    const planned = this.planIndexed(filter, sort);
    if (planned !== undefined || !Array.isArray(orBranches)) return planned;
    const union = new Map<string, Doc>();
    let exact = Object.keys(filter).length === 1;
    for (const branch of orBranches) {
      if (!isPlainObject(branch)) return undefined;
      const plan = this.planIndexed(branch, []);
      if (plan === undefined) return undefined;
      exact &&= plan.exact;
      for (const doc of plan.docs) union.set(keyOf(doc._id), doc);
    }
    return { docs: [...union.values()], exact, ordered: false };
  }

  private planIndexed(filter: Doc, sort: SortField[]): Plan | undefined {
    const eq = equalityConditions(filter);
    const filterFields = Object.keys(filter).length;
    const ids = eq.get('_id');
    if (ids !== undefined) {
      const docs: Doc[] = [];
      const seen = new Set<string>();
      for (const v of ids.values) {
        const key = keyOf(v);
        const doc = this.docs.get(key);
        if (doc !== undefined && !seen.has(key)) {
          seen.add(key);
          docs.push(doc);
        }
      }
      return { docs, exact: ids.exact && filterFields === 1, ordered: false };
    }
    let best:
      | { index: SecondaryIndex; prefix: number; score: number; walk?: 'forward' | 'reverse' }
      | undefined;
    for (const index of this.indexes.values()) {
      if (!index.coversAllDocuments) continue;
      let prefix = 0;
      while (prefix < index.fields.length && eq.has(index.fields[prefix])) prefix++;
      const singleKeys = index.fields
        .slice(0, prefix)
        .every((f) => new Set((eq.get(f) as Equality).values.map(keyOf)).size === 1);
      const walk = singleKeys ? walkDirection(index, prefix, sort) : undefined;
      if (prefix === 0 && walk === undefined) continue;
      const score =
        prefix + (walk ? 0.75 : 0) + (index.unique && prefix === index.fields.length ? 0.5 : 0);
      if (!best || score > best.score) best = { index, prefix, score, walk };
    }
    if (!best) return undefined;
    const used = best.index.fields.slice(0, best.prefix);
    const exact = filterFields === used.length && used.every((f) => (eq.get(f) as Equality).exact);
    const alternatives = used.map((f) => [...new Set((eq.get(f) as Equality).values.map(keyOf))]);
    if (best.walk) {
      const prefixKeys = alternatives.map((a) => a[0]);
      return {
        docs: best.index.ordered(prefixKeys, best.walk === 'reverse'),
        exact,
        ordered: true,
      };
    }
    const combinations = alternatives.reduce((n, a) => n * a.length, 1);
    if (combinations > MAX_LOOKUP_COMBINATIONS) return undefined;
    return { docs: best.index.lookup(alternatives), exact, ordered: false };
  }

  /**
   * mongod answers BadValue for a hint that names no index. A hinted sparse index makes the
   * query see only the documents that index holds, as in mongod; any other index gives the same
   * answer as no hint. With a partial index mongod's planner decides whether the query may use
   * it at all, which is not reproduced here.
   */
  hintScope(hint: unknown): HintScope {
    if (hint === undefined || (isPlainObject(hint) && Object.keys(hint).length === 0)) return {};
    if (isPlainObject(hint) && Object.keys(hint).length === 1 && '$natural' in hint) {
      return { reverse: toInt(hint.$natural) < 0 };
    }
    if (hint === '_id_' || valuesEqual(hint, ID_INDEX_SPEC.key)) return {};
    const index =
      typeof hint === 'string'
        ? this.indexes.get(hint)
        : [...this.indexes.values()].find((i) => valuesEqual(i.spec.key, hint));
    // A hidden index is invisible to the planner, hints included.
    if (index === undefined || index.spec.hidden === true) {
      throw badValue('hint provided does not correspond to an existing index');
    }
    if (index.partial !== undefined) throw unsupported('A hint naming a partial index');
    if (index.coversAllDocuments) return {};
    return { within: (doc) => index.entriesFor(doc).length > 0 };
  }

  /** Matching documents in sort order (natural order without a sort), after skip and limit. */
  find(compiled: CompiledFilter, options: FindOptions = {}): Doc[] {
    const skip = options.skip ?? 0;
    const limit = options.limit;
    let sortFields =
      options.sort === undefined || options.sort === null ? [] : parseSort(options.sort);
    // `{ $natural: ±1 }` asks for a collection scan in (reverse) insertion order.
    const natural = sortFields.length === 1 && sortFields[0].path === '$natural';
    const reverseNatural = natural && sortFields[0].dir === -1;
    if (natural) sortFields = [];
    const plan = natural ? undefined : this.plan(compiled.filter, sortFields);
    const source = deadlineChecked<Doc>(
      plan?.docs ?? (reverseNatural ? [...this.docs.values()].reverse() : this.docs.values()),
    );
    const matches = plan?.exact ? () => true : compiled.test;
    const within = options.within;
    const test = within ? (doc: Doc) => within(doc) && matches(doc) : matches;
    if (sortFields.length === 0 || plan?.ordered) {
      const out: Doc[] = [];
      let skipped = 0;
      for (const doc of source) {
        if (limit !== undefined && out.length >= limit) break;
        if (!test(doc)) continue;
        if (skipped < skip) {
          skipped++;
          continue;
        }
        out.push(doc);
      }
      return out;
    }
    const matched: Doc[] = [];
    for (const doc of source) if (test(doc)) matched.push(doc);
    const sorted = sortDocuments(
      matched,
      options.sort,
      limit === undefined ? undefined : skip + limit,
    );
    return skip > 0 ? sorted.slice(skip) : sorted;
  }
}

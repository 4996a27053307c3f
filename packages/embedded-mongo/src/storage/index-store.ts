import { compareValues, type Doc, EMPTY_ARRAY, keyOf, pathValues, toInt } from '../bson-values';
import { CommandError, ErrorCode } from '../errors';
import { type CompiledFilter } from '../query/filter';

/** `_id` key -> document, for the documents that share one full index key. */
type Leaf = Map<string, Doc>;

interface Slot {
  /** The indexed value (one representative of all values with this key). */
  value: unknown;
  child: Level | Leaf;
}

/**
 * One level of an index: key of this field's value -> the next level (or the leaf). The slots
 * sorted by value are computed on demand and dropped when a key is added or removed here.
 */
class Level {
  readonly slots = new Map<string, Slot>();
  private sorted: Slot[] | undefined;

  invalidate(): void {
    this.sorted = undefined;
  }

  inOrder(): Slot[] {
    this.sorted ??= [...this.slots.values()].sort((a, b) => compareValues(a.value, b.value));
    return this.sorted;
  }
}

export interface IndexEntry {
  keys: string[];
  values: unknown[];
}

export interface IndexDefinition {
  /** The spec as listIndexes shows it: `{ v: 2, key, name, ...options }`. */
  spec: Doc;
  fields: string[];
  unique: boolean;
  sparse: boolean;
  partial?: CompiledFilter;
  expireAfterSeconds?: number;
}

const EMPTY_KEY = 'U';

function sameKeys(a: IndexEntry[], b: IndexEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i].keys;
    const y = b[i].keys;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/**
 * A secondary index kept as nested hash maps, one level per key field, so that equality on any
 * prefix of the key pattern is a few map lookups, and the levels below can be walked in key
 * order. Leaves hold the current version of each document, keyed by its `_id` key.
 */
export class SecondaryIndex {
  readonly name: string;
  readonly spec: Doc;
  readonly fields: string[];
  /** 1 or -1 per field, as in the key pattern. */
  readonly directions: number[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partial?: CompiledFilter;
  readonly expireAfterSeconds?: number;
  private root = new Level();
  /** Set once a document produced several entries (an array value): results must be deduped. */
  private multikeyFlag = false;

  constructor(def: IndexDefinition) {
    this.spec = def.spec;
    this.name = def.spec.name as string;
    this.fields = def.fields;
    this.directions = def.fields.map((f) => (toInt((def.spec.key as Doc)[f]) < 0 ? -1 : 1));
    this.unique = def.unique;
    this.sparse = def.sparse;
    this.partial = def.partial;
    this.expireAfterSeconds = def.expireAfterSeconds;
  }

  /** Sparse and partial indexes omit documents, so they cannot answer arbitrary queries. */
  get coversAllDocuments(): boolean {
    return !this.sparse && this.partial === undefined;
  }

  get multikey(): boolean {
    return this.multikeyFlag;
  }

  /**
   * The index entries of a document (several for array values), or none when the index skips
   * it. Missing fields index as null, as in mongod.
   */
  entriesFor(doc: Doc): IndexEntry[] {
    if (this.partial && !this.partial.test(doc)) return [];
    const perField: { keys: string[]; values: unknown[] }[] = [];
    let allMissing = true;
    let multiValued = 0;
    for (const field of this.fields) {
      const seen = new Map<string, unknown>();
      for (const v of pathValues(doc, field)) {
        if (v !== undefined) allMissing = false;
        const key = v === EMPTY_ARRAY ? EMPTY_KEY : keyOf(v);
        if (!seen.has(key)) seen.set(key, v === EMPTY_ARRAY || v === undefined ? null : v);
      }
      if (seen.size > 1) multiValued++;
      perField.push({ keys: [...seen.keys()], values: [...seen.values()] });
    }
    if (this.sparse && allMissing) return [];
    if (multiValued > 1) {
      throw new CommandError(
        ErrorCode.CannotIndexParallelArrays,
        `cannot index parallel arrays [${this.fields.join('] [')}]`,
      );
    }
    let entries: IndexEntry[] = [{ keys: [], values: [] }];
    for (const { keys, values } of perField) {
      const next: IndexEntry[] = [];
      for (const e of entries) {
        for (let i = 0; i < keys.length; i++) {
          next.push({ keys: [...e.keys, keys[i]], values: [...e.values, values[i]] });
        }
      }
      entries = next;
    }
    return entries;
  }

  add(entries: IndexEntry[], id: string, doc: Doc): void {
    if (entries.length > 1) this.multikeyFlag = true;
    for (const { keys, values } of entries) {
      let level = this.root;
      for (let i = 0; i < keys.length; i++) {
        let slot = level.slots.get(keys[i]);
        const last = i === keys.length - 1;
        if (!slot) {
          slot = { value: values[i], child: last ? new Map() : new Level() };
          level.slots.set(keys[i], slot);
          level.invalidate();
        }
        if (last) (slot.child as Leaf).set(id, doc);
        else level = slot.child as Level;
      }
    }
  }

  remove(entries: IndexEntry[], id: string): void {
    for (const { keys } of entries) this.removeFrom(this.root, keys, 0, id);
  }

  /** Moves a document to its new entries; unchanged keys only swap the stored version. */
  update(previous: IndexEntry[], next: IndexEntry[], id: string, doc: Doc): void {
    if (sameKeys(previous, next)) {
      for (const { keys } of next) {
        const leaf = this.leafAt(keys);
        if (leaf?.has(id)) leaf.set(id, doc);
      }
      return;
    }
    this.remove(previous, id);
    this.add(next, id, doc);
  }

  private leafAt(keys: string[]): Leaf | undefined {
    let node: Level | Leaf = this.root;
    for (const key of keys) {
      const slot: Slot | undefined = (node as Level).slots.get(key);
      if (!slot) return undefined;
      node = slot.child;
    }
    return node as Leaf;
  }

  private removeFrom(level: Level, keys: string[], depth: number, id: string): void {
    const slot = level.slots.get(keys[depth]);
    if (slot === undefined) return;
    let emptied: boolean;
    if (depth === keys.length - 1) {
      const leaf = slot.child as Leaf;
      leaf.delete(id);
      emptied = leaf.size === 0;
    } else {
      const sub = slot.child as Level;
      this.removeFrom(sub, keys, depth + 1, id);
      emptied = sub.slots.size === 0;
    }
    if (emptied) {
      level.slots.delete(keys[depth]);
      level.invalidate();
    }
  }

  /** The first entry that another document already holds, for a unique index. */
  findConflict(entries: IndexEntry[], ownId: string): IndexEntry | undefined {
    if (!this.unique) return undefined;
    for (const entry of entries) {
      const leaf = this.leafAt(entry.keys);
      if (leaf === undefined) continue;
      for (const id of leaf.keys()) if (id !== ownId) return entry;
    }
    return undefined;
  }

  /**
   * Documents whose leading key fields equal one of the given alternatives
   * (`alternatives[i]` holds the acceptable keys of field i; fewer than all fields is a prefix).
   */
  lookup(alternatives: string[][]): Doc[] {
    const found: Leaf[] = [];
    const walk = (level: Level, depth: number) => {
      if (depth === alternatives.length) {
        collectLeaves(level, this.fields.length - depth, found);
        return;
      }
      for (const key of alternatives[depth]) {
        const slot = level.slots.get(key);
        if (slot === undefined) continue;
        if (depth === this.fields.length - 1) found.push(slot.child as Leaf);
        else walk(slot.child as Level, depth + 1);
      }
    };
    walk(this.root, 0);
    const single = alternatives.every((a) => a.length === 1);
    if (!this.multikeyFlag && single) {
      const out: Doc[] = [];
      for (const leaf of found) for (const doc of leaf.values()) out.push(doc);
      return out;
    }
    const unique = new Map<string, Doc>();
    for (const leaf of found) for (const [id, doc] of leaf) unique.set(id, doc);
    return [...unique.values()];
  }

  /**
   * Documents under one exact key prefix, in index order of the following fields (reversed when
   * `reverse`). Only meaningful when the index is not multikey.
   */
  *ordered(prefix: string[], reverse: boolean): Generator<Doc> {
    let level: Level | Leaf = this.root;
    for (const key of prefix) {
      const slot: Slot | undefined = (level as Level).slots.get(key);
      if (!slot) return;
      level = slot.child;
    }
    if (prefix.length === this.fields.length) {
      yield* (level as Leaf).values();
      return;
    }
    yield* this.walkOrdered(level as Level, prefix.length, reverse);
  }

  private *walkOrdered(level: Level, depth: number, reverse: boolean): Generator<Doc> {
    const slots = level.inOrder();
    const descending = (this.directions[depth] === -1) !== reverse;
    const last = depth === this.fields.length - 1;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[descending ? slots.length - 1 - i : i];
      if (last) yield* (slot.child as Leaf).values();
      else yield* this.walkOrdered(slot.child as Level, depth + 1, reverse);
    }
  }

  clear(): void {
    this.root = new Level();
    this.multikeyFlag = false;
  }
}

function collectLeaves(level: Level, levels: number, out: Leaf[]): void {
  for (const slot of level.slots.values()) {
    if (levels === 1) out.push(slot.child as Leaf);
    else collectLeaves(slot.child as Level, levels - 1, out);
  }
}

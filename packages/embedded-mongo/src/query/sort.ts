import { compareValues, type Doc, EMPTY_ARRAY, kindOf, pathValues, toInt } from '../bson-values';
import { badValue, unsupported } from '../errors';

export interface SortField {
  path: string;
  dir: 1 | -1;
}

export function parseSort(spec: unknown): SortField[] {
  if (kindOf(spec) !== 'object') throw badValue('Expected field sort to be of type object');
  const fields: SortField[] = [];
  for (const [path, raw] of Object.entries(spec as Doc)) {
    if (kindOf(raw) === 'object') throw unsupported(`Sort by ${JSON.stringify(raw)}`);
    const dir = toInt(raw);
    if (dir !== 1 && dir !== -1) {
      throw badValue('$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    }
    fields.push({ path, dir });
  }
  return fields;
}

/**
 * The value a document sorts by on one field: with arrays, MongoDB takes the smallest element
 * for an ascending sort and the largest for a descending one; missing sorts as null.
 */
function sortValue(doc: Doc, field: SortField): unknown {
  if (!field.path.includes('.')) {
    const direct = doc[field.path];
    if (!Array.isArray(direct)) return direct;
  }
  const values = pathValues(doc, field.path);
  let best: unknown = values[0] === EMPTY_ARRAY ? undefined : values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i] === EMPTY_ARRAY ? undefined : values[i];
    const c = compareValues(v, best);
    if (field.dir === 1 ? c < 0 : c > 0) best = v;
  }
  return best;
}

interface Keyed {
  doc: Doc;
  keys: unknown[];
}

function comparator(fields: SortField[]): (a: Keyed, b: Keyed) => number {
  return (a, b) => {
    for (let i = 0; i < fields.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * fields[i].dir;
    }
    return 0;
  };
}

/**
 * Sorts (stably) by a sort specification. With `limit`, only the first `limit` documents in
 * sort order are kept, selected without sorting the whole input.
 */
export function sortDocuments(docs: Doc[], spec: unknown, limit?: number): Doc[] {
  const fields = parseSort(spec);
  if (fields.length === 0) return limit === undefined ? docs : docs.slice(0, limit);
  const cmp = comparator(fields);
  const keyed = (doc: Doc): Keyed => ({ doc, keys: fields.map((f) => sortValue(doc, f)) });

  if (limit === undefined || limit >= docs.length / 4) {
    const all = docs.map(keyed);
    all.sort(cmp);
    const out = all.map((k) => k.doc);
    return limit === undefined ? out : out.slice(0, limit);
  }
  if (limit <= 0) return [];
  const best: Keyed[] = [];
  for (const doc of docs) {
    const item = keyed(doc);
    if (best.length === limit && cmp(item, best[best.length - 1]) >= 0) continue;
    // Insert after equal keys so the selection stays stable.
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(best[mid], item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, item);
    if (best.length > limit) best.pop();
  }
  return best.map((k) => k.doc);
}

import { type Doc, kindOf, pathValues } from './bson-values';
import { type Catalog } from './storage/catalog';
import { type Collection } from './storage/collection';
import { type SecondaryIndex } from './storage/index-store';

/** mongod's `ttlMonitorSleepSecs` default. */
export const DEFAULT_TTL_MONITOR_INTERVAL_MS = 60_000;

/**
 * The earliest date a document holds in a TTL field (an array of dates expires with its
 * oldest), or undefined when the field holds no date, in which case it never expires.
 */
function earliestDate(doc: Doc, field: string): number | undefined {
  let earliest: number | undefined;
  for (const v of pathValues(doc, field)) {
    if (kindOf(v) !== 'date') continue;
    const t = (v as Date).getTime();
    if (earliest === undefined || t < earliest) earliest = t;
  }
  return earliest;
}

function expireByIndex(collection: Collection, index: SecondaryIndex, now: number): number {
  const cutoff = now - (index.expireAfterSeconds as number) * 1000;
  const expired: Doc[] = [];
  for (const doc of collection.docs.values()) {
    if (index.partial && !index.partial.test(doc)) continue;
    const date = earliestDate(doc, index.fields[0]);
    if (date !== undefined && date <= cutoff) expired.push(doc);
  }
  for (const doc of expired) collection.remove(doc);
  return expired.length;
}

/** Deletes every document whose TTL index says it has expired; returns how many. */
function expireDocuments(catalog: Catalog, now = Date.now()): number {
  let removed = 0;
  for (const collection of catalog.allCollections()) {
    for (const index of collection.indexes.values()) {
      if (index.expireAfterSeconds === undefined || index.fields.length !== 1) continue;
      try {
        removed += expireByIndex(collection, index, now);
      } catch {
        // An index whose partial filter cannot be evaluated must not stop the other ones.
      }
    }
  }
  return removed;
}

/** Runs the TTL pass periodically, like mongod's TTL monitor. The timer never keeps Node alive. */
export function startTtlMonitor(catalog: Catalog, intervalMs: number): () => void {
  const timer = setInterval(() => expireDocuments(catalog), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

import { randomInt } from 'node:crypto';

import { Long } from 'bson';

import { type Doc } from './bson-values';

export interface OpenCursor {
  readonly id: Long;
  readonly ns: string;
  /** The remaining results, resolved when the cursor was opened (a snapshot of references). */
  readonly docs: Doc[];
  position: number;
  lastUsed: number;
}

/** mongod's default `cursorTimeoutMillis`. */
const CURSOR_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Cursors left open by find/aggregate/listCollections. Stored documents are replaced, never
 * mutated, so holding references gives each cursor a stable view of the documents it found.
 */
export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();

  open(ns: string, docs: Doc[], position: number): OpenCursor {
    let id: Long;
    do {
      // Positive and below 2^48 so the id survives any numeric promotion on the client.
      id = Long.fromNumber(randomInt(1, 2 ** 47) * 2 + 1);
    } while (this.cursors.has(id.toString()));
    const cursor: OpenCursor = { id, ns, docs, position, lastUsed: Date.now() };
    this.cursors.set(id.toString(), cursor);
    return cursor;
  }

  get(id: Long): OpenCursor | undefined {
    const cursor = this.cursors.get(id.toString());
    if (cursor) cursor.lastUsed = Date.now();
    return cursor;
  }

  kill(id: Long): boolean {
    return this.cursors.delete(id.toString());
  }

  /** Drops the cursors of a collection (`db.coll`) or, with `wholeDatabase`, of a database. */
  killNamespace(ns: string, wholeDatabase = false): void {
    for (const [key, cursor] of this.cursors) {
      const hit = wholeDatabase ? cursor.ns.startsWith(`${ns}.`) : cursor.ns === ns;
      if (hit) this.cursors.delete(key);
    }
  }

  sweep(now: number, idleTimeoutMs = CURSOR_IDLE_TIMEOUT_MS): void {
    for (const [key, cursor] of this.cursors) {
      if (now - cursor.lastUsed > idleTimeoutMs) this.cursors.delete(key);
    }
  }

  clear(): void {
    this.cursors.clear();
  }

  get size(): number {
    return this.cursors.size;
  }
}

import { type UUID } from 'bson';

import { type Doc } from '../bson-values';
import { CommandError, ErrorCode } from '../errors';
import { type ChangeSink, Collection, NO_CHANGES } from './collection';

const invalidDbChars = /[/\\. "$*<>:|?\0]/;

export function validateDbName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length >= 64 ||
    invalidDbChars.test(name)
  ) {
    throw new CommandError(ErrorCode.InvalidNamespace, `Invalid database name: '${String(name)}'`);
  }
  return name;
}

export function validateCollectionName(dbName: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('$') || name.includes('\0')) {
    throw new CommandError(
      ErrorCode.InvalidNamespace,
      `Invalid namespace specified '${dbName}.${String(name)}'`,
    );
  }
  return name;
}

/** All databases and collections of one server, in memory. A database exists while it has collections. */
export class Catalog {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private changes: ChangeSink = NO_CHANGES;

  /** From now on every change is reported to `sink` (the journal, when there is a dbpath). */
  setChangeSink(sink: ChangeSink): void {
    this.changes = sink;
    for (const collection of this.allCollections()) collection.changes = sink;
  }

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  collections(dbName: string): Collection[] {
    return [...(this.databases.get(dbName)?.values() ?? [])];
  }

  allCollections(): Collection[] {
    return [...this.databases.values()].flatMap((db) => [...db.values()]);
  }

  get(dbName: string, name: string): Collection | undefined {
    return this.databases.get(dbName)?.get(name);
  }

  /** Writes create their collection implicitly, as in mongod. */
  getOrCreate(dbName: string, name: string): { collection: Collection; created: boolean } {
    const existing = this.get(dbName, name);
    if (existing) return { collection: existing, created: false };
    return { collection: this.create(dbName, name), created: true };
  }

  create(dbName: string, name: string, options: Doc = {}, uuid?: UUID): Collection {
    validateDbName(dbName);
    validateCollectionName(dbName, name);
    let db = this.databases.get(dbName);
    if (!db) {
      db = new Map();
      this.databases.set(dbName, db);
    }
    if (db.has(name)) {
      throw new CommandError(
        ErrorCode.NamespaceExists,
        `Collection ${dbName}.${name} already exists.`,
      );
    }
    const collection = new Collection(dbName, name, options, uuid);
    collection.changes = this.changes;
    db.set(name, collection);
    this.changes.createCollection(collection);
    return collection;
  }

  drop(dbName: string, name: string): Collection | undefined {
    const db = this.databases.get(dbName);
    const collection = db?.get(name);
    if (!db || !collection) return undefined;
    db.delete(name);
    if (db.size === 0) this.databases.delete(dbName);
    this.changes.dropCollection(dbName, name);
    return collection;
  }

  dropDatabase(dbName: string): void {
    if (this.databases.delete(dbName)) this.changes.dropDatabase(dbName);
  }
}

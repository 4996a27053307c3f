import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { type UUID } from 'bson';

import { type Doc, keyOf } from '../bson-values';
import { buildIndex } from '../commands/indexes';
import { decodeDocument } from '../wire/messages';
import { serializeDocument } from '../wire/reply';
import { type Catalog } from './catalog';
import { type ChangeSink, type Collection } from './collection';

/*
 * The on-disk format (see the package README, "Persistence"):
 *
 *   journal-<generation>.emj = file header, then records, appended one after another
 *   file header (32 bytes)   = "EMBMONGO" | u32 version | u32 reserved | f64 snapshot bytes |
 *                              u32 reserved | u32 CRC-32 of the 28 bytes before
 *   record                   = record header (16 bytes) | payload
 *   record header            = "EMJR" | u32 payload length | u32 CRC-32 of payload |
 *                              u32 CRC-32 of the 12 bytes before
 *   payload                  = BSON operations, one after another
 *
 * A record holds every change made between two flushes (one or more whole commands), so a
 * record is applied entirely or not at all.
 */

const FILE_MAGIC = Buffer.from('EMBMONGO');
const FORMAT_VERSION = 1;
const FILE_HEADER_SIZE = 32;
const RECORD_MAGIC = 0x524a4d45; // "EMJR" read as little-endian u32
const RECORD_HEADER_SIZE = 16;
/** Records written while compacting group this many documents each. */
const SNAPSHOT_BATCH = 1000;
/** The journal is compacted once it is this large and twice its last snapshot. */
export const DEFAULT_COMPACT_MIN_BYTES = 64 * 1024 * 1024;

const JOURNAL_NAME = /^journal-(\d{6,})\.emj$/;
const LOCK_NAME = 'mongod.lock';

/** The dbpath cannot be used: corrupt, locked, or not a directory we can write. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
}

type Op =
  | { o: 'createCollection'; db: string; c: string; options: Doc; uuid: UUID }
  | { o: 'dropCollection'; db: string; c: string }
  | { o: 'dropDatabase'; db: string }
  | { o: 'createIndex'; db: string; c: string; spec: Doc }
  | { o: 'dropIndex'; db: string; c: string; name: string }
  | { o: 'put'; db: string; c: string; doc: Doc }
  | { o: 'remove'; db: string; c: string; id: unknown };

function journalName(generation: number): string {
  return `journal-${String(generation).padStart(6, '0')}.emj`;
}

function fileHeader(snapshotBytes: number): Buffer {
  const out = Buffer.alloc(FILE_HEADER_SIZE);
  FILE_MAGIC.copy(out, 0);
  out.writeUInt32LE(FORMAT_VERSION, 8);
  out.writeDoubleLE(snapshotBytes, 16);
  out.writeUInt32LE(crc32(out.subarray(0, 28)), 28);
  return out;
}

function record(payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(RECORD_HEADER_SIZE);
  header.writeUInt32LE(RECORD_MAGIC, 0);
  header.writeUInt32LE(body.length, 4);
  header.writeUInt32LE(crc32(body), 8);
  header.writeUInt32LE(crc32(header.subarray(0, 12)), 12);
  return Buffer.concat([header, body]);
}

function encodeOp(op: Op): Buffer {
  return serializeDocument(op);
}

function allZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Splits a journal file into record payloads. What a crash can leave behind (a record cut
 * short, or a zero-filled or unreadable last record) is a torn tail: it was never acknowledged
 * and is dropped. A bad record followed by more data is corruption and stops the start.
 */
function readRecords(file: string, buf: Buffer): { payloads: Buffer[]; validLength: number } {
  const corrupt = (offset: number, why: string) =>
    new StorageError(
      `The journal ${file} is corrupt at byte ${offset} (${why}). Refusing to start rather than serve partial data: restore the dbpath from a backup, or move it aside to start empty.`,
    );
  if (buf.length < FILE_HEADER_SIZE || !buf.subarray(0, 8).equals(FILE_MAGIC)) {
    throw corrupt(0, 'not a journal file of this server');
  }
  if (buf.readUInt32LE(28) !== crc32(buf.subarray(0, 28))) throw corrupt(0, 'bad header checksum');
  if (buf.readUInt32LE(8) !== FORMAT_VERSION) {
    throw new StorageError(
      `The journal ${file} has format version ${buf.readUInt32LE(8)}, this server reads ${FORMAT_VERSION}`,
    );
  }
  const payloads: Buffer[] = [];
  let pos = FILE_HEADER_SIZE;
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_HEADER_SIZE) break; // torn: header cut short
    const headerOk =
      buf.readUInt32LE(pos) === RECORD_MAGIC &&
      buf.readUInt32LE(pos + 12) === crc32(buf.subarray(pos, pos + 12));
    if (!headerOk) {
      if (allZero(buf, pos)) break; // torn: space allocated, never written
      throw corrupt(pos, 'bad record header');
    }
    const length = buf.readUInt32LE(pos + 4);
    const end = pos + RECORD_HEADER_SIZE + length;
    if (end > buf.length) break; // torn: payload cut short
    const payload = buf.subarray(pos + RECORD_HEADER_SIZE, end);
    if (crc32(payload) !== buf.readUInt32LE(pos + 8)) {
      if (end === buf.length) break; // torn: the last write did not reach the disk whole
      throw corrupt(pos, 'record checksum mismatch');
    }
    payloads.push(payload);
    pos = end;
  }
  return { payloads, validLength: pos };
}

function* decodeOps(payload: Buffer): Generator<Op> {
  let pos = 0;
  while (pos < payload.length) {
    const size = payload.readInt32LE(pos);
    yield decodeDocument(payload.subarray(pos, pos + size)) as Op;
    pos += size;
  }
}

function applyOp(catalog: Catalog, op: Op): void {
  const collection = (): Collection => {
    const c = catalog.get(op.db, (op as { c: string }).c);
    if (!c)
      throw new Error(`operation on the missing collection ${op.db}.${(op as { c: string }).c}`);
    return c;
  };
  switch (op.o) {
    case 'createCollection':
      catalog.create(op.db, op.c, op.options, op.uuid);
      return;
    case 'dropCollection':
      catalog.drop(op.db, op.c);
      return;
    case 'dropDatabase':
      catalog.dropDatabase(op.db);
      return;
    case 'createIndex':
      collection().addIndex(buildIndex(op.spec));
      return;
    case 'dropIndex':
      collection().dropIndex(op.name);
      return;
    case 'put': {
      const c = collection();
      const previous = c.docs.get(keyOf(op.doc._id));
      if (previous) c.replace(previous, op.doc);
      else c.insert(op.doc);
      return;
    }
    case 'remove': {
      const c = collection();
      const previous = c.docs.get(keyOf(op.id));
      if (previous) c.remove(previous);
    }
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The dbpath's lock is held by another live process (which may be on its way out). */
export class DbpathInUseError extends StorageError {
  constructor(
    message: string,
    readonly sameProcess: boolean,
  ) {
    super(message);
  }
}

const lockedInThisProcess = new Set<string>();

/**
 * mongod.lock holds the owner's pid. A lock left by a process that no longer exists (one killed
 * with SIGKILL) is taken over.
 */
function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_NAME);
  const inUse = (pid: number | string) =>
    new DbpathInUseError(
      `The dbpath ${dir} is in use by another embedded server (pid ${pid}); two servers cannot share one dbpath.`,
      pid === process.pid,
    );
  if (lockedInThisProcess.has(file)) throw inUse(process.pid);
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) throw inUse(pid);
    fd = fs.openSync(file, 'w', 0o600);
  }
  fs.writeSync(fd, `${process.pid}\n`);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  lockedInThisProcess.add(file);
  return () => {
    lockedInThisProcess.delete(file);
    fs.rmSync(file, { force: true });
  };
}

/**
 * Empties a dbpath (the next start begins with no data), refusing while a server uses it.
 * Everything in the directory goes, including files others keep next to the data.
 */
export function resetDbpath(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const release = acquireLock(dir);
  try {
    for (const name of fs.readdirSync(dir)) {
      if (name !== LOCK_NAME) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  } finally {
    release();
  }
}

export interface JournalOptions {
  /** Compact once the journal is this large (and twice its last snapshot). */
  compactMinBytes?: number;
  /** Called when the journal cannot be written: acknowledging further writes would be a lie. */
  onFatal?: (err: Error) => void;
}

export interface JournalStats {
  /** Records (group commits) written since start. */
  commits: number;
  compactions: number;
  fileBytes: number;
}

/**
 * The append-only journal of one dbpath. Changes are buffered as they happen; a flush (at the
 * end of the current event-loop turn) appends them as one checksummed record and fsyncs, and
 * only then runs the callbacks waiting for durability (the replies). Commands that arrive
 * during an fsync are committed together by the next flush (group commit).
 */
export class Journal implements ChangeSink {
  private fd: number;
  private generation: number;
  private fileBytes: number;
  private snapshotBytes: number;
  private pending: Buffer[] = [];
  private waiting: (() => void)[] = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;
  private readonly compactMinBytes: number;
  private readonly onFatal: (err: Error) => void;
  private readonly releaseLock: () => void;
  readonly stats: JournalStats = { commits: 0, compactions: 0, fileBytes: 0 };

  private constructor(
    readonly dir: string,
    private readonly catalog: Catalog,
    state: { fd: number; generation: number; fileBytes: number; snapshotBytes: number },
    releaseLock: () => void,
    options: JournalOptions,
  ) {
    this.fd = state.fd;
    this.generation = state.generation;
    this.fileBytes = state.fileBytes;
    this.snapshotBytes = state.snapshotBytes;
    this.releaseLock = releaseLock;
    this.compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.onFatal =
      options.onFatal ??
      ((err) => {
        process.stderr.write(`Embedded MongoDB journal write failed, stopping: ${err.message}\n`);
        process.exit(100);
      });
    this.stats.fileBytes = this.fileBytes;
  }

  /**
   * Locks `dir`, replays its journal into `catalog` (which must be empty) and from then on
   * records every change of the catalog.
   */
  static open(dir: string, catalog: Catalog, options: JournalOptions = {}): Journal {
    fs.mkdirSync(dir, { recursive: true });
    const releaseLock = acquireLock(dir);
    try {
      const generations = fs
        .readdirSync(dir)
        .map((name) => JOURNAL_NAME.exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      // A leftover of an interrupted compaction: never renamed, so never the journal.
      for (const name of fs.readdirSync(dir)) {
        if (name.endsWith('.emj.tmp')) fs.rmSync(path.join(dir, name), { force: true });
      }
      let generation = generations.at(-1);
      let snapshotBytes = FILE_HEADER_SIZE;
      let fileBytes: number;
      if (generation === undefined) {
        generation = 1;
        writeFileDurably(dir, journalName(generation), [fileHeader(FILE_HEADER_SIZE)]);
        fileBytes = FILE_HEADER_SIZE;
      } else {
        const file = path.join(dir, journalName(generation));
        const buf = fs.readFileSync(file);
        const { payloads, validLength } = readRecords(file, buf);
        snapshotBytes = buf.readDoubleLE(16);
        for (const payload of payloads) {
          for (const op of decodeOps(payload)) {
            try {
              applyOp(catalog, op);
            } catch (err) {
              throw new StorageError(
                `The journal ${file} cannot be replayed (${(err as Error).message}). Refusing to start rather than serve partial data.`,
              );
            }
          }
        }
        if (validLength < buf.length) fs.truncateSync(file, validLength);
        fileBytes = validLength;
        // Older generations are complete copies superseded by this one.
        for (const old of generations.slice(0, -1)) {
          fs.rmSync(path.join(dir, journalName(old)), { force: true });
        }
      }
      const fd = fs.openSync(path.join(dir, journalName(generation)), 'a');
      const journal = new Journal(
        dir,
        catalog,
        { fd, generation, fileBytes, snapshotBytes },
        releaseLock,
        options,
      );
      catalog.setChangeSink(journal);
      if (journal.shouldCompact()) journal.compact();
      return journal;
    } catch (err) {
      releaseLock();
      throw err;
    }
  }

  private add(op: Op): void {
    if (this.closed) return;
    this.pending.push(encodeOp(op));
    this.schedule();
  }

  createCollection(collection: Collection): void {
    this.add({
      o: 'createCollection',
      db: collection.dbName,
      c: collection.name,
      options: collection.options,
      uuid: collection.uuid,
    });
  }

  dropCollection(dbName: string, name: string): void {
    this.add({ o: 'dropCollection', db: dbName, c: name });
  }

  dropDatabase(dbName: string): void {
    this.add({ o: 'dropDatabase', db: dbName });
  }

  createIndex(collection: Collection, spec: Doc): void {
    this.add({ o: 'createIndex', db: collection.dbName, c: collection.name, spec });
  }

  dropIndex(collection: Collection, name: string): void {
    this.add({ o: 'dropIndex', db: collection.dbName, c: collection.name, name });
  }

  put(collection: Collection, doc: Doc): void {
    this.add({ o: 'put', db: collection.dbName, c: collection.name, doc });
  }

  remove(collection: Collection, id: unknown): void {
    this.add({ o: 'remove', db: collection.dbName, c: collection.name, id });
  }

  /**
   * Runs `callback` once every change made so far is on disk: at once when nothing is pending,
   * otherwise after the fsync that covers it. Callbacks run in the order they were given.
   */
  whenDurable(callback: () => void): void {
    if (this.pending.length === 0 && !this.flushing && this.waiting.length === 0) {
      callback();
      return;
    }
    this.waiting.push(callback);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing || this.closed) return;
    if (this.pending.length === 0) {
      this.release(this.waiting.splice(0));
      return;
    }
    const data = record(this.pending.splice(0));
    const callbacks = this.waiting.splice(0);
    this.flushing = true;
    const fd = this.fd;
    writeAll(fd, data, (err) => {
      if (err) return this.fail(err);
      fs.fdatasync(fd, (syncErr) => {
        if (syncErr) return this.fail(syncErr);
        this.flushing = false;
        this.fileBytes += data.length;
        this.stats.fileBytes = this.fileBytes;
        this.stats.commits++;
        if (this.shouldCompact()) {
          // Synchronous: the snapshot must see the catalog between two commands, and it
          // covers whatever was buffered meanwhile, which is thereby durable too.
          try {
            this.compact();
          } catch (compactErr) {
            return this.fail(compactErr as Error);
          }
          callbacks.push(...this.waiting.splice(0));
        }
        this.release(callbacks);
        if (this.pending.length > 0 || this.waiting.length > 0) this.schedule();
      });
    });
  }

  private release(callbacks: (() => void)[]): void {
    for (const callback of callbacks) callback();
  }

  private fail(err: Error): void {
    this.closed = true;
    this.onFatal(err);
  }

  private shouldCompact(): boolean {
    return this.fileBytes >= this.compactMinBytes && this.fileBytes >= 2 * this.snapshotBytes;
  }

  /**
   * Writes the whole catalog as a new journal generation (to a temporary file, fsynced, then
   * renamed over), switches to it and deletes the old one. Pending changes are part of the
   * snapshot, so they are dropped from the queue.
   */
  compact(): void {
    const next = this.generation + 1;
    const chunks: Buffer[] = [];
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const push = (op: Op) => {
      const bytes = encodeOp(op);
      batch.push(bytes);
      batchBytes += bytes.length;
      if (batch.length >= SNAPSHOT_BATCH || batchBytes >= 4 * 1024 * 1024) {
        chunks.push(record(batch));
        batch = [];
        batchBytes = 0;
      }
    };
    for (const collection of this.catalog.allCollections()) {
      const { dbName: db, name: c } = collection;
      push({ o: 'createCollection', db, c, options: collection.options, uuid: collection.uuid });
      for (const index of collection.indexes.values())
        push({ o: 'createIndex', db, c, spec: index.spec });
      for (const doc of collection.docs.values()) push({ o: 'put', db, c, doc });
    }
    if (batch.length > 0) chunks.push(record(batch));
    const size = FILE_HEADER_SIZE + chunks.reduce((n, b) => n + b.length, 0);
    writeFileDurably(this.dir, journalName(next), [fileHeader(size), ...chunks]);
    const oldFd = this.fd;
    const oldName = journalName(this.generation);
    this.fd = fs.openSync(path.join(this.dir, journalName(next)), 'a');
    fs.closeSync(oldFd);
    fs.rmSync(path.join(this.dir, oldName), { force: true });
    this.generation = next;
    this.fileBytes = size;
    this.snapshotBytes = size;
    this.pending = [];
    this.stats.fileBytes = size;
    this.stats.compactions++;
  }

  /** Writes what is pending, then closes the file and releases the dbpath. */
  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => this.whenDurable(resolve));
    this.closed = true;
    fs.closeSync(this.fd);
    this.releaseLock();
  }
}

function writeAll(fd: number, data: Buffer, done: (err: Error | null) => void): void {
  fs.write(fd, data, 0, data.length, null, (err, written) => {
    if (err) return done(err);
    if (written < data.length) return writeAll(fd, data.subarray(written), done);
    done(null);
  });
}

/** Writes a whole file under a temporary name, fsyncs it and renames it into place. */
function writeFileDurably(dir: string, name: string, parts: Buffer[]): void {
  const tmp = path.join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    for (const part of parts) {
      let offset = 0;
      while (offset < part.length) offset += fs.writeSync(fd, part, offset);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, name));
  fsyncDirectory(dir);
}

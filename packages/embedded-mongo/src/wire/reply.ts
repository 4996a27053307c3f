import { calculateObjectSize, type Long, serialize } from 'bson';

import { type Doc } from '../bson-values';
import { checkDocumentSize } from '../limits';
import { MAX_BSON_OBJECT_SIZE } from './messages';

/** A reply already encoded as one BSON document (cursor batches are assembled by hand). */
export class RawReply {
  constructor(readonly bytes: Buffer) {}
}

export type Reply = Doc | RawReply;

const SERIALIZE_OPTIONS = { checkKeys: false, ignoreUndefined: true } as const;

export function serializeDocument(doc: Doc): Buffer {
  return Buffer.from(serialize(doc, SERIALIZE_OPTIONS));
}

export function serializeReply(reply: Reply): Buffer {
  return reply instanceof RawReply ? reply.bytes : serializeDocument(reply);
}

const TYPE_DOUBLE = 0x01;
const TYPE_STRING = 0x02;
const TYPE_DOCUMENT = 0x03;
const TYPE_ARRAY = 0x04;
const TYPE_INT64 = 0x12;

function elementName(type: number, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const out = Buffer.allocUnsafe(nameBytes.length + 2);
  out[0] = type;
  nameBytes.copy(out, 1);
  out[out.length - 1] = 0;
  return out;
}

function documentOf(elements: Buffer[]): Buffer {
  const size = 4 + elements.reduce((n, b) => n + b.length, 0) + 1;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32LE(size, 0);
  return Buffer.concat([prefix, ...elements, Buffer.from([0])], size);
}

function stringValue(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length + 1);
  out.writeInt32LE(bytes.length + 1, 0);
  bytes.copy(out, 4);
  out[out.length - 1] = 0;
  return out;
}

/**
 * `{ cursor: { firstBatch|nextBatch: [...], id, ns }, ok: 1 }` built from documents that were
 * each serialized once, so a batch is never walked twice.
 */
export function cursorReply(
  batchField: 'firstBatch' | 'nextBatch',
  batch: Buffer[],
  id: Long,
  ns: string,
): RawReply {
  const array = documentOf(
    batch.map((doc, i) => Buffer.concat([elementName(TYPE_DOCUMENT, String(i)), doc])),
  );
  const idBytes = Buffer.allocUnsafe(8);
  idBytes.writeInt32LE(id.low, 0);
  idBytes.writeInt32LE(id.high, 4);
  const cursor = documentOf([
    elementName(TYPE_ARRAY, batchField),
    array,
    elementName(TYPE_INT64, 'id'),
    idBytes,
    elementName(TYPE_STRING, 'ns'),
    stringValue(ns),
  ]);
  const ok = Buffer.allocUnsafe(8);
  ok.writeDoubleLE(1, 0);
  return new RawReply(
    documentOf([elementName(TYPE_DOCUMENT, 'cursor'), cursor, elementName(TYPE_DOUBLE, 'ok'), ok]),
  );
}

/** Room left in a reply for documents once the envelope is accounted for. */
const BATCH_BYTES = MAX_BSON_OBJECT_SIZE - 16 * 1024;

/** A result document, or mongod's BSONObjectTooLarge (10334) when it is over 16 MB. */
function encodeResult(doc: Doc): Buffer {
  let encoded: Buffer;
  try {
    encoded = serializeDocument(doc);
  } catch (err) {
    // js-bson gives up on documents past its own buffer size with a generic error.
    checkDocumentSize(doc, calculateObjectSize(doc, SERIALIZE_OPTIONS));
    throw err;
  }
  checkDocumentSize(doc, encoded.length);
  return encoded;
}

/**
 * Serializes up to `max` documents from `start`, stopping before the batch would outgrow a
 * reply (always at least one document, as mongod does).
 */
export function takeBatch(
  docs: Doc[],
  start: number,
  max: number,
): { batch: Buffer[]; next: number } {
  const batch: Buffer[] = [];
  let bytes = 0;
  let i = start;
  while (i < docs.length && batch.length < max) {
    const encoded = encodeResult(docs[i]);
    if (batch.length > 0 && bytes + encoded.length > BATCH_BYTES) break;
    batch.push(encoded);
    bytes += encoded.length;
    i++;
  }
  return { batch, next: i };
}

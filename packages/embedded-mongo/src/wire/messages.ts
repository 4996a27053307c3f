import { deserialize, type DeserializeOptions } from 'bson';

import { type Doc } from '../bson-values';
import { normalizeDecoded } from '../numbers';
import { CommandError, ErrorCode } from '../errors';

export const OpCode = {
  Reply: 1,
  Query: 2004,
  Compressed: 2012,
  Msg: 2013,
} as const;

export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const HEADER_SIZE = 16;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;
const MSG_EXHAUST_ALLOWED = 1 << 16;
/** Bits 0-15 are "required": a receiver must reject ones it does not know. */
const MSG_KNOWN_REQUIRED = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME;

/**
 * int64 stays `Long` and int32 and double are told apart (see `normalizeDecoded`), so that
 * values round-trip with their BSON type.
 */
const DESERIALIZE_OPTIONS: DeserializeOptions = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: false,
};

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export type IncomingMessage =
  | { kind: 'msg'; header: MessageHeader; body: Doc; moreToCome: boolean; exhaustAllowed: boolean }
  | { kind: 'query'; header: MessageHeader; namespace: string; query: Doc }
  | { kind: 'unsupported'; header: MessageHeader };

export function readHeader(buf: Buffer): MessageHeader {
  return {
    length: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

function protocolError(message: string): CommandError {
  return new CommandError(ErrorCode.BadValue, message);
}

function readCString(buf: Buffer, start: number, end: number): [string, number] {
  const zero = buf.indexOf(0, start);
  if (zero === -1 || zero >= end) throw protocolError('unterminated cstring in message');
  return [buf.toString('utf8', start, zero), zero + 1];
}

/** One BSON document, decoded as every incoming one is (the journal stores documents this way too). */
export function decodeDocument(bytes: Uint8Array): Doc {
  return normalizeDecoded(deserialize(bytes, DESERIALIZE_OPTIONS)) as Doc;
}

function readDocument(buf: Buffer, start: number, end: number): [Doc, number] {
  if (start + 5 > end) throw protocolError('truncated BSON document in message');
  const size = buf.readInt32LE(start);
  if (size < 5 || start + size > end) throw protocolError('invalid BSON document size in message');
  return [decodeDocument(buf.subarray(start, start + size)), start + size];
}

/**
 * Decodes OP_MSG: one kind-0 body and any kind-1 document sequences, which become array
 * fields of the body (`documents`, `updates`, `deletes`, ...). The CRC-32C, when present, is
 * not verified: the transport is a local TCP socket.
 */
function parseMsg(buf: Buffer, header: MessageHeader): IncomingMessage {
  const flags = buf.readUInt32LE(HEADER_SIZE);
  if ((flags & 0xffff & ~MSG_KNOWN_REQUIRED) !== 0) {
    throw protocolError(`Unrecognized OP_MSG flags: ${flags}`);
  }
  const end = header.length - (flags & MSG_CHECKSUM_PRESENT ? 4 : 0);
  let pos = HEADER_SIZE + 4;
  let body: Doc | undefined;
  const sequences: [string, Doc[]][] = [];
  while (pos < end) {
    const kind = buf[pos++];
    if (kind === 0) {
      if (body) throw protocolError('OP_MSG has more than one body section');
      [body, pos] = readDocument(buf, pos, end);
    } else if (kind === 1) {
      const size = buf.readInt32LE(pos);
      const sectionEnd = pos + size;
      if (size < 5 || sectionEnd > end)
        throw protocolError('invalid OP_MSG document sequence size');
      let identifier: string;
      [identifier, pos] = readCString(buf, pos + 4, sectionEnd);
      const docs: Doc[] = [];
      while (pos < sectionEnd) {
        let doc: Doc;
        [doc, pos] = readDocument(buf, pos, sectionEnd);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
    } else {
      throw protocolError(`Unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw protocolError('OP_MSG has no body section');
  for (const [identifier, docs] of sequences) {
    if (identifier in body) {
      throw protocolError(`Duplicate field '${identifier}' in OP_MSG body and document sequence`);
    }
    body[identifier] = docs;
  }
  return {
    kind: 'msg',
    header,
    body,
    moreToCome: (flags & MSG_MORE_TO_COME) !== 0,
    exhaustAllowed: (flags & MSG_EXHAUST_ALLOWED) !== 0,
  };
}

/** Decodes the legacy OP_QUERY, which drivers still use for the first handshake. */
function parseQuery(buf: Buffer, header: MessageHeader): IncomingMessage {
  const [namespace, afterName] = readCString(buf, HEADER_SIZE + 4, header.length);
  const [query] = readDocument(buf, afterName + 8, header.length);
  return { kind: 'query', header, namespace, query };
}

export function parseMessage(buf: Buffer): IncomingMessage {
  const header = readHeader(buf);
  switch (header.opCode) {
    case OpCode.Msg:
      return parseMsg(buf, header);
    case OpCode.Query:
      return parseQuery(buf, header);
    default:
      return { kind: 'unsupported', header };
  }
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
  return out;
}

/** OP_MSG reply: no flags, a single kind-0 section holding the already serialized body. */
export function encodeMsgReply(requestId: number, responseTo: number, body: Buffer): Buffer[] {
  const prefix = Buffer.allocUnsafe(5);
  prefix.writeUInt32LE(0, 0);
  prefix[4] = 0;
  return [header(HEADER_SIZE + 5 + body.length, requestId, responseTo, OpCode.Msg), prefix, body];
}

/**
 * OP_REPLY carrying one document, the answer to an OP_QUERY command: no flags, cursor id 0,
 * starting at 0, one document returned.
 */
export function encodeOpReply(requestId: number, responseTo: number, doc: Buffer): Buffer[] {
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(1, 16);
  return [header(HEADER_SIZE + 20 + doc.length, requestId, responseTo, OpCode.Reply), fields, doc];
}

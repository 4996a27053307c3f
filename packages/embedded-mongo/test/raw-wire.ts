/** A minimal raw MongoDB wire client, to test the protocol below the driver. */
import { connect, type Socket } from 'node:net';

import { deserialize, type Document, serialize } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

let nextId = 1000;

export function takeRequestId(): number {
  return nextId++;
}

export function header(length: number, requestId: number, opCode: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(requestId, 4);
  b.writeInt32LE(0, 8);
  b.writeInt32LE(opCode, 12);
  return b;
}

export function opMsg(
  body: Document,
  options: { flags?: number; sequences?: Record<string, Document[]>; checksum?: boolean } = {},
): { requestId: number; bytes: Buffer } {
  const requestId = nextId++;
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(serialize(body))];
  for (const [identifier, docs] of Object.entries(options.sequences ?? {})) {
    const payload = Buffer.concat([
      Buffer.from(`${identifier}\0`, 'utf8'),
      ...docs.map((d) => Buffer.from(serialize(d))),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4, 0);
    sections.push(Buffer.from([1]), size, payload);
  }
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE((options.flags ?? 0) | (options.checksum ? 1 : 0), 0);
  const crc = options.checksum ? [Buffer.from([0xde, 0xad, 0xbe, 0xef])] : [];
  const rest = Buffer.concat([flags, ...sections, ...crc]);
  return { requestId, bytes: Buffer.concat([header(16 + rest.length, requestId, OP_MSG), rest]) };
}

export function opQuery(namespace: string, query: Document): { requestId: number; bytes: Buffer } {
  const requestId = nextId++;
  const ints = Buffer.alloc(8);
  ints.writeInt32LE(0, 0);
  ints.writeInt32LE(-1, 4);
  const rest = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(`${namespace}\0`, 'utf8'),
    ints,
    Buffer.from(serialize(query)),
  ]);
  return { requestId, bytes: Buffer.concat([header(16 + rest.length, requestId, OP_QUERY), rest]) };
}

export interface Reply {
  opCode: number;
  responseTo: number;
  doc: Document;
  numberReturned?: number;
}

/** A raw client: collects whole replies and notices when the server closes the socket. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4 && this.buffer.length >= this.buffer.readInt32LE(0)) {
        const length = this.buffer.readInt32LE(0);
        this.replies.push(parseReply(this.buffer.subarray(0, length)));
        this.buffer = this.buffer.subarray(length);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async next(timeoutMs = 2000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed || Date.now() > deadline) throw new Error('no reply');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.replies.shift() as Reply;
  }

  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }

  pending(): number {
    return this.replies.length;
  }

  end(): void {
    this.socket.destroy();
  }
}

function parseReply(buf: Buffer): Reply {
  const opCode = buf.readInt32LE(12);
  const responseTo = buf.readInt32LE(8);
  if (opCode === OP_REPLY) {
    const numberReturned = buf.readInt32LE(32);
    return { opCode, responseTo, numberReturned, doc: deserialize(buf.subarray(36)) };
  }
  return { opCode, responseTo, doc: deserialize(buf.subarray(21)) };
}

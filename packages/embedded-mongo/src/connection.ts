import { type Socket } from 'node:net';

import { type Doc } from './bson-values';
import { type ExecutionContext, executeCommand, HANDSHAKE_COMMANDS } from './commands/registry';
import { CommandError, ErrorCode, toCommandError } from './errors';
import { MessageFramer } from './wire/framer';
import {
  encodeMsgReply,
  encodeOpReply,
  type IncomingMessage,
  OpCode,
  parseMessage,
  readHeader,
} from './wire/messages';
import { type Reply, serializeDocument, serializeReply } from './wire/reply';

let lastRequestId = 0;

/** Bounds on what clients may make the server hold (see EmbeddedServerOptions). */
export interface ConnectionLimits {
  /** Bytes of half-received messages across all connections. */
  readonly maxBufferedBytes: number;
  /** A half-received message with no new bytes for this long closes its connection. */
  readonly halfSentTimeoutMs: number;
  /** Shared by every connection of one server. */
  readonly usage: { buffered: number };
}

/** A reply that cannot be encoded (say, a value BSON cannot hold) becomes an error reply. */
function encodeReply(reply: Reply): Buffer {
  try {
    return serializeReply(reply);
  } catch (err) {
    return serializeDocument(toCommandError(err).toReply());
  }
}

function nextRequestId(): number {
  lastRequestId = (lastRequestId + 1) & 0x7fffffff;
  return lastRequestId;
}

/**
 * One client socket. Every message is handled to completion inside the `data` callback, so
 * commands never interleave: no await separates a command's reads from its writes.
 */
export class ClientConnection {
  private readonly framer = new MessageFramer();

  /**
   * @param whenDurable runs a reply once every change made so far is on disk (at once without a
   *   dbpath), so no write is acknowledged that a crash could lose.
   */
  private buffered = 0;

  constructor(
    private readonly socket: Socket,
    private readonly context: ExecutionContext,
    private readonly whenDurable: (reply: () => void) => void,
    private readonly limits: ConnectionLimits,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A client that vanishes mid-write is not an error of the server.
    socket.on('error', () => socket.destroy());
    socket.on('timeout', () => socket.destroy());
    socket.on('close', () => this.account(0));
  }

  /** Keeps the server-wide count of half-received bytes, and the idle timer while there are any. */
  private account(buffered: number): void {
    this.limits.usage.buffered += buffered - this.buffered;
    this.buffered = buffered;
    this.socket.setTimeout(buffered > 0 ? this.limits.halfSentTimeoutMs : 0);
  }

  private onData(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    this.account(this.framer.buffered);
    if (this.limits.usage.buffered > this.limits.maxBufferedBytes) {
      // Past the server-wide budget the connection that asks for more is closed, not the server.
      this.socket.destroy();
      return;
    }
    for (const message of messages) {
      if (this.socket.destroyed) return;
      try {
        this.handle(message);
      } catch (err) {
        // Nothing thrown while serving one client may take the process (and other clients) down.
        this.socket.destroy(err as Error);
        return;
      }
    }
  }

  private write(parts: Buffer[]): void {
    this.whenDurable(() => {
      if (this.socket.destroyed) return;
      this.socket.cork();
      for (const part of parts) this.socket.write(part);
      this.socket.uncork();
    });
  }

  private replyMsg(responseTo: number, body: Buffer): void {
    this.write(encodeMsgReply(nextRequestId(), responseTo, body));
  }

  private failAndClose(responseTo: number, error: CommandError): void {
    this.replyMsg(responseTo, serializeDocument(error.toReply()));
    this.whenDurable(() => this.socket.end());
  }

  private handle(raw: Buffer): void {
    let message: IncomingMessage;
    try {
      message = parseMessage(raw);
    } catch (err) {
      this.failAndClose(readHeader(raw).requestId, toCommandError(err));
      return;
    }
    switch (message.kind) {
      case 'msg': {
        const body = message.body;
        const reply = executeCommand(body, body.$db, this.context);
        if (!message.moreToCome) this.replyMsg(message.header.requestId, encodeReply(reply));
        return;
      }
      case 'query':
        this.handleLegacyQuery(message.header.requestId, message.namespace, message.query);
        return;
      case 'unsupported': {
        const what =
          message.header.opCode === OpCode.Compressed
            ? 'Compressed messages (OP_COMPRESSED): this server advertises no compression, so none'
            : `Wire opcode ${message.header.opCode}`;
        this.failAndClose(
          message.header.requestId,
          new CommandError(
            ErrorCode.CommandNotSupported,
            `${what} is not supported by the embedded MongoDB-compatible server`,
          ),
        );
      }
    }
  }

  /** OP_QUERY is accepted for the handshake only, as in mongod 7. */
  private handleLegacyQuery(requestId: number, namespace: string, query: Doc): void {
    const body = (query.$query as Doc | undefined) ?? query;
    const commandName = Object.keys(body)[0] ?? '';
    let reply;
    if (!namespace.endsWith('.$cmd') || !HANDSHAKE_COMMANDS.has(commandName)) {
      reply = new CommandError(
        ErrorCode.UnsupportedOpQueryCommand,
        `Unsupported OP_QUERY command: ${commandName}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
      ).toReply();
    } else {
      reply = executeCommand(body, namespace.slice(0, -'.$cmd'.length), this.context);
    }
    this.write(encodeOpReply(nextRequestId(), requestId, encodeReply(reply)));
  }
}

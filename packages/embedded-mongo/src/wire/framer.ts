import { HEADER_SIZE, MAX_MESSAGE_SIZE_BYTES } from './messages';

export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/**
 * Cuts a TCP byte stream into whole wire messages: a message may arrive split over several
 * chunks, and one chunk may carry several messages.
 */
export class MessageFramer {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  constructor(private readonly maxMessageSize = MAX_MESSAGE_SIZE_BYTES) {}

  /** Bytes of a message not yet complete. */
  get buffered(): number {
    return this.pendingLength;
  }

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const messages: Buffer[] = [];
    while (this.pendingLength >= 4) {
      const length = this.peekLength();
      if (length < HEADER_SIZE || length > this.maxMessageSize) {
        throw new FramingError(
          `Invalid message length ${length} (must be between ${HEADER_SIZE} and ${this.maxMessageSize} bytes)`,
        );
      }
      if (this.pendingLength < length) break;
      messages.push(this.take(length));
    }
    return messages;
  }

  private peekLength(): number {
    const first = this.pending[0];
    if (first.length >= 4) return first.readInt32LE(0);
    const head = Buffer.concat(this.pending, Math.min(this.pendingLength, 4));
    return head.readInt32LE(0);
  }

  private take(length: number): Buffer {
    const first = this.pending[0];
    if (first.length >= length) {
      const message = first.subarray(0, length);
      if (first.length === length) this.pending.shift();
      else this.pending[0] = first.subarray(length);
      this.pendingLength -= length;
      return message;
    }
    const all = Buffer.concat(this.pending, this.pendingLength);
    const message = all.subarray(0, length);
    const rest = all.subarray(length);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingLength = rest.length;
    return message;
  }
}

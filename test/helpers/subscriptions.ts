import { type Client, type FormattedExecutionResult, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Result = FormattedExecutionResult<Record<string, any>, unknown>;

/** How the server closed a socket, and when (ms since the epoch, client clock). */
export interface Closed {
  code: number;
  reason: string;
  at: number;
}

/** One subscription's results as they arrive; `next()` waits for the next one. */
export class Stream {
  readonly results: Result[] = [];
  private readonly waiters: Array<(result: Result) => void> = [];
  private delivered = 0;
  /** Resolves when the server completes the stream or it ends with an error. */
  readonly ended: Promise<unknown>;
  private end!: (value: unknown) => void;

  constructor() {
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  push(result: Result): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.delivered += 1;
      waiter(result);
    }
    this.results.push(result);
  }

  finish(value: unknown): void {
    this.end(value);
  }

  /** The next result not yet handed out; fails after `timeoutMs`. */
  next(timeoutMs = 10_000): Promise<Result> {
    if (this.delivered < this.results.length) {
      return Promise.resolve(this.results[this.delivered++]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no result within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push((result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
  }
}

export interface TestSocket {
  client: Client;
  /** Resolves with the close the server (or dispose) caused. */
  closed: Promise<Closed>;
  /** Resolves on `connection_ack`; rejects if the socket closes first. */
  connected: Promise<void>;
  isClosed(): boolean;
  subscribe(query: string, variables?: Record<string, unknown>): Stream;
}

/** The API's WebSocket URL for its HTTP base URL. */
export const wsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/graphql`;

/**
 * A graphql-ws client over a real socket, connected at once (not lazily) and never retrying,
 * so every close the server decides is observed as it happened.
 */
export function openSocket(
  httpUrl: string,
  connectionParams?: Record<string, unknown>,
): TestSocket {
  let closedWith: Closed | undefined;
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  let onConnected!: () => void;
  let onRefused!: (closed: Closed) => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onRefused = (c) => reject(new Error(`closed before ack: ${c.code} ${c.reason}`));
  });
  // Callers that only wait for `closed` must not see an unhandled rejection.
  connected.catch(() => undefined);

  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        closedWith = { code, reason: String(reason), at: Date.now() };
        onRefused(closedWith);
        onClosed(closedWith);
      },
    },
  });

  return {
    client,
    closed,
    connected,
    isClosed: () => closedWith !== undefined,
    subscribe(query, variables) {
      const stream = new Stream();
      client.subscribe(
        { query, variables },
        {
          next: (result) => stream.push(result as Result),
          error: (error) => stream.finish(error),
          complete: () => stream.finish(undefined),
        },
      );
      return stream;
    },
  };
}

/** Waits until `condition` holds (checked every 20 ms); fails after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export const EVENT_FIELDS = 'kind todoId todo { id title completed owner { id } }';

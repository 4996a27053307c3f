import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Subscriptions under load, against a running API: the memory one idle subscribed socket
 * costs the server, and how long one todo change takes to reach 1,000 subscribers.
 */

export interface SubscriptionBenchInput {
  /** The API's HTTP base URL (`http://127.0.0.1:4000`); sockets go to `/graphql` there. */
  url: string;
  /**
   * An access token every socket subscribes with (`myTodoEvents`), valid for the whole run;
   * the todos that are fanned out are created with it too, so every subscriber receives each.
   */
  token: string;
  /** The server's memory now, after a full GC (e.g. the product child's `heapUsed` op). */
  serverMemory: () => Promise<{ heapUsed: number; rss?: number }>;
  /** Sockets to open (default 1,000). */
  sockets?: number;
  /** Changes fanned out, one after another (default 20). */
  events?: number;
}

export interface SubscriptionBenchResult {
  sockets: number;
  /** Server memory growth per idle subscribed socket (delta ÷ sockets), in bytes. */
  bytesPerSocket: { heapUsed: number; rss: number | undefined };
  /** From sending `createTodo` to each subscriber's receipt of its event, over every event. */
  fanout: { subscribers: number; events: number; p50Ms: number; p99Ms: number; maxMs: number };
}

const SUBSCRIPTION = 'subscription { myTodoEvents { kind todoId todo { id title } } }';
const OPEN_AT_ONCE = 50;

interface Subscriber {
  client: Client;
  /** The receipt time (performance.now) of each todo id seen. */
  seen: Map<string, number>;
}

/** Opens `count` sockets, each with one subscription, `OPEN_AT_ONCE` at a time. */
async function openSubscribers(url: string, token: string, count: number, onEvent: () => void) {
  const subscribers: Subscriber[] = [];
  for (let start = 0; start < count; start += OPEN_AT_ONCE) {
    const batch = Array.from({ length: Math.min(OPEN_AT_ONCE, count - start) }, async () => {
      const seen = new Map<string, number>();
      let connected!: () => void;
      let failed!: (error: unknown) => void;
      const ready = new Promise<void>((resolve, reject) => {
        connected = resolve;
        failed = reject;
      });
      const client = createClient({
        url: `${url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: `Bearer ${token}` },
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: failed,
        on: { connected: () => connected() },
      });
      client.subscribe(
        { query: SUBSCRIPTION },
        {
          next: (result) => {
            const todoId = (result.data as { myTodoEvents?: { todoId: string } } | null)
              ?.myTodoEvents?.todoId;
            if (todoId) seen.set(todoId, performance.now());
            onEvent();
          },
          error: failed,
          complete: () => undefined,
        },
      );
      await ready;
      subscribers.push({ client, seen });
    });
    await Promise.all(batch);
  }
  return subscribers;
}

async function createTodo(url: string, token: string, title: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation ($t: String!) { createTodo(input: { title: $t }) { id } }',
      variables: { t: title },
    }),
  });
  const body = (await response.json()) as { data?: { createTodo: { id: string } } };
  if (!body.data) throw new Error(`createTodo failed: ${JSON.stringify(body)}`);
  return body.data.createTodo.id;
}

/** Resolves once every subscriber has seen `todoId`; fails after `timeoutMs`. */
function everyoneSaw(
  subscribers: readonly Subscriber[],
  todoId: () => string | undefined,
  wake: { notify?: () => void },
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fan-out did not complete')), timeoutMs);
    wake.notify = () => {
      const id = todoId();
      if (id !== undefined && subscribers.every((s) => s.seen.has(id))) {
        clearTimeout(timer);
        wake.notify = undefined;
        resolve();
      }
    };
    wake.notify();
  });
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (value: number) => Math.round(value * 100) / 100;

export async function benchSubscriptions(
  input: SubscriptionBenchInput,
): Promise<SubscriptionBenchResult> {
  const count = input.sockets ?? 1000;
  const events = input.events ?? 20;
  const wake: { notify?: () => void } = {};

  const before = await input.serverMemory();
  const subscribers = await openSubscribers(input.url, input.token, count, () => wake.notify?.());
  try {
    // A subscription gives no "ready" signal: the first change every socket receives proves
    // every subscription is live (and warms the path up).
    for (let attempt = 0; ; attempt += 1) {
      const warm: { id?: string } = {};
      const done = everyoneSaw(subscribers, () => warm.id, wake, 5000);
      warm.id = await createTodo(input.url, input.token, `warm-up ${attempt}`);
      wake.notify?.();
      try {
        await done;
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
    const after = await input.serverMemory();

    const latencies: number[] = [];
    for (let i = 0; i < events; i += 1) {
      const sent: { id?: string } = {};
      const done = everyoneSaw(subscribers, () => sent.id, wake);
      const sentAt = performance.now();
      const todoId = (sent.id = await createTodo(input.url, input.token, `fan-out ${i}`));
      wake.notify?.();
      await done;
      for (const subscriber of subscribers) latencies.push(subscriber.seen.get(todoId)! - sentAt);
    }
    latencies.sort((x, y) => x - y);

    return {
      sockets: count,
      bytesPerSocket: {
        heapUsed: Math.round((after.heapUsed - before.heapUsed) / count),
        rss:
          after.rss !== undefined && before.rss !== undefined
            ? Math.round((after.rss - before.rss) / count)
            : undefined,
      },
      fanout: {
        subscribers: count,
        events,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(latencies[latencies.length - 1]!),
      },
    };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.client.dispose()));
  }
}

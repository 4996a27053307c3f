import WebSocket from 'ws';
import { useTestApp } from '../helpers/app';
import { wsUrl } from '../helpers/subscriptions';
import { freshAddress } from './support';

/**
 * Sockets count under their client address, told apart by the same rule as HTTP requests
 * (TRUST_PROXY): one address may hold WS_MAX_SOCKETS_PER_IP open sockets, and a handshake
 * beyond that is answered 429 with Retry-After, while other addresses connect as before.
 */
const t = useTestApp({ TRUST_PROXY: 'loopback', WS_MAX_SOCKETS_PER_IP: '2' });

const open: WebSocket[] = [];
afterAll(() => {
  for (const socket of open) socket.terminate();
});

/** A raw WebSocket handshake from `address`: the socket once open, or the HTTP refusal. */
function handshake(
  address: string,
): Promise<{ socket: WebSocket } | { status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(t.url), 'graphql-transport-ws', {
      headers: { 'x-forwarded-for': address },
    });
    socket.once('open', () => {
      open.push(socket);
      resolve({ socket });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] });
      response.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

const closed = (socket: WebSocket) =>
  new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.close();
  });

it('an address with WS_MAX_SOCKETS_PER_IP open sockets is refused another with 429, other addresses are not, and a closed socket frees its place', async () => {
  const crowded = freshAddress();
  const first = await handshake(crowded);
  const second = await handshake(crowded);
  expect('socket' in first && 'socket' in second).toBe(true);

  const third = await handshake(crowded);
  expect(third).toEqual({ status: 429, retryAfter: '30' });
  // Another client behind the same proxy: its own count (X-Forwarded-For under TRUST_PROXY).
  expect('socket' in (await handshake(freshAddress()))).toBe(true);

  await closed((second as { socket: WebSocket }).socket);
  expect('socket' in (await handshake(crowded))).toBe(true);
});

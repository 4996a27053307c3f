import { type Server } from 'node:http';

/**
 * Stops accepting connections and resolves once the open ones have ended: in-flight requests
 * finish, idle keep-alive connections close now. (Upgraded sockets count as open too; their
 * own server closes them.)
 */
export function drainHttpServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

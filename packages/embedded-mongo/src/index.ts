import { EmbeddedMongoServer, type EmbeddedServerOptions } from './server';

export { EmbeddedMongoServer, type EmbeddedServerOptions } from './server';
export { spawnEmbeddedServer, type SpawnedEmbeddedServer } from './spawn';
export { resetDbpath, StorageError } from './storage/journal';
export { DEFAULT_TTL_MONITOR_INTERVAL_MS } from './ttl-monitor';

export interface RunningEmbeddedServer {
  /** Connection string for the driver or mongoose, e.g. `mongodb://127.0.0.1:27017/`. */
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the embedded server inside this process. */
export async function startEmbeddedServer(
  options: EmbeddedServerOptions = {},
): Promise<RunningEmbeddedServer> {
  const server = new EmbeddedMongoServer(options);
  await server.listen();
  return { uri: server.uri, port: server.port, stop: () => server.stop() };
}
export {
  describeEmbeddedOnly,
  startTestDatabase,
  TEST_TTL_MONITOR_INTERVAL_MS,
  type TestDatabase,
} from './testing';

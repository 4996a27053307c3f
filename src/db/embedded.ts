/** What the API uses of the embedded server's package (a development dependency). */
export interface SpawnedEmbeddedServer {
  uri: string;
  stop(): Promise<void>;
}

interface EmbeddedMongoPackage {
  spawnEmbeddedServer(options: { port?: number; dbpath?: string }): Promise<SpawnedEmbeddedServer>;
  resetDbpath(dbpath: string): void;
}

const PACKAGE = '@graphql-auth-api/embedded-mongo';

/**
 * The package is loaded only at run time, so a production install (which does not have it)
 * never needs it; its absence is explained rather than thrown as a bare MODULE_NOT_FOUND.
 */
function loadPackage(): EmbeddedMongoPackage {
  try {
    // A run-time lookup by name: the production build must not reference the package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(PACKAGE) as EmbeddedMongoPackage;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(
      `MONGODB_URI is not set and the embedded database (${PACKAGE}, a development dependency) is not installed or built: set MONGODB_URI, or run \`npm ci\` and \`npm run build:db\``,
      { cause: error },
    );
  }
}

/**
 * Starts the embedded MongoDB-compatible server in a child process, for development without
 * MONGODB_URI; with `dbpath` its data is kept there across restarts, without it in memory.
 */
export async function spawnEmbeddedDatabase(
  dbpath: string | undefined,
): Promise<SpawnedEmbeddedServer> {
  // Its own process, so the database never competes with the API for this event loop.
  return loadPackage().spawnEmbeddedServer({ port: 0, dbpath });
}

/** Empties the embedded database's directory (and the development secret kept there). */
export function resetEmbeddedDatabase(dbpath: string): void {
  loadPackage().resetDbpath(dbpath);
}

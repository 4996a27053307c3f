import { ConfigError, loadConfig } from '../src/config';
import { resetEmbeddedDatabase } from '../src/db/embedded';

/** `npm run db:reset`: the next `npm start` / `npm run dev` begins with an empty database. */
function main(): number {
  const config = loadConfig();
  if (!config.embeddedDbPath) {
    process.stdout.write('EMBEDDED_DB_PATH is :memory:, nothing to reset\n');
    return 0;
  }
  resetEmbeddedDatabase(config.embeddedDbPath);
  process.stdout.write(`Emptied ${config.embeddedDbPath}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

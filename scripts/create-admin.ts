import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config';
import { connectDatabase, disconnectDatabase } from '../src/db/connect';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { ensureAdmin } from '../src/users/admin-bootstrap';

const USAGE =
  'usage: npm run create-admin -- --email admin@example.com --password "<a passphrase, 8 to 256 characters, hard to guess>" [--name "Jane Admin"]';

/** Creates an admin account in the database MONGODB_URI names (once; never a duplicate). */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
  });
  if (!values.email || !values.password) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  if (!config.mongodbUri) {
    process.stderr.write(
      'MONGODB_URI is not set. The embedded database lives inside a running `npm start` only;\n' +
        'there, set ADMIN_EMAIL and ADMIN_PASSWORD instead (or use the printed development admin).\n',
    );
    return 2;
  }
  await connectDatabase(config.mongodbUri);
  try {
    const services = createServices(config, createLogger({ env: config.env, logLevel: 'warn' }));
    const outcome = await ensureAdmin(services, {
      email: values.email,
      password: values.password,
      name: values.name ?? config.admin.name,
    });
    const messages = {
      created: `admin ${values.email} created`,
      exists: `admin ${values.email} already exists; nothing changed`,
      conflict: `${values.email} belongs to a non-admin account; promote it with setUserRole instead`,
    };
    process.stdout.write(`${messages[outcome]}\n`);
    return outcome === 'conflict' ? 1 : 0;
  } finally {
    await disconnectDatabase();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

import 'reflect-metadata';
import mongoose from 'mongoose';
import { createApp } from '../../src/app';
import { lowerThreadPoolPriority, threadPoolWarnings } from '../../src/common/thread-pool';
import { loadConfig } from '../../src/config';
import { connectDatabase } from '../../src/db/connect';
import { createLogger } from '../../src/logger';
import { childOptions, serveChild } from './child';

/**
 * The product booted as `src/index.ts` boots it (config from the environment, the production
 * logger writing to stdout, connect, createApp, node:http), minus the listen/shutdown parts
 * that `serveChild` does. The parent sends stdout to /dev/null: every log line is still
 * serialised and written, so logging costs what it costs in production.
 */
serveChild(async () => {
  const options = childOptions();
  const config = loadConfig();
  // As src/index.ts does; a bench that silently measured without it would mislead.
  const pool = await lowerThreadPoolPriority(config.threadPoolNice, config.threadPoolIdle);
  const [problem] = threadPoolWarnings(pool);
  if (problem) throw new Error(problem);
  const logger = createLogger(config);
  await connectDatabase(config.mongodbUri!, {
    dbName: options.dbName,
    monitorCommands: options.monitorCommands,
  });

  let commands = 0;
  if (options.monitorCommands) {
    mongoose.connection.getClient().on('commandStarted', () => {
      commands += 1;
    });
  }
  const app = await createApp(config, { logger });

  const gc = (globalThis as { gc?: () => void }).gc;
  // Subscriptions too (bench/subscriptions.ts opens sockets to it).
  const server = app.createServer();
  return {
    server,
    ops: {
      heapUsed: () => {
        if (!gc) throw new Error('heapUsed needs the child forked with --expose-gc');
        // Twice: the first pass can leave objects that only the second finds unreachable.
        gc();
        gc();
        return process.memoryUsage().heapUsed;
      },
      resetCommands: () => {
        commands = 0;
        return 0;
      },
      commandCount: () => commands,
    },
  };
});

import os from 'node:os';

import { type Doc } from '../bson-values';
import { CommandError, ErrorCode, unsupported } from '../errors';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES } from '../wire/messages';
import { settableParameters } from './admin';
import { type CommandHandler } from './context';

/** MongoDB 7.0: the version this server's behaviour is modelled on. */
const SERVER_VERSION = '7.0.0';
const MAX_WIRE_VERSION = 21;
const MAX_WRITE_BATCH_SIZE = 100_000;

/**
 * A standalone primary. No `topologyVersion` (drivers then poll instead of streaming awaitable
 * hellos), no `compression` (nothing compressed will be sent), no `saslSupportedMechs`.
 */
const hello: CommandHandler = (cmd, ctx) => {
  const reply: Doc = {};
  if (cmd.helloOk === true) reply.helloOk = true;
  if (ctx.commandName === 'hello') reply.isWritablePrimary = true;
  else reply.ismaster = true;
  Object.assign(reply, {
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connection.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  });
  return reply;
};

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'embedded',
  modules: [],
  allocator: 'system',
  javascriptEngine: 'none',
  sysInfo: 'deprecated',
  versionArray: SERVER_VERSION.split('.').map(Number).concat(0),
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['embedded-in-memory'],
  ok: 1,
});

const parameters: Doc = {
  featureCompatibilityVersion: { version: '7.0' },
  authenticationMechanisms: [],
  cursorTimeoutMillis: 600000,
  ttlMonitorEnabled: true,
};

const getParameter: CommandHandler = (cmd, ctx) => {
  const current = { ...parameters, ...settableParameters(ctx.catalog) };
  if (cmd.getParameter === '*') return { ...current, ok: 1 };
  const reply: Doc = {};
  for (const key of Object.keys(cmd)) {
    if (key === 'getParameter' || key.startsWith('$') || key === 'lsid') continue;
    if (key in current) reply[key] = current[key];
  }
  if (Object.keys(reply).length === 0) {
    throw new CommandError(ErrorCode.InvalidOptions, 'no option found to get');
  }
  return { ...reply, ok: 1 };
};

const ok: CommandHandler = () => ({ ok: 1 });

const serverStatus: CommandHandler = (_cmd, ctx) => ({
  host: `${os.hostname()}:${ctx.server.port}`,
  version: SERVER_VERSION,
  process: 'mongod',
  pid: process.pid,
  uptime: Math.floor((Date.now() - ctx.server.startedAt) / 1000),
  uptimeMillis: Date.now() - ctx.server.startedAt,
  localTime: new Date(),
  connections: {
    current: ctx.server.openConnections(),
    available: 1000,
    totalCreated: ctx.server.totalConnections(),
  },
  ok: 1,
});

const hostInfo: CommandHandler = () => ({
  system: {
    currentTime: new Date(),
    hostname: os.hostname(),
    cpuAddrSize: 64,
    memSizeMB: Math.floor(os.totalmem() / 1048576),
    numCores: os.cpus().length,
    cpuArch: os.arch(),
  },
  os: { type: os.type(), name: os.platform(), version: os.release() },
  extra: {},
  ok: 1,
});

function refuseAuthentication(): never {
  throw unsupported('Authentication');
}

/** A standalone mongod's answer to anything that belongs to a multi-document transaction. */
export function refuseTransaction(): never {
  throw new CommandError(
    ErrorCode.IllegalOperation,
    'Transaction numbers are only allowed on a replica set member or mongos',
  );
}

export const serverInfoCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: ok,
  refreshSessions: ok,
  killSessions: ok,
  serverStatus,
  hostInfo,
  connectionStatus: () => ({
    authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
    ok: 1,
  }),
  getCmdLineOpts: () => ({ argv: ['embedded'], parsed: {}, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  whatsmyuri: (_cmd, ctx) => ({ you: ctx.connection.remoteAddress, ok: 1 }),
  saslStart: refuseAuthentication,
  saslContinue: refuseAuthentication,
  authenticate: refuseAuthentication,
  logout: ok,
  commitTransaction: refuseTransaction,
  abortTransaction: refuseTransaction,
};

import { type Doc } from '../bson-values';
import { CommandError, ErrorCode, toCommandError, unsupported } from '../errors';
import { refuseCatastrophicRegexes, withCommandLimits } from '../limits';
import { validateDbName } from '../storage/catalog';
import { type Reply } from '../wire/reply';
import { adminCommands } from './admin';
import { aggregateCommands } from './aggregate';
import { type CommandContext, type CommandHandler } from './context';
import { databaseCommands } from './databases';
import { indexCommands } from './indexes';
import { readCommands } from './read';
import { refuseTransaction, serverInfoCommands } from './server-info';
import { writeCommands } from './write';

const commands = new Map<string, CommandHandler>(
  Object.entries({
    ...serverInfoCommands,
    ...databaseCommands,
    ...readCommands,
    ...writeCommands,
    ...aggregateCommands,
    ...indexCommands,
    ...adminCommands,
  }),
);

/**
 * mongod 7.0 commands this server does not implement. They answer CommandNotSupported with
 * their name, keeping CommandNotFound for names mongod does not know either.
 */
const MONGOD_COMMANDS = new Set([
  'analyze',
  'analyzeShardKey',
  'appendOplogNote',
  'applyOps',
  'autoSplitVector',
  'checkMetadataConsistency',
  'checkShardingIndex',
  'cleanupOrphaned',
  'cloneCollectionAsCapped',
  'collStats',
  'compact',
  'compactStructuredEncryptionData',
  'configureQueryAnalyzer',
  'connPoolStats',
  'connPoolSync',
  'convertToCapped',
  'createRole',
  'createSearchIndexes',
  'createUser',
  'currentOp',
  'dataSize',
  'dbCheck',
  'dbHash',
  'dropAllRolesFromDatabase',
  'dropAllUsersFromDatabase',
  'dropConnections',
  'dropRole',
  'dropSearchIndex',
  'dropUser',
  'features',
  'filemd5',
  'fsync',
  'fsyncUnlock',
  'getAuditConfig',
  'getClusterParameter',
  'getDefaultRWConcern',
  'getDiagnosticData',
  'getFreeMonitoringStatus',
  'getShardVersion',
  'grantPrivilegesToRole',
  'grantRolesToRole',
  'grantRolesToUser',
  'invalidateUserCache',
  'killAllSessions',
  'killAllSessionsByPattern',
  'killOp',
  'listCommands',
  'listSearchIndexes',
  'lockInfo',
  'logApplicationMessage',
  'logRotate',
  'mapReduce',
  'planCacheClear',
  'planCacheClearFilters',
  'planCacheListFilters',
  'planCacheSetFilter',
  'profile',
  'reIndex',
  'renameCollection',
  'replSetAbortPrimaryCatchUp',
  'replSetFreeze',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetInitiate',
  'replSetMaintenance',
  'replSetReconfig',
  'replSetResizeOplog',
  'replSetStepDown',
  'replSetSyncFrom',
  'revokePrivilegesFromRole',
  'revokeRolesFromRole',
  'revokeRolesFromUser',
  'rolesInfo',
  'rotateCertificates',
  'setClusterParameter',
  'setDefaultRWConcern',
  'setFeatureCompatibilityVersion',
  'setFreeMonitoring',
  'setIndexCommitQuorum',
  'setUserWriteBlockMode',
  'shardingState',
  'shutdown',
  'splitChunk',
  'splitVector',
  'startSession',
  'top',
  'updateRole',
  'updateSearchIndex',
  'updateUser',
  'usersInfo',
  'validate',
  'validateDBMetadata',
]);

/**
 * The commands of Stable API version 1 (MongoDB 7.0). Under `apiStrict: true` any other
 * command fails with APIStrictError, as in mongod.
 */
const API_V1_COMMANDS = new Set([
  'abortTransaction',
  'aggregate',
  'authenticate',
  'collMod',
  'commitTransaction',
  'count',
  'create',
  'createIndexes',
  'delete',
  'drop',
  'dropDatabase',
  'dropIndexes',
  'endSessions',
  'explain',
  'find',
  'findAndModify',
  'getMore',
  'hello',
  'insert',
  'killCursors',
  'listCollections',
  'listDatabases',
  'listIndexes',
  'ping',
  'refreshSessions',
  'saslContinue',
  'saslStart',
  'update',
]);

function checkApiVersion(body: Doc, commandName: string): void {
  const { apiVersion, apiStrict } = body;
  if (apiVersion === undefined) {
    if (apiStrict !== undefined) {
      throw new CommandError(
        ErrorCode.BadValue,
        'Parameter apiStrict cannot be set without setting apiVersion',
      );
    }
    return;
  }
  if (apiVersion !== '1') {
    throw new CommandError(ErrorCode.APIVersionError, `API version must be "1"`);
  }
  if (apiStrict === true && !API_V1_COMMANDS.has(commandName)) {
    throw new CommandError(
      ErrorCode.APIStrictError,
      `Provided apiStrict:true, but the command ${commandName} is not in API Version 1. Information on supported commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.`,
    );
  }
}

/** Commands a driver may run before it knows the server speaks OP_MSG. */
export const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

/**
 * Fields that put a command inside a multi-document transaction. A standalone mongod refuses
 * them; so does this server (it has no sessions that could be rolled back).
 */
const transactionFields = ['txnNumber', 'startTransaction', 'autocommit'];

export type ExecutionContext = Omit<CommandContext, 'dbName' | 'commandName'>;

/**
 * Runs one command and returns its reply; failures become `{ ok: 0, errmsg, code, codeName }`.
 * Envelope fields (`$db`, `lsid`, `$clusterTime`, read/write concern, ...) are accepted and
 * ignored; `apiVersion`/`apiStrict` are checked as mongod does.
 */
export function executeCommand(body: Doc, dbName: unknown, base: ExecutionContext): Reply {
  try {
    const commandName = Object.keys(body)[0];
    if (commandName === undefined) {
      throw new CommandError(ErrorCode.FailedToParse, 'Command body is empty');
    }
    const handler = commands.get(commandName);
    if (!handler) {
      if (MONGOD_COMMANDS.has(commandName)) throw unsupported(`The ${commandName} command`);
      throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${commandName}'`);
    }
    checkApiVersion(body, commandName);
    if (transactionFields.some((f) => body[f] !== undefined)) refuseTransaction();
    if (dbName === undefined) {
      throw new CommandError(40571, 'OP_MSG requests require a $db argument');
    }
    const ctx: CommandContext = { ...base, dbName: validateDbName(dbName), commandName };
    refuseCatastrophicRegexes(body);
    return withCommandLimits(body, () => handler(body, ctx));
  } catch (err) {
    return toCommandError(err).toReply();
  }
}

import { type Doc } from '../bson-values';
import { CommandError, ErrorCode, toCommandError } from '../errors';
import { refuseCatastrophicRegexes, withCommandLimits } from '../limits';
import { validateDbName } from '../storage/catalog';
import { type Reply } from '../wire/reply';
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
  }),
);

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
 * Envelope fields (`$db`, `lsid`, `$clusterTime`, read/write concern, `apiVersion`, ...) are
 * accepted and ignored.
 */
export function executeCommand(body: Doc, dbName: unknown, base: ExecutionContext): Reply {
  try {
    const commandName = Object.keys(body)[0];
    if (commandName === undefined) {
      throw new CommandError(ErrorCode.FailedToParse, 'Command body is empty');
    }
    const handler = commands.get(commandName);
    if (!handler) {
      throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${commandName}'`);
    }
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

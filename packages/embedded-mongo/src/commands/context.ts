import { type Doc, isNumeric, isPlainObject, kindOf, toInt } from '../bson-values';
import { type CursorRegistry } from '../cursors';
import { CommandError, ErrorCode, typeMismatch, unsupported } from '../errors';
import { refuseUnsupportedOperators } from '../query/filter';
import { evaluateExpression } from '../query/operators';
import { type Catalog, validateCollectionName } from '../storage/catalog';
import { type Reply } from '../wire/reply';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
}

export interface ServerState {
  readonly startedAt: number;
  readonly host: string;
  readonly port: number;
  readonly openConnections: () => number;
  readonly totalConnections: () => number;
}

export interface CommandContext {
  readonly dbName: string;
  readonly commandName: string;
  readonly catalog: Catalog;
  readonly cursors: CursorRegistry;
  readonly connection: ConnectionInfo;
  readonly server: ServerState;
}

/** Runs synchronously from first read to last write: that is what makes each write atomic. */
export type CommandHandler = (cmd: Doc, ctx: CommandContext) => Reply;

export function collectionName(cmd: Doc, ctx: CommandContext): string {
  const name = cmd[ctx.commandName];
  if (typeof name !== 'string') {
    throw new CommandError(
      ErrorCode.InvalidNamespace,
      `collection name has invalid type ${kindOf(name) === 'missing' ? 'missing' : kindOf(name)}`,
    );
  }
  return validateCollectionName(ctx.dbName, name);
}

function wrongType(ctx: CommandContext, field: string, value: unknown, expected: string) {
  return typeMismatch(
    `BSON field '${ctx.commandName}.${field}' is the wrong type '${kindOf(value)}', expected type '${expected}'`,
  );
}

export function optionalDocument(cmd: Doc, field: string, ctx: CommandContext): Doc | undefined {
  const value = cmd[field];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw wrongType(ctx, field, value, 'object');
  return value;
}

/**
 * A command's `let` variables, each evaluated once as an expression (`{ $add: [0, 1] }` is 1,
 * `"$$NOW"` the current date), as mongod binds them before running the command.
 */
export function letVariables(cmd: Doc, ctx: CommandContext): Doc | undefined {
  const spec = optionalDocument(cmd, 'let', ctx);
  if (spec === undefined) return undefined;
  refuseUnsupportedOperators(spec);
  const out: Doc = {};
  for (const [name, expr] of Object.entries(spec)) out[name] = evaluateExpression(expr);
  return out;
}

export function optionalArray(cmd: Doc, field: string, ctx: CommandContext): unknown[] | undefined {
  const value = cmd[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(ctx, field, value, 'array');
  return value;
}

export function requiredArray(cmd: Doc, field: string, ctx: CommandContext): unknown[] {
  const value = optionalArray(cmd, field, ctx);
  if (value === undefined) {
    throw new CommandError(
      40414,
      `BSON field '${ctx.commandName}.${field}' is missing but a required field`,
    );
  }
  return value;
}

export function optionalInt(cmd: Doc, field: string, ctx: CommandContext): number | undefined {
  const value = cmd[field];
  if (value === undefined || value === null) return undefined;
  const kind = kindOf(value);
  if (kind !== 'number' && kind !== 'long' && kind !== 'decimal') {
    throw wrongType(ctx, field, value, 'int');
  }
  return Math.trunc(toInt(value));
}

/** A `hint`: an index name or key pattern (checked against the indexes by the collection). */
export function optionalHint(source: Doc, ctx: CommandContext): unknown {
  const value = source.hint;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && !isPlainObject(value)) {
    throw typeMismatch(
      `BSON field '${ctx.commandName}.hint' is the wrong type '${kindOf(value)}', expected types '[string, object]'`,
    );
  }
  return value;
}

export function optionalBool(cmd: Doc, field: string): boolean {
  const value = cmd[field];
  if (value === undefined || value === null || value === false) return false;
  return !(isNumeric(value) && Number(value) === 0);
}

/** Options whose semantics this server does not implement are refused, never ignored. */
export function refuseOptions(cmd: Doc, fields: string[]): void {
  for (const field of fields) {
    const value = cmd[field];
    if (value === undefined || value === null || value === false) continue;
    if (isPlainObject(value) && Object.keys(value).length === 0) continue;
    throw unsupported(`The '${field}' option`);
  }
}

export function requireDatabase(ctx: CommandContext, dbName: string): void {
  if (ctx.dbName !== dbName) {
    throw new CommandError(
      ErrorCode.Unauthorized,
      `${ctx.commandName} may only be run against the ${dbName} database.`,
    );
  }
}

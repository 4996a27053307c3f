import { MingoError } from 'mingo/util';

/** The subset of mongod's error codes this server can answer, with mongod's codeNames. */
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  MaxTimeMSExpired: 50,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  EmptyFieldName: 56,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CommandNotSupported: 115,
  ExceededMemoryLimit: 146,
  InvalidPipelineOperator: 168,
  APIVersionError: 322,
  APIStrictError: 323,
  CannotIndexParallelArrays: 171,
  ConversionFailure: 241,
  QueryExceededMemoryLimitNoDiskUseAllowed: 292,
  UnsupportedOpQueryCommand: 352,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  UnrecognizedPipelineStage: 40324,
} as const;

const codeNames = new Map<number, string>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name] as const),
);
// mongod names assertion-site codes after their number.
codeNames.set(ErrorCode.UnrecognizedPipelineStage, 'Location40324');

function codeNameOf(code: number): string {
  return codeNames.get(code) ?? `Location${code}`;
}

/**
 * An error that becomes `{ ok: 0, errmsg, code, codeName, ...extra }` on the wire (or one entry
 * of `writeErrors`). `extra` carries fields such as `keyPattern`/`keyValue` for duplicates.
 */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.codeName = codeNameOf(code);
    this.extra = extra;
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

export function unsupported(what: string): CommandError {
  return new CommandError(
    ErrorCode.CommandNotSupported,
    `${what} is not supported by the embedded MongoDB-compatible server`,
  );
}

/**
 * Long and Decimal128 values reaching an operator that would compute with them as if they were
 * something else (mingo's operators know only JS numbers), or that needs Decimal128 arithmetic.
 */
export function wideNumberRefusal(where: string): CommandError {
  return unsupported(`${where} with Long or Decimal128 values`);
}

export function decimalArithmeticRefusal(where: string): CommandError {
  return unsupported(`Decimal128 arithmetic (${where})`);
}

export function badValue(message: string): CommandError {
  return new CommandError(ErrorCode.BadValue, message);
}

export function failedToParse(message: string): CommandError {
  return new CommandError(ErrorCode.FailedToParse, message);
}

export function typeMismatch(message: string): CommandError {
  return new CommandError(ErrorCode.TypeMismatch, message);
}

/**
 * mingo reports problems as plain messages; mongod's clients branch on codes, so the messages
 * users can provoke are translated to mongod's code and wording. Anything unrecognised keeps
 * mingo's text under BadValue, and non-mingo exceptions become InternalError.
 */
export function toCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  if (err instanceof MingoError) return fromMingoMessage(err.message);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'BSONError') return badValue(message);
  return new CommandError(ErrorCode.InternalError, `internal error: ${message}`);
}

function fromMingoMessage(message: string): CommandError {
  let m = /^unknown query operator (\S+)/.exec(message);
  if (m) return badValue(`unknown operator: ${m[1]}`);
  m = /^unknown top level operator: (\$\w+)/.exec(message);
  if (m) return badValue(`unknown top level operator: ${m[1]}`);
  if (/would modify the immutable field '_id'/.test(message)) {
    return new CommandError(ErrorCode.ImmutableField, message);
  }
  m = /updating the path '([^']*)' would create a conflict at '([^']*)'/.exec(message);
  if (m) {
    return new CommandError(
      ErrorCode.ConflictingUpdateOperators,
      `Updating the path '${m[1]}' would create a conflict at '${m[2]}'`,
    );
  }
  if (/positional operator found no match|include the array field for '\.\$'/.test(message)) {
    return badValue('The positional operator did not find the match needed from the query.');
  }
  // A standalone has no cluster time: mongod 7 answers it differently across versions.
  if (/Use of undefined variable: CLUSTER_TIME\b/.test(message)) {
    return unsupported('The $$CLUSTER_TIME variable');
  }
  m = /unregistered pipeline operator (\$\w+)/.exec(message);
  if (m) {
    return new CommandError(
      ErrorCode.UnrecognizedPipelineStage,
      `Unrecognized pipeline stage name: '${m[1]}'`,
    );
  }
  m = /accumulator '(\$\w+)' is not registered/.exec(message);
  if (m) {
    return new CommandError(ErrorCode.InvalidPipelineOperator, `Unrecognized expression '${m[1]}'`);
  }
  return badValue(message);
}

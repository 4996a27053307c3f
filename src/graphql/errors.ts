import { type ApolloServerPlugin } from '@apollo/server';
import { type GraphQLFormattedError } from 'graphql';
import { type Logger } from 'pino';
import { ErrorCode, INTERNAL_MESSAGE, PublicError, REQUEST_ERROR_CODES } from '../common/errors';
import { type Context } from '../context';
import { summarize } from '../http/request-logging';

function originalOf(error: unknown): unknown {
  let current = error;
  while (
    current &&
    typeof current === 'object' &&
    'originalError' in current &&
    current.originalError
  ) {
    current = current.originalError;
  }
  return current;
}

/** True for errors the client caused or is meant to see: our own and Apollo's request errors. */
export function isExpectedError(error: unknown, code: unknown): boolean {
  if (error instanceof PublicError || originalOf(error) instanceof PublicError) return true;
  return typeof code === 'string' && REQUEST_ERROR_CODES.has(code);
}

/** graphql-js's "Did you mean …?" hints name fields, arguments and enum values of the schema. */
const SUGGESTION = / ?Did you mean .+\?$/s;

/**
 * Everything that is not one of the contract's errors becomes INTERNAL_SERVER_ERROR. In
 * production its text is masked (no driver, mongoose or stack details reach a client); the
 * full error is in the log under the request id that the response carries.
 */
export function createFormatError(isProduction: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (isExpectedError(error, formatted.extensions?.code)) {
      // Apollo hides suggestions in validation errors only; variable errors carry them too.
      if (!isProduction || !SUGGESTION.test(formatted.message)) return formatted;
      return { ...formatted, message: formatted.message.replace(SUGGESTION, '') };
    }
    return {
      message: isProduction ? INTERNAL_MESSAGE : formatted.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * Logs unexpected errors with the request id and puts that id into the response; hands the
 * operation name, user and outcome to the request log line.
 */
export function errorReportingPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (!isExpectedError(error, error.extensions?.code)) {
              logger.error(
                {
                  err: originalOf(error),
                  requestId: contextValue.meta.requestId,
                  operationName,
                  path: error.path,
                },
                'unexpected error in GraphQL request',
              );
            }
          }
        },
        async willSendResponse({ response, contextValue, operationName }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          summarize(contextValue.res, {
            operationName,
            userId: contextValue.user?.id,
            // A refused token names why (TOKEN_EXPIRED, INVALID_TOKEN) rather than only the code.
            outcome: errors?.[0]
              ? String(errors[0].extensions?.reason ?? errors[0].extensions?.code ?? 'ERROR')
              : 'OK',
          });
          for (const error of errors ?? []) {
            if (error.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
              (error.extensions as Record<string, unknown>).requestId = contextValue.meta.requestId;
            }
          }
        },
      };
    },
  };
}

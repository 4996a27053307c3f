import { HeaderMap } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, type GraphQLErrorOptions } from 'graphql';

/**
 * Every `extensions.code` a client can see, in one place: the contract's own codes, the HTTP
 * layer's, and Apollo Server's request-error codes (reused from `@apollo/server/errors`, not
 * re-typed).
 */
export const ErrorCode = {
  ...ApolloServerErrorCode,
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  EMAIL_NOT_VERIFIED: 'EMAIL_NOT_VERIFIED',
  /** The HTTP body was over the size limit (413), answered before GraphQL runs. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Apollo's codes for malformed requests: the client caused them, and their messages are safe. */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.BAD_REQUEST,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
]);

/** Why a presented access token was refused (`extensions.reason`). */
export const TokenFailureReason = {
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  INVALID_TOKEN: 'INVALID_TOKEN',
  INVALID_REQUEST: 'INVALID_REQUEST',
} as const;
export type TokenFailureReason = (typeof TokenFailureReason)[keyof typeof TokenFailureReason];

/**
 * Base of every error a client may see with its own message. Anything else that escapes a
 * resolver is treated as unexpected and masked by the error formatter.
 */
export abstract class PublicError extends GraphQLError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    // An expected answer, never logged with a trace, so none is captured: with source maps on,
    // formatting one costs ~100 µs, and graphql-js reads `stack` when it wraps a resolver's
    // error (a third of a refused call's CPU time).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export class UnauthenticatedError extends PublicError {
  constructor(message = 'You must be signed in to do this') {
    super(message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
  }
}

export const INVALID_CREDENTIALS_MESSAGE = 'Invalid email or password';

export class InvalidCredentialsError extends PublicError {
  constructor() {
    super(INVALID_CREDENTIALS_MESSAGE, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
  }
}

export class InvalidRefreshTokenError extends PublicError {
  constructor() {
    super('The refresh token is invalid, expired or revoked', {
      extensions: { code: ErrorCode.UNAUTHENTICATED },
    });
  }
}

const TOKEN_FAILURE_MESSAGES: Record<TokenFailureReason, string> = {
  TOKEN_EXPIRED: 'The access token has expired',
  INVALID_TOKEN: 'The access token is invalid',
  INVALID_REQUEST: 'The request carries more than one Authorization header',
};

/**
 * A bad Authorization header refuses the whole request (RFC 6750 §3.1). Thrown from the
 * context function, where Apollo answers 500 unless `extensions.http` says otherwise.
 */
export class TokenRejectedError extends PublicError {
  constructor(readonly reason: TokenFailureReason) {
    const oauthError =
      reason === TokenFailureReason.INVALID_REQUEST ? 'invalid_request' : 'invalid_token';
    const description = TOKEN_FAILURE_MESSAGES[reason];
    super(description, {
      extensions: {
        code: ErrorCode.UNAUTHENTICATED,
        reason,
        http: {
          status: reason === TokenFailureReason.INVALID_REQUEST ? 400 : 401,
          headers: new HeaderMap([
            [
              'www-authenticate',
              `Bearer error="${oauthError}", error_description="${description}"`,
            ],
          ]),
        },
      },
    });
  }
}

export class ForbiddenError extends PublicError {
  constructor(message = 'You are not allowed to do this') {
    super(message, { extensions: { code: ErrorCode.FORBIDDEN } });
  }
}

export class NotFoundError extends PublicError {
  constructor(what: 'Todo' | 'User' | 'Session') {
    super(`${what} not found`, { extensions: { code: ErrorCode.NOT_FOUND } });
  }
}

export class BadUserInputError extends PublicError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, field } });
  }
}

/** EMAIL_VERIFICATION=required and the account's address is not verified yet. */
export class EmailNotVerifiedError extends PublicError {
  constructor(message = 'Confirm your email address first: follow the link in the mail we sent') {
    super(message, { extensions: { code: ErrorCode.EMAIL_NOT_VERIFIED } });
  }
}

/** One answer for an emailed token that is unknown, used, expired or forged. */
export const INVALID_EMAIL_TOKEN_MESSAGE = 'This link is invalid or has expired';

export class InvalidEmailTokenError extends BadUserInputError {
  constructor() {
    super(INVALID_EMAIL_TOKEN_MESSAGE, 'token');
  }
}

export class TooManyRequestsError extends PublicError {
  constructor(retryAfterSeconds: number, message = 'Too many failed attempts; try again later') {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(message, {
      extensions: {
        code: ErrorCode.TOO_MANY_REQUESTS,
        retryAfter: seconds,
        http: { status: 429, headers: new HeaderMap([['retry-after', String(seconds)]]) },
      },
    });
  }
}

export const INTERNAL_MESSAGE = 'Internal server error';

/** An unexpected failure, already logged under `requestId`; the client sees nothing else. */
export class InternalError extends PublicError {
  constructor(requestId: string) {
    super(INTERNAL_MESSAGE, {
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId, http: { status: 500 } },
    });
  }
}

/** Why the server closed a subscription socket (the close frame's reason). */
export const SocketCloseReason = {
  ...TokenFailureReason,
  /** The session or the account's credentials were revoked while the socket was open. */
  REVOKED: 'REVOKED',
} as const;
export type SocketCloseReason = (typeof SocketCloseReason)[keyof typeof SocketCloseReason];

/** 4401 when a fresh token would do (it expired), 4403 otherwise (graphql-ws's codes). */
export const socketCloseCode = (reason: SocketCloseReason): number =>
  reason === SocketCloseReason.TOKEN_EXPIRED ? 4401 : 4403;

/** A socket asked for more concurrent operations than WS_MAX_SUBSCRIPTIONS. */
export class TooManySubscriptionsError extends PublicError {
  constructor(max: number) {
    super(`At most ${max} active subscriptions per connection`, {
      extensions: { code: ErrorCode.TOO_MANY_REQUESTS },
    });
  }
}

/** Queries and mutations go over HTTP, where its protections (CSRF, cookies, limits) apply. */
export class SubscriptionsOnlyError extends PublicError {
  constructor() {
    super('Only subscriptions are served over WebSocket; send queries and mutations over HTTP', {
      extensions: { code: ErrorCode.BAD_REQUEST },
    });
  }
}

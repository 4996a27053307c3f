import { type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import { type ExpressContextFunctionArgument } from '@as-integrations/express5';
import type DataLoader from 'dataloader';
import { type Request, type Response } from 'express';
import { type Connection } from './common/pagination';
import { type RequestMeta } from './common/request-meta';
import { authenticate } from './auth/authenticate';
import { isPublicOperation } from './auth/public-operations';
import { InternalError, PublicError, TokenRejectedError } from './common/errors';
import { readDeviceCookie } from './auth/device-cookie';
import { summarize } from './http/request-logging';
import { type Services } from './services';
import { type OwnerPageKey } from './todos/todo.service';
import { type TodoType } from './todos/todo.type';
import { type Principal } from './users/principal';

/** Per-request batching; each loader is built on first use, so most requests build none. */
export class Loaders {
  private usersLoader?: DataLoader<string, Principal | undefined>;
  private ownerPagesLoader?: DataLoader<OwnerPageKey, Connection<TodoType>, string>;

  constructor(private readonly services: Services) {}

  get users(): DataLoader<string, Principal | undefined> {
    return (this.usersLoader ??= this.services.users.createLoader());
  }

  get todoPagesByOwner(): DataLoader<OwnerPageKey, Connection<TodoType>, string> {
    return (this.ownerPagesLoader ??= this.services.todos.createOwnerPageLoader());
  }
}

export interface Context {
  /** The verified caller; undefined for an anonymous request. */
  user: Principal | undefined;
  sessionId: string | undefined;
  meta: RequestMeta;
  services: Services;
  loaders: Loaders;
  req: Request;
  res: Response;
}

/** The per-request context; who is calling is decided later, by `authenticationPlugin`. */
export function createContextFunction(services: Services) {
  return async ({ req, res }: ExpressContextFunctionArgument): Promise<Context> => ({
    user: undefined,
    sessionId: undefined,
    meta: {
      requestId: String(req.id),
      ip: req.ip,
      userAgent: req.headers['user-agent'],
      clientRequestId: req.clientRequestId,
      deviceToken: readDeviceCookie(req),
    },
    services,
    loaders: new Loaders(services),
    req,
    res,
  });
}

/**
 * Reads the Authorization header once the operation is known, before any resolver runs. An
 * operation made only of public fields (login, refreshToken, logout …) ignores the header, so a
 * stale token cannot block the very calls that replace it, nor grant anything there. Any other
 * operation with a bad header is refused as a whole (the error carries its 401 and
 * WWW-Authenticate), so no resolver ever sees it.
 */
const authenticating: GraphQLRequestListener<Context> = {
  async didResolveOperation({ operation, contextValue }) {
    if (isPublicOperation(operation)) return;
    const { req, res, services, meta } = contextValue;
    try {
      const caller = await authenticate(req, services.tokens, services.principals);
      contextValue.user = caller?.user;
      contextValue.sessionId = caller?.sessionId;
    } catch (error) {
      if (error instanceof TokenRejectedError) summarize(res, { outcome: error.reason });
      if (error instanceof PublicError) throw error;
      services.logger.error(
        { err: error, requestId: meta.requestId },
        'authentication failed unexpectedly',
      );
      throw new InternalError(meta.requestId);
    }
  },
};

export const authenticationPlugin: ApolloServerPlugin<Context> = {
  requestDidStart: async () => authenticating,
};

import { type ExpressContextFunctionArgument } from '@as-integrations/express5';
import type DataLoader from 'dataloader';
import { type Request, type Response } from 'express';
import { type Connection } from './common/pagination';
import { type RequestMeta } from './common/request-meta';
import { type Caller, authenticate } from './auth/authenticate';
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

/**
 * Runs before any resolver: a request with a bad Authorization header is refused here as a
 * whole (the error carries its HTTP status), so no resolver ever sees it.
 */
export function createContextFunction(services: Services) {
  return async ({ req, res }: ExpressContextFunctionArgument): Promise<Context> => {
    const requestId = String(req.id);
    let caller: Caller | undefined;
    try {
      caller = await authenticate(req, services.tokens, services.principals);
    } catch (error) {
      if (error instanceof TokenRejectedError) summarize(res, { outcome: error.reason });
      if (error instanceof PublicError) throw error;
      services.logger.error({ err: error, requestId }, 'authentication failed unexpectedly');
      throw new InternalError(requestId);
    }
    return {
      user: caller?.user,
      sessionId: caller?.sessionId,
      meta: {
        requestId,
        ip: req.ip,
        userAgent: req.headers['user-agent'],
        clientRequestId: req.clientRequestId,
        deviceToken: readDeviceCookie(req),
      },
      services,
      loaders: new Loaders(services),
      req,
      res,
    };
  };
}

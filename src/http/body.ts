import { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { ErrorCode } from '../common/errors';

/** Answers an HTTP-level refusal (before GraphQL runs) in the GraphQL error shape. */
export function sendError(
  res: Response,
  status: number,
  message: string,
  extensions: { code: ErrorCode; [key: string]: unknown },
): void {
  res.status(status).json({ errors: [{ message, extensions }] });
}

/** Answers body-parser failures (too large, malformed JSON) in the GraphQL error shape. */
export const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const status = typeof error?.status === 'number' ? error.status : undefined;
  if (status === undefined || status >= 500 || res.headersSent) return next(error);
  const message = status === 413 ? 'Request body too large' : 'Malformed request body';
  const code = status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.BAD_REQUEST;
  sendError(res, status, message, { code });
};

/**
 * Express 5 leaves `req.body` unset for a non-JSON content type, which Apollo's middleware
 * answers with a 500. Defining it lets Apollo decide: 400 from CSRF prevention or its own
 * body checks.
 */
export const ensureBody: RequestHandler = (req, _res, next) => {
  if (!Object.hasOwn(req, 'body')) req.body = undefined;
  next();
};

/** Deeper than any input this schema takes; JSON nested deeper is refused before GraphQL. */
export const MAX_BODY_DEPTH = 32;

/** True when `value` nests objects or arrays deeper than `max` (iterative: no stack to blow). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Refuses bodies nested deeper than MAX_BODY_DEPTH (say `variables` 10,000 levels deep in
 * 20 KB): graphql-js and JSON.stringify walk them recursively and would overflow the stack.
 */
export const boundedDepth: RequestHandler = (req, res, next) => {
  if (!nestedDeeperThan(req.body, MAX_BODY_DEPTH)) return next();
  sendError(res, 400, `Request body nested deeper than ${MAX_BODY_DEPTH} levels`, {
    code: ErrorCode.BAD_REQUEST,
  });
};

/**
 * Runs middleware one after the other as one router layer. Express 5's router matches the
 * path again for every layer it dispatches; middleware that always runs together need not
 * pay that on every request.
 */
export function inSequence(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (error?: unknown): void => {
      const handler = handlers[index++];
      if (error !== undefined || !handler) return next(error);
      const result: unknown = handler(req, res, step);
      if (result instanceof Promise) result.catch(next);
    };
    step();
  };
}

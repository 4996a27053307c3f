import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server } from 'node:http';
import { type ApolloServerPlugin } from '@apollo/server';
import {
  type ExecutionArgs,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type ValidationRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { type Context as SocketState, type Disposable } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { type Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Config } from '../config';
import { Loaders } from '../context';
import { type Caller, authenticateAuthorization } from '../auth/authenticate';
import {
  ErrorCode,
  SocketCloseReason,
  SubscriptionsOnlyError,
  TokenRejectedError,
  TooManySubscriptionsError,
  socketCloseCode,
} from '../common/errors';
import { addressKey } from '../common/client-address';
import { createFormatError, isExpectedError } from '../graphql/errors';
import { type queryLimits } from '../graphql/limits';
import { drainHttpServer } from '../http/drain';
import { type Services } from '../services';
import { LiveSockets } from './live-sockets';
import { type OperationContext } from './operation-context';

/** The keys `connectionParams` may carry the access token under. */
const AUTHORIZATION_KEYS = ['Authorization', 'authorization'] as const;
/** How long closing sockets get to answer the close handshake at shutdown. */
const CLOSE_GRACE_MS = 2000;
/** When a client refused for holding too many sockets may try again. */
const SOCKET_RETRY_AFTER_SECONDS = 30;

type Limits = ReturnType<typeof queryLimits>;
type Connection = SocketState<Record<string, unknown> | undefined, Extra>;

interface Authenticated {
  /** The Authorization value(s) presented at connect, checked again for each operation. */
  presented: readonly unknown[];
  caller: Caller | undefined;
  unwatch?: () => void;
}

const closeWith = (socket: WebSocket, reason: SocketCloseReason) =>
  socket.close(socketCloseCode(reason), reason);

/** Apollo's codes for a document that does not parse or validate, as HTTP answers them. */
const requestError = (error: GraphQLError, code: string) =>
  new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code },
  });

/**
 * GraphQL subscriptions over WebSocket (graphql-ws, the `graphql-transport-ws` protocol) on
 * the API's HTTP server at /graphql. The caller is authenticated at `connection_init` by the
 * same function as an HTTP request and again for every operation; the socket then ends at
 * the token's expiry and on revocation (`LiveSockets`). Only subscriptions are served: the
 * HTTP path keeps its protections (CSRF, cookies, rate limits) for everything else.
 */
export class SubscriptionServer {
  private readonly live: LiveSockets;
  private readonly validationRules: readonly ValidationRule[];
  private readonly formatError: ReturnType<typeof createFormatError>;
  private readonly sockets = new WeakMap<WebSocket, Authenticated>();
  private readonly attached: Array<{ http: Server; wss: WebSocketServer; ws: Disposable }> = [];
  private disposed: Promise<void> | undefined;
  /** Each socket's client address, told once from its upgrade request. */
  private readonly addresses = new WeakMap<IncomingMessage, string | undefined>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly services: Services,
    private readonly limits: Limits,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.live = new LiveSockets(
      services.sessions,
      Math.max(500, config.tokens.revalidateSeconds * 1000),
      config.jwt.clockToleranceSeconds,
      logger,
    );
    this.validationRules = [
      ...specifiedRules,
      ...limits.validationRules,
      ...(config.isProduction ? [NoSchemaIntrospectionCustomRule] : []),
    ];
    this.formatError = createFormatError(config.isProduction);
  }

  /** Open sockets being watched for expiry and revocation. */
  get authenticatedSockets(): number {
    return this.live.size;
  }

  /**
   * Serves subscriptions on `http` (path /graphql); `drainPlugin` closes both at shutdown.
   * `clientIp` tells a socket's client address from its upgrade request, by the same rule as
   * HTTP requests (TRUST_PROXY).
   */
  attach(http: Server, clientIp: (request: IncomingMessage) => string | undefined): void {
    const { maxMessageBytes, initTimeoutSeconds, maxSocketsPerAddress } = this.config.subscriptions;
    const open = new Map<string, number>();
    const wss = new WebSocketServer({
      server: http,
      path: '/graphql',
      maxPayload: maxMessageBytes,
      // One address may hold only so many sockets: each costs memory and a place in every
      // event's fan-out for as long as it stays open. The callback form, called at once,
      // lets the refusal be a 429; the accepted handshake completes within the same call, so
      // sockets counted on 'connection' cannot overshoot.
      verifyClient: ({ req }, done) => {
        const ip = clientIp(req);
        if ((open.get(addressKey(ip)) ?? 0) >= maxSocketsPerAddress) {
          this.logger.warn({ ip }, 'websocket refused: too many sockets from one address');
          done(false, 429, 'Too Many Requests', {
            'Retry-After': String(SOCKET_RETRY_AFTER_SECONDS),
          });
          return;
        }
        this.addresses.set(req, ip);
        done(true);
      },
    });
    wss.on('connection', (socket, request) => {
      const key = addressKey(this.addresses.get(request));
      open.set(key, (open.get(key) ?? 0) + 1);
      socket.once('close', () => {
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      });
    });
    const ws = useServer<Record<string, unknown> | undefined>(
      {
        connectionInitWaitTimeout: initTimeoutSeconds * 1000,
        isProd: this.config.isProduction,
        onConnect: (ctx) => this.onConnect(ctx),
        onClose: (ctx) => this.sockets.get(ctx.extra.socket)?.unwatch?.(),
        onSubscribe: (ctx, _id, payload) => this.onSubscribe(ctx, payload),
        onError: (_ctx, _id, _payload, errors) => this.format(errors),
        onNext: (_ctx, _id, _payload, _args, result) =>
          result.errors ? { ...result, errors: this.format(result.errors) } : undefined,
      },
      wss,
    );
    this.attached.push({ http, wss, ws });
  }

  /**
   * Apollo Server's drain hook: stop accepting, close every socket (1001 Going away) and let
   * in-flight HTTP requests finish, as Apollo's docs pair ApolloServerPluginDrainHttpServer
   * with the socket server's dispose.
   */
  drainPlugin(): ApolloServerPlugin {
    return {
      serverWillStart: async () => ({ drainServer: () => this.dispose() }),
    };
  }

  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      this.live.stop();
      this.services.todoEvents.stop();
      await Promise.all(
        this.attached.map(async ({ http, wss, ws }) => {
          // A client that never answers the close handshake must not hold up the shutdown.
          const force = setTimeout(() => {
            for (const client of wss.clients) client.terminate();
          }, CLOSE_GRACE_MS).unref();
          await Promise.all([ws.dispose(), drainHttpServer(http)]);
          clearTimeout(force);
        }),
      );
    })();
    return this.disposed;
  }

  private async onConnect(ctx: Connection): Promise<boolean> {
    const { socket } = ctx.extra;
    const params = ctx.connectionParams ?? {};
    const presented = AUTHORIZATION_KEYS.filter((key) => Object.hasOwn(params, key)).map(
      (key) => params[key],
    );
    let caller: Caller | undefined;
    try {
      caller = await authenticateAuthorization(
        presented,
        this.services.tokens,
        this.services.principals,
      );
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      closeWith(socket, error.reason);
      return false;
    }
    const state: Authenticated = { presented, caller };
    this.sockets.set(socket, state);
    if (!caller) return true;

    const watched = {
      userId: caller.user.id,
      sessionId: caller.sessionId,
      credentialVersion: caller.user.credentialVersion,
      role: caller.user.role,
      expiresAt: caller.expiresAt,
      close: (reason: SocketCloseReason) => closeWith(socket, reason),
    };
    // Access tokens outlive a logout of their own session; a socket must not.
    if (!(await this.live.isCurrent(watched))) {
      closeWith(socket, SocketCloseReason.REVOKED);
      return false;
    }
    if (socket.readyState !== socket.OPEN) return false;
    state.unwatch = this.live.add(watched);
    return true;
  }

  private async onSubscribe(
    ctx: Connection,
    payload: { query: string; operationName?: string | null; variables?: unknown },
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const { socket, request } = ctx.extra;
    const max = this.config.subscriptions.maxPerSocket;
    // The operation being subscribed is already counted.
    if (Object.keys(ctx.subscriptions).length > max) return [new TooManySubscriptionsError(max)];

    // The caller once more: the token may have expired or its credentials moved on since
    // connect, and the socket's timers may not have fired yet.
    const state = this.sockets.get(socket);
    let caller: Caller | undefined;
    try {
      caller = await authenticateAuthorization(
        state?.presented ?? [],
        this.services.tokens,
        this.services.principals,
      );
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      closeWith(socket, error.reason);
      return [error];
    }

    let document;
    try {
      document = parse(payload.query, { maxTokens: this.config.graphql.maxTokens });
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [requestError(error, ErrorCode.GRAPHQL_PARSE_FAILED)];
    }
    const invalid = validate(this.schema, document, this.validationRules);
    if (invalid.length > 0) {
      return invalid.map((error) => requestError(error, ErrorCode.GRAPHQL_VALIDATION_FAILED));
    }
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) {
      return [
        new GraphQLError('Unable to identify the operation', {
          extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
        }),
      ];
    }
    if (operation.operation !== 'subscription') return [new SubscriptionsOnlyError()];
    const variables =
      payload.variables && typeof payload.variables === 'object'
        ? (payload.variables as Record<string, unknown>)
        : {};
    try {
      this.limits.checkCost({
        document,
        operation,
        operationName: payload.operationName,
        variables,
      });
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }

    return {
      schema: this.schema,
      document,
      operationName: payload.operationName,
      variableValues: variables,
      contextValue: this.operationContext(caller, request),
    };
  }

  private operationContext(caller: Caller | undefined, request: IncomingMessage): OperationContext {
    return {
      user: caller?.user,
      sessionId: caller?.sessionId,
      meta: {
        requestId: randomUUID(),
        ip: this.addresses.get(request),
        userAgent: request.headers['user-agent'],
      },
      services: this.services,
      loaders: new Loaders(this.services),
    };
  }

  /** The HTTP error formatting, and the log line for anything unexpected. */
  private format(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return errors.map((error) => {
      if (!isExpectedError(error, error.extensions?.code)) {
        this.logger.error(
          { err: error.originalError ?? error, path: error.path },
          'unexpected error in subscription',
        );
      }
      return this.formatError(error.toJSON(), error);
    });
  }
}

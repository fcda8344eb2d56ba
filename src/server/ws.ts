/**
 * graphql-ws on the HTTP server's port and path, running yoga's envelop pipeline: the
 * token checked at connection init and again for every operation, a guard against
 * server-only message types, a cap on operations per connection, and the accounting that
 * metrics and a graceful stop read.
 */
import type { IncomingMessage, Server } from 'node:http';
import { getOperationAST, type ExecutionArgs, type GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerConfig } from '../config.js';
import { principalFor } from '../graphql/auth.js';
import type { Principal } from '../graphql/context.js';
import { missingOperation } from '../graphql/http.js';
import { TaskwireError, type TaskStore } from '../store/index.js';
import type { ErrorReporting } from './errors.js';
import type { Yoga } from './yoga.js';

export interface WsParts {
  config: Pick<ServerConfig, 'maxBodyBytes' | 'maxSubscriptionsPerConnection'>;
  server: Server;
  yoga: Yoga;
  store: TaskStore;
  errors: ErrorReporting;
  /** True once the server is stopping: new operations are refused (UNAVAILABLE). */
  stopping(): boolean;
}

export interface WsServer {
  wss: WebSocketServer;
  /** Operations running on all connections (subscriptions included). */
  activeOperations(): number;
  /** Queries and mutations executing now: a graceful stop lets them answer. */
  executing(): number;
}

interface WsExtra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  principal?: Principal;
  /** The Authorization value given at connection init. */
  authorization?: unknown;
  /** This connection's operations in flight (for the per-connection cap), each with the
   * controller that tells its resolvers the client has gone. */
  active?: Map<string, AbortController>;
  /** A number for this connection, in the request ids of its operations. */
  connectionId?: number;
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;
  subscribe: (args: ExecutionArgs) => ReturnType<NonNullable<Parameters<typeof useServer>[0]['subscribe']>>;
}

const SERVER_ONLY_TYPE = /"(?:next|error|connection_ack)"/;

/**
 * Answers sent in the same turn leave in one write: the socket is corked at the first
 * send and uncorked once the turn's callbacks have run (a group commit answers many
 * operations at once; one syscall per answer was an eighth of the server's time).
 */
function coalesceWrites(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  if (!raw) return;
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  socket.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      raw.cork();
      process.nextTick(uncork);
    }
    send(...args);
  }) as WebSocket['send'];
}

/** Why a WebSocket operation's signal was aborted: it ended (completed by either side). */
const OPERATION_ENDED = Object.freeze(new Error('the operation ended'));

export function attachWebSockets({ config, server, yoga, store, errors, stopping }: WsParts): WsServer {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: config.maxBodyBytes });
  let activeOperations = 0;
  let connections = 0;
  let executing = 0;
  const refuse = (code: TaskwireError['code'], message: string) => [errors.mask(new TaskwireError(code, message), '')];
  const endOperation = (extra: WsExtra, id: string) => {
    const controller = extra.active?.get(id);
    if (!controller) return;
    extra.active!.delete(id);
    activeOperations--;
    // With a reason: abort() without one builds a DOMException (with a stack) for every
    // finished operation, which showed in the WebSocket profiles.
    controller.abort(OPERATION_ENDED);
  };

  // graphql-ws answers a client frame of a server-only type (next, error, connection_ack)
  // with 4500, an internal error; it is the client's protocol error. This listener is
  // registered first, so its 4400 reaches the client before graphql-ws reacts.
  wss.on('connection', (socket: WebSocket) => {
    coalesceWrites(socket);
    socket.on('message', (data) => {
      const text = String(data);
      // Parsing every frame twice cost more than the check: only a frame that names one of
      // these types anywhere (rare: a payload may) is parsed to look at its own type.
      if (!SERVER_ONLY_TYPE.test(text)) return;
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        return; // graphql-ws closes unparseable frames with 4400 itself
      }
      if (type === 'next' || type === 'error' || type === 'connection_ack') {
        socket.close(4400, `a client may not send ${type} messages`);
      }
    });
  });

  useServer<Record<string, unknown>, WsExtra>(
    {
      connectionInitWaitTimeout: 10_000,
      // A bad or missing token (when tokens exist) closes the socket with 4403 Forbidden.
      onConnect: async (ctx) => {
        try {
          ctx.extra.authorization =
            ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
          ctx.extra.principal = await principalFor(store, ctx.extra.authorization);
          ctx.extra.active = new Map();
          return true;
        } catch {
          return false;
        }
      },
      onComplete: (ctx, id) => endOperation(ctx.extra, id),
      onError: (ctx, id) => endOperation(ctx.extra, id),
      onClose: (ctx) => {
        for (const id of [...(ctx.extra.active?.keys() ?? [])]) endOperation(ctx.extra, id);
      },
      // Executions (queries and mutations) in flight are counted, so that a graceful stop
      // can let them answer before it closes the sockets.
      execute: (args: ExecutionArgs) => {
        executing++;
        return Promise.resolve((args.rootValue as EnvelopedRoot).execute(args)).finally(() => executing--);
      },
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, id, payload) => {
        // The token is checked again for every operation (a cached lookup), so a revoked
        // token stops working on sockets opened before the revocation too.
        try {
          ctx.extra.principal = await principalFor(store, ctx.extra.authorization);
        } catch {
          ctx.extra.socket.close(4403, 'Forbidden');
          return refuse('UNAUTHENTICATED', 'the token is unknown or revoked');
        }
        if (stopping()) return refuse('UNAVAILABLE', 'the server is shutting down; retry on another connection');
        const active = (ctx.extra.active ??= new Map());
        if (active.size >= config.maxSubscriptionsPerConnection) {
          return refuse('VALIDATION', `at most ${config.maxSubscriptionsPerConnection} operations at once on one connection`);
        }
        const controller = new AbortController();
        active.set(id, controller);
        activeOperations++;
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          principal: ctx.extra.principal,
          signal: controller.signal,
          reqId: `ws:${(ctx.extra.connectionId ??= ++connections)}/${id}`,
        });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (e) {
          return [errors.mask(e, 'Unexpected error.')];
        }
        if (!getOperationAST(document, payload.operationName)) return refuse('VALIDATION', missingOperation(payload.operationName));
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        let found: readonly GraphQLError[];
        try {
          found = enveloped.validate(args.schema, args.document);
        } catch (e) {
          found = [e as GraphQLError]; // graphql-armor throws when a limit is exceeded
        }
        if (found.length) return found.map((e) => errors.mask(e, 'Unexpected error.'));
        return args;
      },
    },
    wss,
  );

  return { wss, activeOperations: () => activeOperations, executing: () => executing };
}

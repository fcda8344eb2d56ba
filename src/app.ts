/**
 * The server: graphql-yoga on node:http, graphql-ws on the same port and path running
 * the same envelop pipeline, the sweeper on a timer, and a graceful stop.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, getOperationAST, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerConfig } from './config.js';
import { EventBus } from './events/bus.js';
import { serveDashboard } from './dashboard/serve.js';
import { ClaimWaiters } from './events/claim-waiters.js';
import { principalFor } from './graphql/auth.js';
import type { Context, Principal } from './graphql/context.js';
import { GRAPHIQL_EXAMPLE } from './graphql/graphiql-example.js';
import { handleJsonPost, isPlainJsonPost, missingOperation, unsupportedMediaTypePlugin } from './graphql/http.js';
import { useJit } from './graphql/jit.js';
import { schema } from './graphql/schema.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { DEFAULTS as ENGINE_DEFAULTS, SqliteTaskStore, TaskwireError, type TaskStore } from './store/index.js';
import { UPKEEP_DEFAULTS, Upkeep, type UpkeepOptions } from './upkeep.js';

export interface AppOptions extends Partial<ServerConfig> {
  /** Use this store instead of opening `dbPath` (tests). */
  store?: SqliteTaskStore;
  /** Injected clock for the store (tests). */
  now?: () => number;
  /** JSON log lines go here instead of stdout (tests pass () => {}). */
  log?: (line: string) => void;
  logger?: Logger;
  upkeep?: Partial<UpkeepOptions>;
}

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  store: TaskStore & { bus: EventBus };
  httpServer: Server;
  wsServer: WebSocketServer;
  logger: Logger;
  /** Listens; resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>;
  /** Graceful stop: no new work, in-flight requests finish, sockets close with 1001, the db closes. */
  stop(): Promise<void>;
}

const DEFAULTS: ServerConfig = {
  port: 4000,
  host: '127.0.0.1',
  dbPath: ENGINE_DEFAULTS.dbPath,
  synchronous: 'normal',
  leaseSeconds: ENGINE_DEFAULTS.leaseSeconds,
  sweepIntervalMs: 1000,
  staleWorkerAfterMs: ENGINE_DEFAULTS.staleWorkerAfterMs,
  maxWaitSeconds: 60,
  maxPayloadBytes: ENGINE_DEFAULTS.maxPayloadBytes,
  maxBodyBytes: 8 * 1024 * 1024,
  subscriptionBuffer: 1000,
  maxSubscriptionsPerConnection: 100,
  introspection: true,
  graphiql: true,
  maxDepth: 12,
  allowOpen: false,
  logLevel: 'info',
  retentionMs: ENGINE_DEFAULTS.retentionMs,
};

const EXPECTED_CODES = new Set([
  'NOT_FOUND',
  'VALIDATION',
  'INVALID_STATE',
  'LEASE_LOST',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'BUSY',
  'STORAGE',
  'SLOW_CONSUMER',
  'SCHEMA',
  'UNAVAILABLE',
]);

const MASKED_CODES = new Set([...EXPECTED_CODES, 'INTERNAL_SERVER_ERROR']);

/** The TaskwireError behind a GraphQL error, however deeply it was wrapped. */
function expectedError(error: unknown): TaskwireError | null {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof TaskwireError) return EXPECTED_CODES.has(e.code) ? e : null;
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Whether graphql-js made this error from the request itself: no foreign error behind it. */
function isRequestError(error: GraphQLError): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const next = (e as GraphQLError).originalError;
    if (!next) return e instanceof GraphQLError;
    if (!(next instanceof GraphQLError)) return false;
    e = next;
  }
  return false;
}

/**
 * Expected errors keep their message and code; anything else is masked (its details
 * are logged, never sent). Errors that graphql-js produced from the request itself
 * (syntax, unknown fields, variables of the wrong type) are the client's to see, as
 * VALIDATION.
 */
export function maskError(error: unknown, message: string): Error {
  const gqlError = error instanceof GraphQLError ? error : null;
  // Already masked (yoga masks context errors before we see them): keep it as it is.
  if (gqlError && !gqlError.originalError && MASKED_CODES.has(gqlError.extensions?.code as string)) return gqlError;
  const expected = expectedError(error);
  if (expected) {
    return new GraphQLError(expected.message, {
      nodes: gqlError?.nodes,
      path: gqlError?.path,
      extensions: {
        code: expected.code,
        ...(expected.details ?? {}),
        // yoga reads `http` for the status of requests it serves itself, and drops it from the body.
        ...(expected.code === 'UNAUTHENTICATED' ? { http: { status: 401 } } : {}),
      },
    });
  }
  if (gqlError && isRequestError(gqlError)) {
    // Only our code (and yoga's status hint): other extensions may carry parser internals.
    // yoga gives validation errors the hint "400 under application/graphql-response+json,
    // 200 under application/json" (spec: true) but leaves syntax errors without one, so
    // they answered 200 under both; GraphQL over HTTP asks for the same as validation.
    const syntax = !gqlError.path && gqlError.message.startsWith('Syntax Error:');
    const http = gqlError.extensions?.http ?? (syntax ? { status: 400, spec: true } : undefined);
    return new GraphQLError(gqlError.message, {
      nodes: gqlError.nodes,
      source: gqlError.source,
      positions: gqlError.positions,
      path: gqlError.path,
      extensions: { code: 'VALIDATION', ...(http ? { http } : {}) },
    });
  }
  // yoga's request parser throws a bare SyntaxError for unparseable JSON in a query
  // string or form body: the client's mistake, not ours.
  if (error instanceof SyntaxError || (gqlError?.originalError instanceof SyntaxError && !gqlError.path)) {
    return new GraphQLError('the request carries JSON that does not parse', {
      extensions: { code: 'VALIDATION', http: { status: 400 } },
    });
  }
  return new GraphQLError(message, { path: gqlError?.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

export function buildApp(options: AppOptions = {}): App {
  const config: ServerConfig = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const logger = options.logger ?? createLogger({ level: config.logLevel, write: options.log });
  let metrics: Metrics | null = null;
  const store =
    options.store ??
    new SqliteTaskStore({
      path: config.dbPath,
      synchronous: config.synchronous,
      defaultLeaseSeconds: config.leaseSeconds,
      staleWorkerAfterMs: config.staleWorkerAfterMs,
      maxPayloadBytes: config.maxPayloadBytes,
      // Checkpoints off the event loop: an automatic one stalls the commit that triggers it.
      checkpointThreadMs: 250,
      onCheckpointError: (message) => logger.warn({ err: message }, 'background checkpoint failed; the next one tries again'),
      now: options.now,
      onStorageError: (e) => {
        if (e.code === 'BUSY') metrics?.busyErrors.inc();
      },
    });
  const bus = store.bus;
  // Unexpected errors reach the client masked; their details go to the log, once, with the
  // request id when the error came out of an execution (reportUnexpected below logs those).
  const reported = new WeakSet<object>();
  const isUnexpected = (error: unknown) => (maskError(error, '') as GraphQLError).extensions?.code === 'INTERNAL_SERVER_ERROR';
  const mask = (error: unknown, message: string): Error => {
    const masked = maskError(error, message);
    const unexpected = (masked as GraphQLError).extensions?.code === 'INTERNAL_SERVER_ERROR';
    if (unexpected && !(typeof error === 'object' && error !== null && reported.has(error))) logger.error({ err: error }, 'unexpected error');
    return masked;
  };
  /** Logs the unexpected errors of an execution with its request id, before yoga masks them. */
  const reportUnexpected: Plugin = {
    onExecute({ args }) {
      const reqId = (args.contextValue as Partial<Context>).reqId;
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) return;
          for (const error of result.errors ?? []) {
            if (!isUnexpected(error)) continue;
            reported.add(error);
            logger.error({ err: error, reqId }, 'unexpected error');
          }
        },
      };
    },
  };
  /** Request ids of the requests that yoga itself serves (the fast path passes its own). */
  const reqIds = new WeakMap<IncomingMessage, string>();
  const waiters = new ClaimWaiters(bus);
  const limits = {
    maxWaitSeconds: config.maxWaitSeconds,
    subscriptionBuffer: config.subscriptionBuffer,
    statsPerSecond: 4,
  };

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // WebSocket operations arrive with the principal checked at connection init; HTTP and
    // SSE requests carry their token in the Authorization header.
    context: async (initial) => {
      const given = initial as { principal?: Principal; signal?: AbortSignal; request?: Request; req?: IncomingMessage; reqId?: string };
      const principal = given.principal ?? (await principalFor(store, authorizationHeader(initial)));
      const signal = given.signal ?? given.request?.signal ?? null;
      const reqId = given.reqId ?? (given.req && reqIds.get(given.req)) ?? randomUUID();
      return { store, bus, waiters, limits, principal, metrics, signal, reqId };
    },
    maskedErrors: { maskError: mask },
    // The body limit is enforced in front of yoga (below), which is much cheaper than
    // yoga's own stream-based limit.
    maxRequestBodySize: false,
    graphiql: config.graphiql ? { title: 'Taskwire', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_EXAMPLE } : false,
    // These run inside the envelop pipeline, so they hold for HTTP, SSE and WebSocket alike.
    plugins: [
      unsupportedMediaTypePlugin,
      EnvelopArmorPlugin({
        maxDepth: { n: config.maxDepth, ignoreIntrospection: true },
        maxAliases: { n: 30 },
        maxTokens: { n: 5000 },
        maxDirectives: { n: 20 },
        // Sized so that the dashboard-sized query (100 tasks with workers, dependencies and
        // five logs each) passes; depth, aliases and tokens bound the rest.
        costLimit: { maxCost: 100_000, ignoreIntrospection: true },
        blockFieldSuggestion: { enabled: !config.introspection },
      }),
      // yoga tags request validation errors GRAPHQL_VALIDATION_FAILED; ours say VALIDATION everywhere.
      {
        onValidate: () => ({ valid, result }: { valid: boolean; result: readonly GraphQLError[] }) => {
          if (valid) return;
          for (const e of result) (e.extensions as Record<string, unknown>).code = 'VALIDATION';
        },
      },
      ...(config.introspection
        ? []
        : [{ onValidate: ({ addValidationRule }: { addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void }) => addValidationRule(NoSchemaIntrospectionCustomRule) }]),
      // Queries and mutations run compiled by graphql-jit (about a quarter to a half less CPU
      // for their execution) once a document has run a few times; subscriptions, and documents
      // graphql-jit would answer differently, stay on yoga's executor (see graphql/jit.ts).
      useJit({ onCompileError: (errors) => logger.error({ errors }, 'graphql-jit could not compile a document') }),
      // After useJit, so that it sees the errors as graphql-jit's normalizer left them.
      reportUnexpected,
    ],
    // Loaded on first use: the bundled GraphiQL is large and costs start-up time.
    renderGraphiQL: async (opts) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(opts),
    logging: false,
  });

  const handleHealth = (res: ServerResponse) => {
    const body = JSON.stringify({
      status: 'ok',
      database: store.info.path,
      schemaVersion: store.info.schemaVersion,
      pragmas: store.info.pragmas,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  };

  const inFlight = new Set<ServerResponse>();
  let stopping = false;

  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', reqId);
    reqIds.set(req, reqId);
    handle(req, res, reqId);
  });

  const handle = (req: IncomingMessage, res: ServerResponse, reqId: string) => {
    if (stopping) {
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: 'the server is shutting down', extensions: { code: 'UNAVAILABLE' } }] }));
      return;
    }
    const path = req.url?.split('?')[0];
    if (path === '/health' && req.method === 'GET') return handleHealth(res);
    if (path === '/metrics' && req.method === 'GET') {
      metrics!.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics!.contentType }).end(text),
        (e) => {
          logger.error({ err: e }, 'metrics failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (serveDashboard(req, res)) return;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > config.maxBodyBytes) return tooLarge(res, config.maxBodyBytes);
    // Chunked bodies carry no length up front: count bytes as they arrive.
    if (req.headers['transfer-encoding']) {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > config.maxBodyBytes && !res.headersSent) {
          tooLarge(res, config.maxBodyBytes);
          req.destroy();
        }
      });
    }
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
    if (path === '/graphql' && isPlainJsonPost(req)) {
      handleJsonPost(yoga, req, res, { maxBodyBytes: config.maxBodyBytes, reqId }).catch((e) => {
        logger.error({ err: e, reqId }, 'request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
      return;
    }
    void yoga(req, res);
  };

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.maxBodyBytes });
  let activeOperations = 0;
  let connections = 0;
  let wsExecuting = 0;
  const endOperation = (extra: WsExtra, id: string) => {
    const controller = extra.active?.get(id);
    if (!controller) return;
    extra.active!.delete(id);
    activeOperations--;
    // With a reason: abort() without one builds a DOMException (with a stack) for every
    // finished operation, which showed in the WebSocket profiles.
    controller.abort(OPERATION_ENDED);
  };
  metrics = new Metrics(store, bus, {
    webSockets: () => wsServer.clients.size,
    subscriptions: () => activeOperations,
  });
  const upkeep = new Upkeep(store, logger, metrics, { ...UPKEEP_DEFAULTS, retentionMs: config.retentionMs, ...options.upkeep });
  upkeep.start();
  // graphql-ws answers a client frame of a server-only type (next, error, connection_ack)
  // with 4500, an internal error; it is the client's protocol error. This listener is
  // registered first, so its 4400 reaches the client before graphql-ws reacts.
  wsServer.on('connection', (socket: WebSocket) => {
    socket.on('message', (data) => {
      let type: unknown;
      try {
        type = (JSON.parse(String(data)) as { type?: unknown }).type;
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
      // Executions (queries and mutations) in flight are counted, so that stop() can let
      // them answer before it closes the sockets.
      execute: (args: ExecutionArgs) => {
        wsExecuting++;
        return Promise.resolve((args.rootValue as EnvelopedRoot).execute(args)).finally(() => wsExecuting--);
      },
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, id, payload) => {
        // The token is checked again for every operation (a cached lookup), so a revoked
        // token stops working on sockets opened before the revocation too.
        try {
          ctx.extra.principal = await principalFor(store, ctx.extra.authorization);
        } catch {
          ctx.extra.socket.close(4403, 'Forbidden');
          return [mask(new TaskwireError('UNAUTHENTICATED', 'the token is unknown or revoked'), '') as GraphQLError];
        }
        if (stopping) {
          return [mask(new TaskwireError('UNAVAILABLE', 'the server is shutting down; retry on another connection'), '') as GraphQLError];
        }
        const active = (ctx.extra.active ??= new Map());
        if (active.size >= config.maxSubscriptionsPerConnection) {
          return [
            mask(
              new TaskwireError('VALIDATION', `at most ${config.maxSubscriptionsPerConnection} operations at once on one connection`),
              '',
            ) as GraphQLError,
          ];
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
          return [mask(e, 'Unexpected error.') as GraphQLError];
        }
        if (!getOperationAST(document, payload.operationName)) {
          return [mask(new TaskwireError('VALIDATION', missingOperation(payload.operationName)), '') as GraphQLError];
        }
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        let errors: readonly GraphQLError[];
        try {
          errors = enveloped.validate(args.schema, args.document);
        } catch (e) {
          errors = [e as GraphQLError]; // graphql-armor throws when a limit is exceeded
        }
        if (errors.length) return errors.map((e: GraphQLError) => mask(e, 'Unexpected error.') as GraphQLError);
        return args;
      },
    },
    wsServer,
  );

  // One tick for the timed work: expired leases, timeouts, stale workers, due schedules.
  // Each job waits only briefly for the write lock; if another process holds it, the tick
  // is skipped (BUSY) and the next one tries again.
  const tick = async () => {
    for (const [name, job] of [
      ['sweep', () => store.sweep()],
      ['scheduler', () => store.fireDueSchedules()],
    ] as const) {
      try {
        await job();
      } catch (e) {
        if (e instanceof TaskwireError && e.code === 'BUSY') return logger.warn({ job: name }, `database busy: ${name} skipped this tick`);
        logger.warn({ err: e, job: name }, `${name} failed`);
      }
    }
  };
  const sweeper = setInterval(() => void tick(), config.sweepIntervalMs);
  sweeper.unref();

  let stopped: Promise<void> | null = null;

  return {
    yoga,
    store,
    httpServer,
    wsServer,
    logger,
    start() {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          const { port } = httpServer.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ port, url: `http://${host}:${port}/graphql` });
        });
      });
    },
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        stopping = true;
        clearInterval(sweeper);
        await upkeep.stop();
        metrics?.close();
        waiters.close(); // long-polls return [] at once
        // Let requests and WebSocket executions in flight answer before anything closes.
        const drainBy = Date.now() + 10_000;
        while ((inFlight.size > 0 || wsExecuting > 0) && Date.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
        // Close frames next (1001 Going Away), and give clients a moment to answer them.
        const sockets = [...(wsServer.clients as Set<WebSocket>)];
        const socketsClosed = Promise.all(sockets.map((s) => new Promise<void>((r) => (s.readyState === s.CLOSED ? r() : s.once('close', () => r())))));
        for (const client of sockets) client.close(1001, 'server shutting down');
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        const deadline = Date.now() + 10_000;
        while (inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await Promise.race([socketsClosed, new Promise((r) => setTimeout(r, 2000))]);
        httpServer.closeAllConnections();
        for (const client of wsServer.clients as Set<WebSocket>) client.terminate();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
        await closed;
        await store.close();
      })();
      return stopped;
    },
  };
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

/** Why a WebSocket operation's signal was aborted: it ended (completed by either side). */
const OPERATION_ENDED = Object.freeze(new Error('the operation ended'));

function authorizationHeader(initial: unknown): string | undefined {
  const { req, request } = initial as { req?: IncomingMessage; request?: Request };
  return req?.headers.authorization ?? request?.headers.get('authorization') ?? undefined;
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;
  subscribe: (args: ExecutionArgs) => ReturnType<NonNullable<Parameters<typeof useServer>[0]['subscribe']>>;
}

function tooLarge(res: ServerResponse, max: number): void {
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message: `request body larger than ${max} bytes`, extensions: { code: 'VALIDATION' } }] }));
}

/**
 * graphql-yoga with Taskwire's plugins. They run inside the envelop pipeline, so they
 * hold for HTTP, SSE and WebSocket alike.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { ServerConfig } from '../config.js';
import { ClaimWaiters } from '../events/claim-waiters.js';
import { principalFor } from '../graphql/auth.js';
import type { ApiLimits, Context, Principal } from '../graphql/context.js';
import { GRAPHIQL_EXAMPLE } from '../graphql/graphiql-example.js';
import { unsupportedMediaTypePlugin } from '../graphql/http.js';
import { useJit } from '../graphql/jit.js';
import { schema } from '../graphql/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../store/index.js';
import type { ErrorReporting } from './errors.js';

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

export interface YogaParts {
  config: ServerConfig;
  store: TaskStore;
  waiters: ClaimWaiters;
  metrics: Metrics;
  logger: Logger;
  errors: ErrorReporting;
  /** Request ids of the requests that yoga itself serves (the fast path passes its own). */
  reqIds: WeakMap<IncomingMessage, string>;
}

/** What may arrive as yoga's initial context, from node:http, the fast path or graphql-ws. */
interface InitialContext {
  principal?: Principal;
  signal?: AbortSignal;
  request?: Request;
  req?: IncomingMessage;
  reqId?: string;
}

export function createTaskwireYoga({ config, store, waiters, metrics, logger, errors, reqIds }: YogaParts): Yoga {
  const limits: ApiLimits = { maxWaitSeconds: config.maxWaitSeconds, subscriptionBuffer: config.subscriptionBuffer, statsPerSecond: 4 };
  const bus = store.bus;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // WebSocket operations arrive with the principal checked at connection init; HTTP and
    // SSE requests carry their token in the Authorization header.
    context: async (initial) => {
      const given = initial as InitialContext;
      const principal = given.principal ?? (await principalFor(store, authorizationHeader(given)));
      const signal = given.signal ?? given.request?.signal ?? null;
      const reqId = given.reqId ?? (given.req && reqIds.get(given.req)) ?? randomUUID();
      return { store, bus, waiters, limits, principal, metrics, signal, reqId };
    },
    maskedErrors: { maskError: errors.mask },
    // The body limit is enforced in front of yoga (server/http.ts), which is much cheaper
    // than yoga's own stream-based limit.
    maxRequestBodySize: false,
    graphiql: config.graphiql ? { title: 'Taskwire', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_EXAMPLE } : false,
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
      validationCode,
      ...(config.introspection ? [] : [noIntrospection]),
      // Queries and mutations run compiled by graphql-jit (about a quarter to a half less CPU
      // for their execution) once a document has run a few times; subscriptions, and documents
      // graphql-jit would answer differently, stay on yoga's executor (see graphql/jit.ts).
      useJit({ onCompileError: (errors) => logger.error({ errors }, 'graphql-jit could not compile a document') }),
      // After useJit, so that it sees the errors as graphql-jit's normalizer left them.
      errors.plugin,
    ],
    // Loaded on first use: the bundled GraphiQL is large and costs start-up time.
    renderGraphiQL: async (opts) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(opts),
    logging: false,
  });
}

/** yoga tags request validation errors GRAPHQL_VALIDATION_FAILED; ours say VALIDATION everywhere. */
const validationCode: Plugin = {
  onValidate: () => ({ valid, result }) => {
    if (valid) return;
    for (const e of result) (e.extensions as Record<string, unknown>).code = 'VALIDATION';
  },
};

const noIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};

function authorizationHeader({ req, request }: InitialContext): string | undefined {
  return req?.headers.authorization ?? request?.headers.get('authorization') ?? undefined;
}

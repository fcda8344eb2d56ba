/**
 * The ceiling for the GraphQL transport: a bare graphql-yoga server whose one mutation
 * does nothing, run as its own process by bench/graphql.ts:
 *   node --import tsx bench/bare-yoga.ts <mode> <port>
 *
 * Modes, from yoga's defaults to what Taskwire's server does:
 *   default   createYoga with default options, `yoga` as the node:http handler
 *   nolimit   the same with maxRequestBodySize: false (yoga's body limit is a stream pipeline)
 *   envelop   JSON POSTs through Taskwire's fast path (src/graphql/http.ts: yoga's envelop
 *             pipeline run directly behind node:http), the rest through yoga
 * Every mode also serves graphql-ws on the same path, with the envelop recipe from yoga's
 * documentation (no auth, no limits): the WebSocket ceiling.
 * Prints `listening <port>` when ready; exits on SIGINT / SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLScalarType, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { handleJsonPost } from '../src/graphql/http.js';

const mode = process.argv[2] ?? 'default';
const port = Number(process.argv[3] ?? 0);
if (!['default', 'nolimit', 'envelop'].includes(mode)) throw new Error(`unknown mode ${mode}`);

const JSONScalar = new GraphQLScalarType({ name: 'JSON', serialize: (v) => v, parseValue: (v) => v });

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    scalar JSON
    input EnqueueTaskInput {
      type: String!
      payload: JSON!
      queue: String
      priority: Int
    }
    type Query {
      ok: Boolean!
    }
    type Mutation {
      noop(input: EnqueueTaskInput!): Boolean!
    }
  `,
  resolvers: { JSON: JSONScalar, Query: { ok: () => true }, Mutation: { noop: () => true } },
});

const yoga = createYoga({
  schema,
  graphqlEndpoint: '/graphql',
  landingPage: false,
  graphiql: false,
  logging: false,
  ...(mode === 'default' ? {} : { maxRequestBodySize: false as const }),
});

const maxBodyBytes = 8 * 1024 * 1024;
const server = createServer((req, res) => {
  if (mode === 'envelop' && req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/json')) {
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) return void res.writeHead(413).end();
    handleJsonPost(yoga as unknown as Parameters<typeof handleJsonPost>[0], req, res, { maxBodyBytes }).catch(
      (e) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(e));
      },
    );
    return;
  }
  void yoga(req, res);
});

interface Root {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

const wsServer = new WebSocketServer({ server, path: '/graphql' });
useServer(
  {
    execute: (args) => (args.rootValue as Root).execute(args) as never,
    subscribe: (args) => (args.rootValue as Root).subscribe(args) as never,
    onSubscribe: async (ctx, _id, params) => {
      const { schema: s, execute, subscribe, contextFactory, parse, validate } = (yoga as YogaServerInstance<object, object>).getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      const args: ExecutionArgs = {
        schema: s,
        operationName: params.operationName,
        document: parse(params.query),
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  },
  wsServer,
);

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
const stop = () => {
  for (const c of wsServer.clients) c.terminate();
  wsServer.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

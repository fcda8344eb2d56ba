/**
 * The node:http server in front of yoga: request ids, /health, /metrics, the dashboard,
 * the request body limit, and the fast path for plain JSON POSTs (graphql/http.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServerConfig } from '../config.js';
import { serveDashboard } from '../dashboard/serve.js';
import { handleJsonPost, isPlainJsonPost } from '../graphql/http.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../store/index.js';
import type { Yoga } from './yoga.js';

export interface HttpParts {
  config: Pick<ServerConfig, 'maxBodyBytes'>;
  yoga: Yoga;
  store: TaskStore;
  metrics: Metrics;
  logger: Logger;
  /** Where yoga's context factory finds the id of a request it serves itself. */
  reqIds: WeakMap<IncomingMessage, string>;
  /** True once the server is stopping: every request is answered 503 UNAVAILABLE. */
  stopping(): boolean;
}

export interface HttpServer {
  server: Server;
  /** GraphQL requests not yet answered: a graceful stop waits for them. */
  inFlight: ReadonlySet<ServerResponse>;
}

export function createHttpServer({ config, yoga, store, metrics, logger, reqIds, stopping }: HttpParts): HttpServer {
  const inFlight = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse, reqId: string) => {
    if (stopping()) {
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: 'the server is shutting down', extensions: { code: 'UNAVAILABLE' } }] }));
      return;
    }
    const path = req.url?.split('?')[0];
    if (path === '/health' && req.method === 'GET') return health(store, res);
    if (path === '/metrics' && req.method === 'GET') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (e) => {
          logger.error({ err: e }, 'metrics failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (serveDashboard(req, res)) return;
    if (!withinBodyLimit(req, res, config.maxBodyBytes)) return;
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

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', reqId);
    reqIds.set(req, reqId);
    handle(req, res, reqId);
  });

  return { server, inFlight };
}

/** What the store says about itself: the back end, where the data is, its schema and settings. */
function health(store: TaskStore, res: ServerResponse): void {
  const { kind, location, schemaVersion, settings } = store.info;
  const body = JSON.stringify({ status: 'ok', backend: kind, database: location, schemaVersion, settings });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
}

/**
 * Refuses a body declared larger than the limit (413), and watches a chunked one, which
 * carries no length up front, as its bytes arrive. False when the request was answered.
 */
function withinBodyLimit(req: IncomingMessage, res: ServerResponse, max: number): boolean {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    tooLarge(res, max);
    return false;
  }
  if (req.headers['transfer-encoding']) {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > max && !res.headersSent) {
        tooLarge(res, max);
        req.destroy();
      }
    });
  }
  return true;
}

function tooLarge(res: ServerResponse, max: number): void {
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message: `request body larger than ${max} bytes`, extensions: { code: 'VALIDATION' } }] }));
}

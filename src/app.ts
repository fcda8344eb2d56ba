/**
 * The server, composed of its parts in src/server/: graphql-yoga with its plugins
 * (yoga.ts) on node:http (http.ts), graphql-ws on the same port and path running the same
 * envelop pipeline (ws.ts), error masking (errors.ts), the background work on one timer
 * (background.ts), and a graceful stop (shutdown.ts).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';
import { loadConfig, type ServerConfig } from './config.js';
import { ClaimWaiters } from './events/claim-waiters.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { openStore, type TaskStore } from './store/index.js';
import { Background, UPKEEP_DEFAULTS, type UpkeepOptions } from './server/background.js';
import { errorReporting } from './server/errors.js';
import { createHttpServer } from './server/http.js';
import { shutdown } from './server/shutdown.js';
import { attachWebSockets } from './server/ws.js';
import { createTaskwireYoga, type Yoga } from './server/yoga.js';

export { maskError } from './server/errors.js';
export type { UpkeepOptions } from './server/background.js';

export interface AppOptions extends Partial<ServerConfig> {
  /** Use this store instead of opening `dbPath` (tests). */
  store?: TaskStore;
  /** Injected clock for the store (tests). */
  now?: () => number;
  /** JSON log lines go here instead of stdout (tests pass () => {}). */
  log?: (line: string) => void;
  logger?: Logger;
  upkeep?: Partial<UpkeepOptions>;
}

export interface App {
  yoga: Yoga;
  store: TaskStore;
  httpServer: Server;
  wsServer: WebSocketServer;
  logger: Logger;
  /** Listens; resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>;
  /** Graceful stop: no new work, in-flight requests finish, sockets close with 1001, the db closes. */
  stop(): Promise<void>;
}

/** The configuration of an empty environment: every setting's default, from config.ts. */
const DEFAULTS: ServerConfig = loadConfig({});

export async function buildApp(options: AppOptions = {}): Promise<App> {
  const config: ServerConfig = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const logger = options.logger ?? createLogger({ level: config.logLevel, write: options.log });
  // Before the store: it counts its BUSY errors into the metrics from the moment it opens.
  const metrics = new Metrics();
  const store =
    options.store ??
    (await openStore({
      database: config.dbPath,
      role: 'server',
      synchronous: config.synchronous,
      defaultLeaseSeconds: config.leaseSeconds,
      staleWorkerAfterMs: config.staleWorkerAfterMs,
      maxPayloadBytes: config.maxPayloadBytes,
      now: options.now,
      onBackgroundError: (message) => logger.warn({ err: message }, 'background work of the store failed; it is retried'),
      onStorageError: (e) => {
        if (e.code === 'BUSY') metrics.busyErrors.inc();
      },
    }));
  let stopping = false;
  const isStopping = () => stopping;
  const errors = errorReporting(logger);
  const waiters = new ClaimWaiters(store.bus);
  const reqIds = new WeakMap<IncomingMessage, string>();
  const yoga = createTaskwireYoga({ config, store, waiters, metrics, logger, errors, reqIds });
  const http = createHttpServer({ config, yoga, store, metrics, logger, reqIds, stopping: isStopping });
  const ws = attachWebSockets({ config, server: http.server, yoga, store, errors, stopping: isStopping });
  metrics.observe(store, { webSockets: () => ws.wss.clients.size, subscriptions: ws.activeOperations });
  const background = new Background(store, logger, metrics, {
    ...UPKEEP_DEFAULTS,
    retentionMs: config.retentionMs,
    ...options.upkeep,
    sweepIntervalMs: config.sweepIntervalMs,
  });
  background.start();

  let stopped: Promise<void> | null = null;
  return {
    yoga,
    store,
    httpServer: http.server,
    wsServer: ws.wss,
    logger,
    start() {
      return new Promise((resolve, reject) => {
        http.server.once('error', reject);
        http.server.listen(config.port, config.host, () => {
          http.server.off('error', reject);
          const { port } = http.server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ port, url: `http://${host}:${port}/graphql` });
        });
      });
    },
    stop() {
      stopped ??= shutdown({ refuseNewWork: () => void (stopping = true), http, ws, background, metrics, waiters, store });
      return stopped;
    },
  };
}

/**
 * Shared setup for the worker runner's tests: a real server (buildApp on a database of
 * its own, port 0 or a given one) that can be stopped and started again on the same
 * database and port, GraphQL calls against it, a graphql-ws subscriber, a bounded wait, and
 * a WebSocket proxy that records what the worker sends (and can cut the connection).
 * The database is a temporary SQLite file, or a fresh PostgreSQL schema when
 * TASKWIRE_TEST_DRIVER=postgres (helpers/drivers.ts).
 *
 * Everything made here is cleaned up by `cleanup()`, which each test file runs in afterEach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { buildApp, type App } from '../../src/app.js';
import type { TaskStore } from '../../src/store/index.js';
// The drivers' classes, for an engine option openStore() does not take (backoffBaseMs).
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import type { Worker } from '../../src/worker/index.js';
import { DRIVER_NAME } from '../helpers/drivers.js';
import { newSchema } from '../helpers/postgres.js';

export interface GqlResult<T = any> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface Server {
  app: App;
  store: TaskStore;
  /** Where the data lives (a SQLite file, or a PostgreSQL URL with its schema): a restart opens it again. */
  database: string;
  port: number;
  url: string;
  wsUrl: string;
  /** GraphQL in-process (yoga.fetch); throws on errors and returns `data`. */
  ok<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  /** Graceful stop (sockets closed with 1001, database closed). */
  stop(): Promise<void>;
}

/** Removes the databases made here (temporary folders, PostgreSQL schemas), once their servers have stopped. */
const removals: (() => void | Promise<void>)[] = [];
const servers: Server[] = [];
const clients: Client[] = [];
const workers: Worker<any, any>[] = [];

export interface ServerOptions {
  /** Reuse this database (a restart); default a new one. */
  database?: string;
  /** Default 0 (any free port). */
  port?: number;
  backoffBaseMs?: number;
}

export async function startServer(options: ServerOptions = {}): Promise<Server> {
  let database = options.database;
  if (!database) database = newDatabase();
  const backoffBaseMs = options.backoffBaseMs ?? 1000;
  // PostgreSQL: one instance, so no LISTEN; the feed polls at its default.
  const store: TaskStore =
    DRIVER_NAME === 'postgres'
      ? await PostgresTaskStore.open({ url: database, listen: false, backoffBaseMs })
      : new SqliteTaskStore({ path: database, tailIntervalMs: 0, backoffBaseMs });
  const app = await buildApp({ store, port: options.port ?? 0, host: '127.0.0.1', sweepIntervalMs: 100, log: () => {} });
  const { port, url } = await app.start();
  const gql = async <T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> => {
    const res = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  };
  let stopped: Promise<void> | null = null;
  const server: Server = {
    app,
    store,
    database,
    port,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    gql,
    async ok<T>(query: string, variables?: Record<string, unknown>, token?: string) {
      const r = await gql<T>(query, variables, token);
      if (r.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(r.errors)}`);
      return r.data as T;
    },
    stop: () => (stopped ??= app.stop()),
  };
  servers.push(server);
  return server;
}

/** Registers a worker so that cleanup() stops it. */
export function track<W extends Worker<any, any>>(worker: W): W {
  workers.push(worker);
  return worker;
}

/** A plain graphql-ws client for the test's own subscriptions. */
export function subscriber(wsUrl: string): Client {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  clients.push(client);
  return client;
}

export async function cleanup(): Promise<void> {
  for (const w of workers.splice(0)) await w.stop({ timeoutMs: 1000 });
  for (const c of clients.splice(0)) await c.dispose();
  for (const s of servers.splice(0)) await s.stop();
  for (const remove of removals.splice(0)) await remove();
}

function newDatabase(): string {
  if (DRIVER_NAME === 'postgres') {
    const { url, drop } = newSchema({ pool: '5' });
    removals.push(drop);
    return url;
  }
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-worker-'));
  removals.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'tasks.db');
}

/** Polls `cond` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string | (() => string), timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for: ${typeof what === 'function' ? what() : what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Silent logger for workers under test (set TASKWIRE_TEST_LOG=1 to see it). */
export const quietLogger = process.env.TASKWIRE_TEST_LOG
  ? {
      debug: (m: string) => console.log(`[debug] ${m}`),
      info: (m: string) => console.log(`[info] ${m}`),
      warn: (m: string) => console.log(`[warn] ${m}`),
      error: (m: string) => console.log(`[error] ${m}`),
    }
  : {};

export const ENQUEUE = `
  mutation ($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { id } } }`;
export const ENQUEUE_MANY = `
  mutation ($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { task { id } } }`;
export const TASK = `
  query ($id: ID!) { task(id: $id) { id status attempts progress progressMessage result errorMessage cancelRequested } }`;

export interface TaskRow {
  id: string;
  status: string;
  attempts: number;
  progress: number | null;
  progressMessage: string | null;
  result: any;
  errorMessage: string | null;
  cancelRequested: boolean;
}

export async function enqueue(server: Server, input: Record<string, unknown>, token?: string): Promise<string> {
  const data = await server.ok<{ enqueueTask: { task: { id: string } } }>(ENQUEUE, { input: { payload: {}, ...input } }, token);
  return data.enqueueTask.task.id;
}

export async function enqueueMany(server: Server, inputs: Record<string, unknown>[]): Promise<string[]> {
  const data = await server.ok<{ enqueueTasks: { task: { id: string } }[] }>(ENQUEUE_MANY, {
    inputs: inputs.map((i) => ({ payload: {}, ...i })),
  });
  return data.enqueueTasks.map((e) => e.task.id);
}

export async function getTask(server: Server, id: string, token?: string): Promise<TaskRow> {
  const data = await server.ok<{ task: TaskRow }>(TASK, { id }, token);
  return data.task;
}

// ---------------------------------------------------------------- a proxy that watches the socket

const proxies: WebSocketServer[] = [];
export async function closeProxies(): Promise<void> {
  for (const p of proxies.splice(0)) {
    for (const c of p.clients) c.terminate();
    await new Promise((r) => p.close(r));
  }
}

export interface Proxy {
  url: string;
  /** Every message the worker sent upstream, parsed. */
  sent: any[];
  /** Every message the server sent back, parsed (including the swallowed one). */
  received: any[];
}

/** A graphql-ws aware proxy that drops the first server message for which `drop` says so, and cuts the connection. */
export async function proxyTo(upstreamUrl: string, drop: (message: any) => boolean): Promise<Proxy> {
  const proxy = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  proxies.push(proxy);
  await new Promise((r) => proxy.once('listening', r));
  const state: Proxy = {
    url: `ws://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`,
    sent: [],
    received: [],
  };
  let dropped = false;
  proxy.on('connection', (client) => {
    const upstream = new WebSocket(upstreamUrl, client.protocol);
    const queued: string[] = [];
    upstream.on('open', () => {
      for (const m of queued.splice(0)) upstream.send(m);
    });
    client.on('message', (data) => {
      const text = data.toString();
      state.sent.push(JSON.parse(text));
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queued.push(text);
    });
    upstream.on('message', (data) => {
      const text = data.toString();
      const message = JSON.parse(text);
      state.received.push(message);
      if (!dropped && drop(message)) {
        dropped = true;
        client.terminate();
        upstream.terminate();
        return;
      }
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return state;
}

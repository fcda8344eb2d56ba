/**
 * Shared setup for the GraphQL service's tests: an app on a database of its own, a
 * GraphQL call through `yoga.fetch` (in-process) or over the real port, a graphql-ws
 * client, a subscription collector, and a bounded wait for a condition.
 *
 * makeApp() opens the store on the driver TASKWIRE_TEST_DRIVER names (helpers/drivers.ts):
 * a temporary SQLite file, or a fresh PostgreSQL schema. Tests made with it see the store
 * only as a TaskStore. makeSqliteApp() is for SQLite-only tests: SQLite's own options
 * (trace, ...) and its connection.
 *
 * Every app made here is stopped by `stopApps()`, which each test file runs in afterEach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type App, type AppOptions } from '../../src/app.js';
import type { EngineOptions } from '../../src/store/engine/engine.js';
import type { TaskStore } from '../../src/store/index.js';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
// The SQLite class itself: SQLite-only tests pass SQLite-only options (trace) and reach its connection.
import { SqliteTaskStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';
import { DRIVER_NAME } from './drivers.js';
import { newSchema } from './postgres.js';

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GqlResult<T = any> {
  data?: T | null;
  errors?: GqlError[];
}

export interface TestApp<S extends TaskStore = TaskStore> {
  app: App;
  store: S;
  /** The back end the store runs on. */
  driver: 'sqlite' | 'postgres';
  /** Where the data lives: the SQLite file, or the PostgreSQL URL with its schema. */
  location: string;
  /** In-process GraphQL over yoga.fetch. */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql, but fails on any error and returns `data`. */
  ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Listens on 127.0.0.1 on a random port; returns the base URL (no path). */
  listen(): Promise<{ port: number; base: string; url: string; wsUrl: string }>;
}

export interface SqliteTestApp extends TestApp<SqliteTaskStore> {
  dbPath: string;
}

/** Stops the app, then removes what held its data (the temporary folder, the schema). */
const live: { app: App; remove: () => void | Promise<void> }[] = [];
const clients: Client[] = [];

export interface MakeAppOptions extends Omit<AppOptions, 'store'> {
  /** The engine's options: every driver takes them. */
  store?: Partial<EngineOptions>;
}

export interface MakeSqliteAppOptions extends Omit<AppOptions, 'store'> {
  store?: Partial<SqliteStoreOptions>;
}

function tempFile(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-gql-'));
  return { path: join(dir, 'test.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An app on the driver under test; its store is a TaskStore and nothing more. */
export async function makeApp(options: MakeAppOptions = {}): Promise<TestApp> {
  const { store: engine, ...appOptions } = options;
  if (DRIVER_NAME === 'postgres') {
    // A schema of its own, dropped by stopApps() after the app has closed its pool (not
    // when the test finishes: apps made in beforeAll outlive their first test). The feed
    // polls at its default; one instance needs no LISTEN.
    const { url, drop } = newSchema({ pool: '5' });
    const store = await PostgresTaskStore.open({ ...engine, url, listen: false });
    return start(store, 'postgres', url, drop, appOptions);
  }
  const file = tempFile();
  const store = new SqliteTaskStore({ path: file.path, tailIntervalMs: 0, ...engine });
  return start(store, 'sqlite', file.path, file.remove, appOptions);
}

/** An app on SQLite whatever the driver under test, for tests of SQLite itself. */
export async function makeSqliteApp(options: MakeSqliteAppOptions = {}): Promise<SqliteTestApp> {
  const { store: storeOptions, ...appOptions } = options;
  const file = tempFile();
  const store = new SqliteTaskStore({ path: file.path, tailIntervalMs: 0, ...storeOptions });
  return { ...(await start(store, 'sqlite', file.path, file.remove, appOptions)), dbPath: file.path };
}

async function start<S extends TaskStore>(
  store: S,
  driver: 'sqlite' | 'postgres',
  location: string,
  remove: () => void | Promise<void>,
  appOptions: Omit<AppOptions, 'store'>,
): Promise<TestApp<S>> {
  let app: App;
  try {
    app = await buildApp({ store, port: 0, host: '127.0.0.1', sweepIntervalMs: 60_000, log: () => {}, ...appOptions });
  } catch (e) {
    await store.close();
    await remove();
    throw e;
  }
  live.push({ app, remove });

  const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> => {
    const res = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  };
  const ok = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const r = await gql<T>(query, variables);
    if (r.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as T;
  };
  let listening: Promise<{ port: number; base: string; url: string; wsUrl: string }> | null = null;
  const listen = () =>
    (listening ??= app.start().then(({ port }) => ({
      port,
      base: `http://127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}/graphql`,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
    })));
  return { app, store, driver, location, gql, ok, listen };
}

/** A graphql-ws client that does not retry; disposed by stopApps() if the test did not. */
export function wsClient(wsUrl: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, ...extra });
  clients.push(client);
  return client;
}

/** Stops every app made by makeApp in this test and removes its database. */
export async function stopApps(): Promise<void> {
  for (const c of clients.splice(0)) await c.dispose();
  for (const e of live.splice(0)) {
    try {
      await e.app.stop();
    } finally {
      await e.remove();
    }
  }
}

/** Polls `cond` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Collected<T = any> {
  /** Every `next` payload, in order. */
  results: GqlResult<T>[];
  /** Errors passed to the sink's `error` (graphql-ws: an array of GraphQL errors, or a CloseEvent). */
  errors: unknown[];
  completed: boolean;
  unsubscribe: () => void;
  /** Waits until at least `n` results have arrived; returns them. */
  waitForCount(n: number, timeoutMs?: number): Promise<GqlResult<T>[]>;
  /** Waits until the subscription completed or errored. */
  waitForEnd(timeoutMs?: number): Promise<void>;
}

/** Runs an operation over graphql-ws and collects what comes back. */
export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const c: Collected<T> = {
    results: [],
    errors: [],
    completed: false,
    unsubscribe: () => {},
    waitForCount: (n, timeoutMs = 5000) =>
      waitFor(
        () => c.results.length >= n || c.errors.length > 0,
        `${n} results (have ${c.results.length}: ${JSON.stringify(c.results).slice(0, 500)})`,
        timeoutMs,
      ).then(() => {
        if (c.results.length < n) throw new Error(`subscription failed: ${JSON.stringify(c.errors)}`);
        return c.results;
      }),
    waitForEnd: (timeoutMs = 5000) =>
      waitFor(() => c.completed || c.errors.length > 0, 'the operation to end', timeoutMs).then(() => undefined),
  };
  c.unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => void c.results.push(v as GqlResult<T>),
      error: (e) => void c.errors.push(e),
      complete: () => void (c.completed = true),
    },
  );
  return c;
}

/** One query or mutation over graphql-ws: the result, or the errors the server refused it with. */
export async function wsOnce<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
  const c = collect<T>(client, query, variables);
  await c.waitForEnd();
  if (c.errors.length) {
    const e = c.errors[0];
    if (Array.isArray(e)) return { errors: e as GqlError[] };
    throw new Error(`operation failed: ${String((e as { code?: number }).code ?? e)}`);
  }
  return c.results[0]!;
}

/**
 * An unexpected failure as every transport must show it: masked, with no message, no
 * detail and the code INTERNAL_SERVER_ERROR; `raw` is the answer as sent.
 */
export function expectMasked(r: GqlResult, raw: string, what: string) {
  expect(raw, what).not.toContain('secret');
  expect(raw, what).not.toContain('internal detail');
  expect(r.errors?.length, what).toBeGreaterThan(0);
  for (const e of r.errors!) {
    expect(e.extensions?.code, what).toBe('INTERNAL_SERVER_ERROR');
    expect(e.message, what).toBe('Unexpected error.');
    expect(Object.keys(e.extensions ?? {}), what).toEqual(['code']);
  }
}

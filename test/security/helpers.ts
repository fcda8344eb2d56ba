/**
 * Shared machinery for the access-control tests and the hostile-input suite: an app on a
 * database of its own (a temporary SQLite file, or a fresh PostgreSQL schema when
 * TASKWIRE_TEST_DRIVER=postgres) with one token per principal, one GraphQL call over any of the three
 * transports (HTTP fast path, SSE, graphql-ws), raw HTTP and raw WebSocket access for
 * protocol abuse, and the invariants every hostile case checks (database unchanged,
 * server up, integrity ok, nothing internal in the response).
 *
 * Long on purpose: the fixtures of the access and hostile-input suites, shared by both.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { expect } from 'vitest';
import { buildApp, type App, type AppOptions } from '../../src/app.js';
import { ERROR_CODES, openStore, type ErrorCode, type Role, type Task, type TaskStore } from '../../src/store/index.js';
import { clientConfig, isPostgresUrl, parsePostgresUrl, quoteIdent } from '../../src/store/postgres/connection.js';
import { DRIVER_NAME } from '../helpers/drivers.js';
import { newSchema } from '../helpers/postgres.js';

export type Transport = 'http' | 'ws' | 'sse';
export const TRANSPORTS: Transport[] = ['http', 'ws', 'sse'];

/** The codes the contract promises in `extensions.code`: the store's own list. */
export const CONTRACT_CODES: readonly ErrorCode[] = ERROR_CODES;
export type Code = ErrorCode;

/** Who calls: one token per principal, plus no token and a made-up token. */
export type Principal = 'admin' | 'producer' | 'producer2' | 'worker' | 'worker2' | 'viewer';
export type Caller = Principal | 'none' | 'bogus';
export const ROLE_OF: Record<Principal, Role> = {
  admin: 'admin',
  producer: 'producer',
  producer2: 'producer',
  worker: 'worker',
  worker2: 'worker',
  viewer: 'viewer',
};
/** The worker ids the two worker tokens are bound to. */
export const W1 = 'w1';
export const W2 = 'w2';

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** What came back from one call, whatever the transport. */
export interface Outcome {
  transport: Transport | 'raw-http' | 'raw-ws';
  /** HTTP status (HTTP and SSE). */
  status?: number;
  /** Close code when the WebSocket was closed by the server. */
  closeCode?: number;
  closeReason?: string;
  errors: GqlError[];
  data?: Record<string, unknown> | null;
  /** Everything the server sent, for the leak check. */
  raw: string;
  /** Nothing came back before the deadline. */
  timedOut?: boolean;
}

export interface Fixture {
  app: App;
  store: TaskStore;
  /** Where the data lives: a SQLite file, or a PostgreSQL URL with its schema (what --db and TASKWIRE_DB take). */
  database: string;
  base: string;
  wsUrl: string;
  tokens: Record<Principal, string>;
  tokenIds: Record<Principal, string>;
  /** A fresh name: queues, types and schedules made for one test do not meet another's. */
  unique(prefix: string): string;
  /** A QUEUED task in its own queue, enqueued by `by` (its created_by is that token's id). */
  queuedTask(by?: Principal, extra?: { type?: string }): Promise<Task>;
  /** A RUNNING task in its own queue, leased to `workerId`. */
  runningTask(workerId?: string): Promise<{ task: Task; leaseToken: string }>;
  /** A FAILED task (retryable by an admin). */
  failedTask(): Promise<Task>;
  /** An existing schedule's name. */
  schedule(): Promise<string>;
  stop(): Promise<void>;
}

export interface FixtureOptions extends Omit<AppOptions, 'store'> {
  /** Create the per-principal tokens (default true); false leaves access control off. */
  tokens?: boolean;
  storeOptions?: { maxPayloadBytes?: number };
  /** Use this database (it may already hold tokens); the caller removes it. */
  database?: string;
}

/**
 * A new, empty database on the driver under test, and how to remove it: a file in a
 * temporary folder, or a PostgreSQL schema (for databases made outside a test, in beforeAll).
 */
export function newDatabase(name = 'sec'): { database: string; remove: () => Promise<void> } {
  if (DRIVER_NAME === 'postgres') {
    const { url, drop } = newSchema({ pool: '5' });
    return { database: url, remove: drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-sec-'));
  return { database: join(dir, `${name}.db`), remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const { tokens: withTokens = true, storeOptions, database: given, ...appOptions } = options;
  const made = given ? null : newDatabase();
  const database = given ?? made!.database;
  const store = await openStore({ database, role: 'command', ...storeOptions });
  const app = await buildApp({
    store,
    port: 0,
    host: '127.0.0.1',
    log: () => {},
    // No sweeps or schedule fires while a test compares the database before and after.
    sweepIntervalMs: 3_600_000,
    ...appOptions,
  });
  const { port } = await app.start();
  const tokens = {} as Record<Principal, string>;
  const tokenIds = {} as Record<Principal, string>;
  if (withTokens) {
    const specs: [Principal, string | null][] = [
      ['admin', null],
      ['producer', null],
      ['producer2', null],
      ['worker', W1],
      ['worker2', W2],
      ['viewer', null],
    ];
    for (const [who, workerId] of specs) {
      const { token, info } = await store.createToken({ name: who, role: ROLE_OF[who], workerId });
      tokens[who] = token;
      tokenIds[who] = info.id;
    }
  }
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const queuedTask = async (by: Principal = 'producer', extra: { type?: string } = {}) =>
    (
      await store.enqueue({
        type: extra.type ?? unique('type'),
        queue: unique('q'),
        payload: { n: 1 },
        createdBy: tokenIds[by] ?? null,
      })
    ).task;
  const runningTask = async (workerId: string = W1) => {
    const queue = unique('q');
    await store.enqueue({ type: 'work', queue, payload: {}, createdBy: tokenIds.producer ?? null });
    const [claimed] = await store.claim({ workerId, queue });
    if (!claimed) throw new Error('fixture: the claim found nothing');
    return { task: claimed.task, leaseToken: claimed.leaseToken };
  };
  const failedTask = async () => {
    const { task, leaseToken } = await runningTask(W1);
    return store.fail({ taskId: task.id, leaseToken, error: 'boom', retryable: false });
  };
  const schedule = async () => {
    const name = unique('sched');
    await store.upsertSchedule({ name, intervalSeconds: 3600, enabled: false, task: { type: 'tick', payload: {} } });
    return name;
  };
  let stopped = false;
  return {
    app,
    store,
    database,
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    tokens,
    tokenIds,
    unique,
    queuedTask,
    runningTask,
    failedTask,
    schedule,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeReader(database);
      await app.stop();
      await made?.remove();
    },
  };
}

export function tokenFor(fx: Fixture, who: Caller): string | undefined {
  if (who === 'none') return undefined;
  if (who === 'bogus') return `tw_0123456789ab_${'A'.repeat(43)}`;
  return fx.tokens[who];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it is truthy or the deadline passes (then throws, naming `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** `promise`, or a clear failure after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- one GraphQL call

const RAW_MARK = '\u0000raw\u0000';
/**
 * A value that goes onto the wire as the given JSON text, verbatim: `raw('1e400')` sends a
 * number JSON.stringify cannot write (it would send null), `raw('[[[...]]]')` a nesting
 * too deep to build in the test. Works in variables on every transport.
 */
export function raw(jsonText: string): string {
  return `${RAW_MARK}${Buffer.from(jsonText).toString('base64')}${RAW_MARK}`;
}
const RAW_RE = /"\\u0000raw\\u0000([A-Za-z0-9+/=]*)\\u0000raw\\u0000"/g;
/** Replaces the raw() markers in serialized JSON with their text. */
export function unraw(json: string): string {
  return json.replace(RAW_RE, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}
function wireBody(req: CallRequest): string {
  return unraw(JSON.stringify({ query: req.query, variables: req.variables, operationName: req.operationName }));
}

/** A WebSocket that writes raw() markers as their JSON text (graphql-ws serializes with JSON.stringify). */
class RawJsonWebSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    const out = typeof data === 'string' ? unraw(data) : data;
    (WebSocket.prototype.send as (...a: unknown[]) => void).call(this, out, ...rest);
  }
}

export interface CallRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Raw token; undefined sends none. */
  token?: string;
  /** Called every 100 ms until something arrives (subscriptions that wait for an event). */
  trigger?: () => Promise<unknown>;
  timeoutMs?: number;
}

export function call(fx: Fixture, transport: Transport, req: CallRequest): Promise<Outcome> {
  if (transport === 'http') return callHttp(fx, req);
  if (transport === 'sse') return callSse(fx, req);
  return callWs(fx, req);
}

function parseJson(text: string): { errors?: GqlError[]; data?: Record<string, unknown> | null } {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as { errors?: GqlError[] }) : {};
  } catch {
    return {};
  }
}

async function callHttp(fx: Fixture, req: CallRequest): Promise<Outcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  const res = await fetch(`${fx.base}/graphql`, {
    method: 'POST',
    headers,
    body: wireBody(req),
    signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
  });
  const raw = await res.text();
  const body = parseJson(raw);
  return { transport: 'http', status: res.status, errors: body.errors ?? [], data: body.data, raw };
}

/** Parses `text/event-stream` blocks into (event, data) pairs. */
export function sseEvents(text: string): { event: string; data: string }[] {
  const out: { event: string; data: string }[] = [];
  for (const block of text.split(/\n\n/)) {
    let event = '';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (event || data.length) out.push({ event: event || 'message', data: data.join('\n') });
  }
  return out;
}

/** POST /graphql with `accept: text/event-stream`; returns the first `next` event (or a plain JSON answer). */
export async function sseRequest(
  fx: Fixture,
  body: string,
  opts: { token?: string; headers?: Record<string, string>; trigger?: () => Promise<unknown>; timeoutMs?: number } = {},
): Promise<Outcome> {
  const ac = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const deadline = setTimeout(() => ac.abort(), opts.timeoutMs ?? 5000);
  let timer: NodeJS.Timeout | undefined;
  try {
    const res = await fetch(`${fx.base}/graphql`, { method: 'POST', headers, body, signal: ac.signal });
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      const raw = await res.text();
      const parsed = parseJson(raw);
      return { transport: 'sse', status: res.status, errors: parsed.errors ?? [], data: parsed.data, raw };
    }
    if (opts.trigger) {
      const trigger = opts.trigger;
      timer = setInterval(() => void trigger().catch(() => {}), 100);
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        raw += decoder.decode(value, { stream: true });
        const events = sseEvents(raw.slice(0, raw.lastIndexOf('\n\n') + 2));
        const next = events.find((e) => e.event === 'next');
        if (next) {
          const parsed = parseJson(next.data);
          return { transport: 'sse', status: res.status, errors: parsed.errors ?? [], data: parsed.data, raw };
        }
        if (events.some((e) => e.event === 'complete')) break;
      }
    } catch {
      return { transport: 'sse', status: res.status, errors: [], raw, timedOut: true };
    }
    return { transport: 'sse', status: res.status, errors: [], raw };
  } catch {
    return { transport: 'sse', errors: [], raw: '', timedOut: true };
  } finally {
    clearTimeout(deadline);
    if (timer) clearInterval(timer);
    ac.abort();
  }
}

function callSse(fx: Fixture, req: CallRequest): Promise<Outcome> {
  return sseRequest(fx, wireBody(req), {
    token: req.token,
    trigger: req.trigger,
    timeoutMs: req.timeoutMs,
  });
}

/** One operation on a fresh graphql-ws connection: the first result, the refusal, or the close. */
export async function callWs(fx: Fixture, req: CallRequest): Promise<Outcome> {
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  const client = createClient({
    url: fx.wsUrl,
    webSocketImpl: RawJsonWebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: req.token !== undefined ? { authorization: `Bearer ${req.token}` } : {},
    on: {
      closed: (e) => {
        const ev = e as { code?: number; reason?: string };
        closeCode ??= ev.code;
        closeReason ??= ev.reason;
      },
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  try {
    const outcome = await new Promise<Outcome>((resolve) => {
      const deadline = setTimeout(
        () => resolve({ transport: 'ws', errors: [], raw: '', timedOut: true }),
        req.timeoutMs ?? 5000,
      );
      const done = (o: Outcome) => {
        clearTimeout(deadline);
        resolve(o);
      };
      unsubscribe = client.subscribe(
        { query: req.query, variables: req.variables, operationName: req.operationName },
        {
          next: (v) => {
            const r = v as { errors?: GqlError[]; data?: Record<string, unknown> | null };
            done({ transport: 'ws', errors: r.errors ?? [], data: r.data, raw: JSON.stringify(v) });
          },
          error: (e) => {
            if (Array.isArray(e)) return done({ transport: 'ws', errors: e as GqlError[], raw: JSON.stringify(e) });
            const ev = e as { code?: number; reason?: string };
            done({
              transport: 'ws',
              errors: [],
              closeCode: ev.code ?? closeCode,
              closeReason: ev.reason ?? closeReason,
              raw: String(ev.reason ?? (e instanceof Error ? e.message : '')),
            });
          },
          complete: () => done({ transport: 'ws', errors: [], raw: '', closeCode, closeReason }),
        },
      );
      if (req.trigger) {
        const trigger = req.trigger;
        timer = setInterval(() => void trigger().catch(() => {}), 100);
      }
    });
    return outcome;
  } finally {
    if (timer) clearInterval(timer);
    unsubscribe();
    await client.dispose();
  }
}

// ---------------------------------------------------------------- raw access

export interface RawHttpRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in pieces. */
  chunked?: boolean;
}

/** A request through node:http, for bodies fetch would not send as they are. */
export function rawHttp(fx: Fixture, req: RawHttpRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const url = new URL(req.path ?? '/graphql', fx.base);
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string | number> = { ...req.headers };
    if (body && !req.chunked) headers['content-length'] = body.length;
    if (req.chunked) headers['transfer-encoding'] = 'chunked';
    const r = httpRequest(
      { method: req.method ?? 'POST', host: url.hostname, port: url.port, path: url.pathname + url.search, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const finish = () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const events = (res.headers['content-type'] ?? '').includes('text/event-stream') ? sseEvents(raw) : [];
          const first = events.find((e) => e.event === 'next');
          const parsed = parseJson(first ? first.data : raw);
          resolve({ transport: 'raw-http', status: res.statusCode, errors: parsed.errors ?? [], data: parsed.data, raw });
        };
        res.on('end', finish);
        res.on('error', finish);
        res.on('aborted', finish);
      },
    );
    r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
    // The server may answer and close before the whole body is sent: that is fine.
    r.on('error', () => resolve({ transport: 'raw-http', errors: [], raw: '', timedOut: true }));
    if (body && req.chunked) {
      const piece = 16 * 1024;
      let offset = 0;
      const pump = () => {
        while (offset < body.length) {
          const part = body.subarray(offset, offset + piece);
          offset += piece;
          if (!r.write(part)) return void r.once('drain', pump);
        }
        r.end();
      };
      pump();
    } else {
      r.end(body);
    }
  });
}

export type Frame = string | Buffer | { binary: Buffer };

/**
 * Opens a raw graphql-transport-ws socket, sends `frames` in order, and collects what the
 * server sends until it closes the socket or `waitMs` passes.
 */
export function rawWs(
  fx: Fixture,
  frames: Frame[],
  opts: { protocol?: string | null; waitMs?: number; stopWhen?: (messages: string[]) => boolean } = {},
): Promise<Outcome & { messages: string[] }> {
  return new Promise((resolve) => {
    const protocol = opts.protocol === undefined ? 'graphql-transport-ws' : opts.protocol;
    const ws = protocol ? new WebSocket(fx.wsUrl, protocol) : new WebSocket(fx.wsUrl);
    const messages: string[] = [];
    let settled = false;
    const settle = (o: Partial<Outcome>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const errors: GqlError[] = [];
      for (const m of messages) {
        try {
          const msg = JSON.parse(m) as { type?: string; payload?: unknown };
          if (msg.type === 'error' && Array.isArray(msg.payload)) errors.push(...(msg.payload as GqlError[]));
          if (msg.type === 'next') errors.push(...(((msg.payload as { errors?: GqlError[] })?.errors ?? []) as GqlError[]));
        } catch {
          // not JSON: kept in raw
        }
      }
      resolve({ transport: 'raw-ws', errors, raw: messages.join('\n') + (o.closeReason ?? ''), messages, ...o });
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };
    const timer = setTimeout(() => settle({ timedOut: true }), opts.waitMs ?? 3000);
    ws.on('open', () => {
      for (const f of frames) {
        if (typeof f === 'object' && !Buffer.isBuffer(f)) ws.send(f.binary, { binary: true });
        else ws.send(f, { binary: false });
      }
    });
    ws.on('message', (m: Buffer) => {
      messages.push(m.toString('utf8'));
      if (opts.stopWhen?.(messages)) settle({});
    });
    ws.on('close', (code: number, reason: Buffer) => settle({ closeCode: code, closeReason: reason.toString('utf8') }));
    ws.on('error', () => {
      // 'close' follows with the code
    });
  });
}

/**
 * A WebSocket upgrade by hand, for subprotocols a real client would give up on before the
 * server speaks (the ws client fails a handshake whose protocol was not chosen): returns
 * the handshake status, the protocol the server chose, and the close frame it then sent.
 */
export function rawUpgrade(fx: Fixture, protocol: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const url = new URL(fx.wsUrl.replace('ws:', 'http:'));
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        'sec-websocket-protocol': protocol,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ transport: 'raw-ws', errors: [], raw: '', timedOut: true });
    }, 3000);
    req.on('response', (res) => {
      // Not upgraded: an HTTP refusal.
      clearTimeout(timer);
      res.resume();
      resolve({ transport: 'raw-ws', status: res.statusCode, errors: [], raw: '' });
    });
    req.on('upgrade', (res, socket, head: Buffer) => {
      let buf = Buffer.alloc(0);
      const chosen = String(res.headers['sec-websocket-protocol'] ?? '');
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // A close frame from the server: FIN + opcode 8, unmasked, short payload.
        if (buf.length >= 4 && (buf[0]! & 0x0f) === 0x8) {
          const len = buf[1]! & 0x7f;
          if (buf.length < 2 + len) return;
          clearTimeout(timer);
          const code = buf.readUInt16BE(2);
          const reason = buf.subarray(4, 2 + len).toString('utf8');
          socket.destroy();
          resolve({ transport: 'raw-ws', errors: [], closeCode: code, closeReason: reason, raw: `${chosen} ${reason}` });
        }
      };
      socket.on('data', onData);
      socket.on('error', () => {});
      if (head.length) onData(head);
    });
    req.on('error', () => {
      clearTimeout(timer);
      resolve({ transport: 'raw-ws', errors: [], raw: '', timedOut: true });
    });
    req.end();
  });
}

// ---------------------------------------------------------------- invariants

/**
 * A read-only connection of the test's own beside the server's: what is committed.
 * SQLite: the file opened read-only. PostgreSQL: a client on the schema whose
 * transactions are read-only; `?` placeholders are numbered ($1, $2...) for it.
 */
interface Reader {
  all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const readers = new Map<string, Promise<Reader>>();

function reader(database: string): Promise<Reader> {
  let r = readers.get(database);
  if (!r) {
    r = isPostgresUrl(database) ? postgresReader(database) : sqliteReader(database);
    readers.set(database, r);
  }
  return r;
}

async function sqliteReader(path: string): Promise<Reader> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  return {
    all: async (sql, params) => db.prepare(sql).all(...params) as Record<string, unknown>[],
    close: async () => void db.close(),
  };
}

async function postgresReader(url: string): Promise<Reader> {
  const settings = parsePostgresUrl(url);
  // The driver's own client settings: bigints come back as numbers, as the store reads them.
  const client = new pg.Client(clientConfig(settings));
  await client.connect();
  await client.query(`SET search_path TO ${quoteIdent(settings.schema)}; SET default_transaction_read_only = on`);
  return {
    all: async (sql, params) => {
      let n = 0;
      return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Record<string, unknown>[];
    },
    close: () => client.end(),
  };
}

async function closeReader(database: string): Promise<void> {
  const r = readers.get(database);
  readers.delete(database);
  if (r) await (await r).close();
}

/** Every table a request could write. */
export const TABLES = [
  'tasks',
  'task_events',
  'task_logs',
  'workers',
  'schedules',
  'concurrency_limits',
  'task_dependencies',
  'api_tokens',
] as const;
export type Table = (typeof TABLES)[number];

export interface DbSnapshot {
  counts: Record<Table, number>;
  /** A digest of each table's full contents: a changed row changes it even when counts do not. */
  digests: Record<Table, string>;
}

/** Reads the database through a separate read-only connection (what is committed). */
export async function snapshot(fx: Fixture): Promise<DbSnapshot> {
  const db = await reader(fx.database);
  const counts = {} as Record<Table, number>;
  const digests = {} as Record<Table, string>;
  for (const t of TABLES) {
    const rows = (await db.all(`SELECT * FROM ${t}`, [])).map((r) => JSON.stringify(r)).sort();
    counts[t] = rows.length;
    digests[t] = createHash('sha256').update(rows.join('\n')).digest('hex');
  }
  return { counts, digests };
}

/** Raw rows of a table, through the read-only connection; parameters are `?` (numbered for PostgreSQL). */
export async function rows<T = Record<string, unknown>>(fx: Fixture, sql: string, ...params: unknown[]): Promise<T[]> {
  return (await (await reader(fx.database)).all(sql, params)) as T[];
}

/**
 * Everything the database holds, for a search for secrets: SQLite the bytes of its file
 * and write-ahead log; PostgreSQL the text of every row of every table of the schema (its
 * files are the server's, out of a client's reach).
 */
export async function storedData(fx: Fixture): Promise<{ where: string; bytes: Buffer }[]> {
  if (!isPostgresUrl(fx.database)) {
    return [fx.database, `${fx.database}-wal`].filter((f) => existsSync(f)).map((f) => ({ where: f, bytes: readFileSync(f) }));
  }
  const db = await reader(fx.database);
  const tables = await db.all(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`, []);
  const out: { where: string; bytes: Buffer }[] = [];
  for (const { t } of tables) {
    const all = await db.all(`SELECT x::text AS r FROM ${quoteIdent(String(t))} x`, []);
    out.push({ where: `table ${String(t)}`, bytes: Buffer.from(all.map((r) => String(r.r)).join('\n')) });
  }
  return out;
}

/** Marks of internals that must never reach a client. */
export const LEAK_PATTERNS: [string, RegExp][] = [
  ['a stack frame', /(^|\\n|\n)\s*at \S.*(:\d+:\d+|\(native\)|<anonymous>)/],
  ['a stack property', /"stack"\s*:/],
  ['a file path', /(\/work\/|\/home\/|\/tmp\/|node_modules|file:\/\/|[\w-]+\.(ts|js|mjs|cjs):\d+)/],
  ['SQLite internals', /SQLITE|sqlite3|better-sqlite|no such (table|column)|syntax error near/i],
  [
    'PostgreSQL internals',
    /postgres(ql)?:\/\/|relation "[^"]*" does not exist|syntax error at or near|violates (unique|foreign key|check|not-null) constraint|duplicate key value|invalid input syntax|current transaction is aborted|\bSQLSTATE\b/i,
  ],
  ['a JavaScript error class', /\b(TypeError|ReferenceError|RangeError|SyntaxError|EvalError|URIError|AggregateError)\b/],
  ['a wrapped internal error', /originalError/],
];

/** The leaks found in `raw` (empty when clean). */
export function leaks(raw: string): string[] {
  return LEAK_PATTERNS.filter(([, re]) => re.test(raw)).map(([what, re]) => `${what}: ${raw.match(re)?.[0]}`);
}

export async function healthStatus(fx: Fixture): Promise<number> {
  try {
    const res = await fetch(`${fx.base}/health`, { signal: AbortSignal.timeout(5000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** Codes of the GraphQL errors in an outcome. */
export function codes(o: Outcome): (string | undefined)[] {
  return o.errors.map((e) => e.extensions?.code);
}

export function describeOutcome(o: Outcome): string {
  return JSON.stringify({
    status: o.status,
    closeCode: o.closeCode,
    closeReason: o.closeReason,
    timedOut: o.timedOut,
    errors: o.errors.map((e) => ({ message: e.message, code: e.extensions?.code })),
    data: o.data,
    raw: o.raw.slice(0, 300),
  });
}

// ---------------------------------------------------------------- assertions

/** The call succeeded: no errors, and the field has a value. */
export function expectSuccess(o: Outcome, field: string): void {
  const what = describeOutcome(o);
  expect(o.timedOut, what).toBeFalsy();
  expect(o.errors, what).toEqual([]);
  expect(o.data?.[field], what).not.toBeUndefined();
  expect(o.data?.[field], what).not.toBeNull();
  if (o.status !== undefined) expect(o.status, what).toBe(200);
}

export interface RefusalRules {
  /** The codes this refusal may carry (every error must have one of them). */
  codes: readonly string[];
  /** The field whose value must not come back. */
  field?: string;
  /** WebSocket close codes accepted besides 4400..4499 (e.g. 1009 for an oversized message). */
  closeCodes?: readonly number[];
}

/**
 * The call was refused clearly: errors that all carry one of `codes` (from the contract),
 * or, over WebSocket, a close with a 44xx code (4403 when the caller is not authenticated);
 * never a 5xx, never data for the refused field, never silence.
 */
export function expectRefused(o: Outcome, rules: RefusalRules): void {
  const what = describeOutcome(o);
  expect(o.timedOut, `no answer: ${what}`).toBeFalsy();
  for (const c of rules.codes) expect(CONTRACT_CODES as readonly string[], `test bug: ${c} is not a contract code`).toContain(c);
  if (o.errors.length === 0) {
    expect(o.closeCode, `neither errors nor a close: ${what}`).toBeDefined();
    const code = o.closeCode!;
    if (rules.codes.includes('UNAUTHENTICATED') && rules.codes.length === 1) {
      expect(code, what).toBe(4403);
    } else {
      const ok = (code >= 4400 && code <= 4499) || (rules.closeCodes ?? []).includes(code);
      expect(ok, `close code ${code} is not 44xx: ${what}`).toBe(true);
    }
  } else {
    for (const e of o.errors) {
      expect(rules.codes, `unexpected error code in ${what}`).toContain(e.extensions?.code);
      expect(typeof e.message === 'string' && e.message.length > 0, what).toBe(true);
    }
    if (rules.field) expect(o.data?.[rules.field] ?? null, `the refused field has data: ${what}`).toBeNull();
  }
  if (o.status !== undefined) {
    expect(o.status < 500, `server error: ${what}`).toBe(true);
    expect(o.status === 200 || (o.status >= 400 && o.status < 500), what).toBe(true);
  }
}

export function expectNoLeak(o: Outcome): void {
  expect(leaks(o.raw), describeOutcome(o)).toEqual([]);
}

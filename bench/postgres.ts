/**
 * PostgreSQL benchmark: the engine on the PostgreSQL driver against the same SQL sent by
 * hand with `pg`, the end-to-end drain over GraphQL with one and with three server
 * instances on one schema, and two PostgreSQL job queues (Graphile Worker, pg-boss)
 * draining the same number of no-op jobs on the same server, in the same run.
 *
 * Engine vs raw. The engine is PostgresTaskStore.open({ url }) with a server's defaults
 * (pool 10, the feed's LISTEN and 250 ms poll on). The raw side is the least a correct
 * implementation has to send, as hand-written named (prepared) statements on one pooled
 * connection per loop: the driver's own INSERT into tasks, the claim walk (the same
 * SELECT ... FOR UPDATE SKIP LOCKED), the same UPDATEs of the task row, the outbox rows
 * as the driver's one batch row per transaction (migration 002), each operation in BEGIN .. COMMIT,
 * then the feed's numbering (`feed_step`, without its read) after the COMMIT, run as the driver's feed runs it
 * (one step at a time per process, callers that arrive meanwhile share the next). What
 * the raw side leaves out is what the ratio measures: validation, RETURNING and mapping
 * the full task row, the worker refresh, the concurrency-limit look-up, the look-up of
 * blocked dependents of completed tasks, the feed's read of the new events, its NOTIFY to
 * other instances and the event bus, the engine's unit machinery. Engine and raw work on separate fresh schemas, in alternating
 * segments (the order swapped each time), and every figure is the median over segments.
 *
 * End-to-end and peers: each run gets a fresh schema with N queued no-op tasks (jobs),
 * filled untimed; every run is warmed up first (its own warm-up jobs, drained by the
 * same processes), then timed from "go" until the database shows all N completed:
 * - Taskwire over GraphQL: `node --import tsx src/cli.ts serve` on the schema (1 or 3
 *   instances), worker processes (bench/graphql-worker.ts over WebSocket, claim 50 +
 *   completeTasks) spread over the instances; afterwards every task is checked to be
 *   SUCCEEDED after exactly one attempt, with exactly one SUCCEEDED outbox row;
 * - Taskwire's engine in-process: claim 50 + completeMany, 8 loops in this process;
 * - Graphile Worker and pg-boss in-process (bench/postgres-peer.ts, a child process).
 * The rounds rotate the order of the runs. CPU per job is read from /proc: the queue's
 * processes (servers, peer, or this process), the worker processes, and PostgreSQL (the
 * backends of this run's connections, found by their application_name; the server's own
 * background processes are not counted); "other" is the rest of the machine's busy CPU.
 *
 * One file on purpose (over 500 lines): each section (engine against raw SQL, drains,
 * peers, report) is read with the others; the raw side is kept next to what it mirrors.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { EnqueueInput } from '../src/store/index.js';
import { clientConfig, parsePostgresUrl, quoteIdent, sessionSql } from '../src/store/postgres/connection.js';
import { migrate } from '../src/store/postgres/migrations/index.js';
import { PostgresTaskStore } from '../src/store/postgres/store.js';
import { SerialSteps } from '../src/events/serial-steps.js';
import { wsClient } from './clients.js';
import { WorkerProc, machineJiffies, pickupLatency, procCpuMs, startTaskwire, type Server } from './graphql.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresBenchOptions {
  quick: boolean;
  /** The server to use (a database Taskwire may create schemas in); default TASKWIRE_BENCH_PG_URL, TASKWIRE_TEST_PG_URL, else the local one. */
  url?: string;
  log?: (line: string) => void;
}

export interface PgSizes {
  segments: number;
  /** enqueue + claim + complete cycles per side before each engine-vs-raw scenario. */
  warmCycles: number;
  enqueue: number;
  enqueueManyBatches: number;
  claims: number;
  cycles: number;
  /** Tasks per drain segment (engine vs raw). */
  drainSegment: number;
  /** Tasks (jobs) per end-to-end / peer run. */
  drainTasks: number;
  /** Warm-up tasks per worker process (Taskwire) or per run (engine in-process, peers). */
  warmTasks: number;
  rounds: number;
  /** Long-poll pickups timed across two instances. */
  pickupSamples: number;
}

export function postgresSizesFor(quick: boolean): PgSizes {
  return quick
    ? { segments: 4, warmCycles: 50, enqueue: 400, enqueueManyBatches: 16, claims: 400, cycles: 200, drainSegment: 2_000, drainTasks: 5_000, warmTasks: 300, rounds: 1, pickupSamples: 50 }
    : { segments: 10, warmCycles: 300, enqueue: 5_000, enqueueManyBatches: 100, claims: 5_000, cycles: 3_000, drainSegment: 10_000, drainTasks: 50_000, warmTasks: 2_000, rounds: 3, pickupSamples: 200 };
}

/** Load shape. */
export const PG_SHAPE = {
  claimBatch: 50,
  /** Claim + completeMany loops in flight, engine and raw (and the in-process engine drain). */
  drainLoops: 8,
  /** Worker processes of the GraphQL drains (with 3 instances: one per instance). */
  workers: 3,
  transport: 'ws' as const,
  graphile: { concurrency: 24, localQueue: 500, batchDelayMs: 0 },
  pgBoss: { workers: 8, batchSize: 100, pollingSeconds: 0.5 },
};

export interface PgEngineRow {
  key: string;
  label: string;
  unit: string;
  engine: number;
  raw: number;
  /** Median CPU of this process per operation (us). */
  engineCpuUs: number;
  rawCpuUs: number;
  /** Median CPU of PostgreSQL per operation (us). */
  enginePgUs: number;
  rawPgUs: number;
}

export interface PgDrainRow {
  key: string;
  group: 'taskwire' | 'peer';
  label: string;
  unit: string;
  value: number;
  min?: number;
  max?: number;
  /** The queue's processes: the server(s), the peer's process, or this process. */
  queueCpuUs?: number;
  /** The GraphQL worker processes. */
  workerCpuUs?: number;
  pgCpuUs?: number;
  otherCores?: number;
  note?: string;
  /** Set when the run could not be measured; the rest of the section still runs. */
  error?: string;
}

export interface PostgresReport {
  mode: 'quick' | 'full';
  node: string;
  cpus: number;
  url: string;
  server: string | null;
  versions: Record<string, string>;
  loadStart: number[];
  loadEnd: number[];
  sizes: PgSizes;
  shape: typeof PG_SHAPE;
  engineRows: PgEngineRow[];
  drainRows: PgDrainRow[];
  notes: string[];
  /** Why the section did not run (PostgreSQL unreachable). */
  skipped?: string;
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NCPU = cpus().length;

function median(xs: number[]): number {
  const a = xs.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length === 0 ? NaN : a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/**
 * Every connection of this run (engine, raw, servers, peers) carries this application_name,
 * so that PostgreSQL's CPU can be read for our backends only: the server is shared.
 */
const APP = `twbench_${process.pid}`;
let pgAdmin: pg.Pool | null = null;

/**
 * CPU ms so far of each backend of this run (pg_stat_activity by application_name, then
 * /proc/<pid>/stat): null when PostgreSQL's processes are not visible from here.
 */
async function backendCpu(): Promise<Map<number, number> | null> {
  if (!pgAdmin) return null;
  const { rows } = await pgAdmin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [APP]);
  const m = new Map<number, number>();
  for (const r of rows) {
    const ms = procCpuMs(r.pid);
    // Gone since the query (a pool closed an idle connection), or not on this machine.
    if (!Number.isNaN(ms)) m.set(r.pid, ms);
  }
  return rows.length > 0 && m.size === 0 ? null : m;
}

/** A backend that started within the window counts from zero; one that ended within it is lost. */
function backendMs(a: Map<number, number> | null, b: Map<number, number> | null): number {
  if (!a || !b) return NaN;
  let sum = 0;
  for (const [pid, ms] of b) sum += ms - (a.get(pid) ?? 0);
  return sum;
}

interface Snap {
  t: number;
  self: NodeJS.CpuUsage;
  queue: number;
  pg: Map<number, number> | null;
  machine: { busy: number; total: number };
}

/**
 * The window's edges: at the start the backends' CPU is read (one query) before the clock,
 * at the end after it, so that the query's round trip stays out of the timed window.
 */
async function snap(queuePids: number[] = [], end = false): Promise<Snap> {
  const pgBefore = end ? null : await backendCpu().catch(() => null);
  const s: Snap = {
    t: performance.now(),
    self: process.cpuUsage(),
    queue: queuePids.reduce((a, p) => a + procCpuMs(p), 0),
    pg: pgBefore,
    machine: machineJiffies(),
  };
  if (end) s.pg = await backendCpu().catch(() => null);
  return s;
}

interface Window {
  wallMs: number;
  selfMs: number;
  queueMs: number;
  pgMs: number;
  busyCores: number;
}

function between(a: Snap, b: Snap): Window {
  return {
    wallMs: b.t - a.t,
    selfMs: (b.self.user - a.self.user + b.self.system - a.self.system) / 1000,
    queueMs: b.queue - a.queue,
    pgMs: backendMs(a.pg, b.pg),
    busyCores: ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * NCPU,
  };
}

const display = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

// ---------------------------------------------------------------- schemas

export class Schemas {
  readonly admin: pg.Pool;
  private readonly made = new Set<string>();
  private n = 0;

  constructor(readonly url: string) {
    this.admin = new pg.Pool({ connectionString: url, max: 2 });
    this.admin.on('error', () => {});
  }

  /** A new schema name of this run (lower case, < 63 chars). */
  name(what: string): string {
    const s = `twbench_${process.pid}_${++this.n}_${what}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 60);
    this.made.add(s);
    return s;
  }

  /** The server's URL naming `schema` (null: none), tagged with this run's application_name. */
  urlOf(schema: string | null, extra: Record<string, string> = {}): string {
    const u = new URL(this.url);
    if (schema !== null) u.searchParams.set('schema', schema);
    u.searchParams.set('application_name', APP);
    for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
    return u.toString();
  }

  /** Taskwire's schema, by the driver's own migration. */
  async migrate(schema: string): Promise<void> {
    const c = await this.admin.connect();
    try {
      await migrate(c, schema);
    } finally {
      c.release();
    }
  }

  /** `n` QUEUED tasks in `queue` (priorities 0..9, payload {n}), one INSERT ... SELECT. No outbox rows. */
  async fill(schema: string, queue: string, n: number, start = 0): Promise<void> {
    if (n <= 0) return;
    await this.admin.query(
      `INSERT INTO ${quoteIdent(schema)}.tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after, created_at, updated_at)
       SELECT $1, 'bench', x % 10, json_build_object('n', x)::text, '{}', 'QUEUED', 5, $2, $2, $2 FROM generate_series($3::bigint, $4::bigint) x`,
      [queue, Date.now() - 1_000, start, start + n - 1],
    );
  }

  async vacuum(schema: string): Promise<void> {
    const s = quoteIdent(schema);
    await this.admin.query(`VACUUM (ANALYZE) ${s}.tasks, ${s}.event_batches, ${s}.workers, ${s}.event_sequence`);
  }

  async queued(schema: string, queue = 'default'): Promise<number> {
    return Number((await this.admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.tasks WHERE status = 'QUEUED' AND queue = $1`, [queue])).rows[0]!.n);
  }

  async drop(schema: string): Promise<void> {
    await this.admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    this.made.delete(schema);
  }

  async dropAll(): Promise<void> {
    for (const s of [...this.made]) await this.drop(s).catch(() => {});
  }
}

// ---------------------------------------------------------------- the raw side

/**
 * The driver's statements (src/store/postgres/queries/*.ts, as of the batched claim and
 * completion: one UPDATE ... FROM unnest per claim or batch completion), RETURNING only
 * what the caller needs. Keep in step with the driver.
 */
const RAW = {
  insertTask: `INSERT INTO tasks (queue, type, priority, payload, compatibility, region, format, status, max_attempts, run_after,
       idempotency_key, correlation_id, timeout_seconds, error_message, finished_at, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id`,
  insertEvents: `INSERT INTO event_batches (n, kinds, ats, task_ids, statuses, queues, types, worker_ids, log_ids, max_at)
     VALUES ($1, $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10)`,
  // The feed's step (migration 002) without its read: numbers batches, returns no event.
  sequence: 'SELECT count(*)::int AS n FROM feed_step(0, $1, 0, NULL, NULL)',
  upsertWorker: `INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at) VALUES ($1, '{}', 'ACTIVE', $2, $2)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, status = 'ACTIVE'`,
  walk: `SELECT id, type, priority FROM tasks WHERE status = 'QUEUED' AND queue = $1 AND run_after <= $2 AND (region IS NULL OR region = $3)
     ORDER BY priority, id LIMIT $4 FOR UPDATE SKIP LOCKED`,
  markRunning: `UPDATE tasks t SET status = 'RUNNING', attempts = t.attempts + 1, lease_token = c.token, lease_until = $3,
       locked_by = $4, started_at = $5, updated_at = $5, progress = NULL, progress_message = NULL, cancel_requested = false,
       timeout_at = CASE WHEN t.timeout_seconds IS NULL THEN NULL ELSE $5::bigint + t.timeout_seconds * 1000 END
     FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS c(id, token, n)
     WHERE t.id = c.id AND t.status = 'QUEUED'
     RETURNING c.n`,
  finish: `UPDATE tasks t SET status = 'SUCCEEDED', result = c.result, finished_at = $5, updated_at = $5,
       lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(id, token, holder, result, n)
     WHERE t.id = c.id AND t.status = 'RUNNING' AND t.lease_token = c.token AND (c.holder IS NULL OR t.locked_by = c.holder)
     RETURNING c.n`,
};

type RawEvent = [kind: string, at: number, taskId: number, status: string, queue: string, type: string, workerId: string | null];

export interface RawClaimed {
  id: number;
  token: string;
}

/**
 * The sequencer as the driver's feed runs it (feed.ts): one `feed_step` step at a
 * time per process; a caller waits for a step that began after its COMMIT, and callers
 * arriving meanwhile share the next step.
 */
class RawSequencer {
  private readonly steps = new SerialSteps(() => this.step());
  constructor(private readonly connect: () => Promise<pg.PoolClient>) {}

  sync(): Promise<void> {
    return this.steps.after();
  }

  private async step(): Promise<void> {
    const c = await this.connect();
    try {
      for (;;) {
        await c.query<{ n: number }>({ name: 'raw_sequence_events', text: RAW.sequence, values: [5000] });
        return;
      }
    } finally {
      c.release();
    }
  }
}

/** One connection's worth of hand-written statements. */
class RawConn {
  constructor(
    private readonly c: pg.PoolClient,
    private readonly sequencer: RawSequencer,
  ) {}

  private q(name: string, text: string, values: unknown[]) {
    return this.c.query({ name: `raw_${name}`, text, values });
  }

  private async events(list: RawEvent[]): Promise<void> {
    const cols: unknown[][] = [[], [], [], [], [], [], [], []];
    let maxAt = 0;
    for (const e of list) {
      for (let i = 0; i < 7; i++) cols[i]!.push(e[i]);
      cols[7]!.push(null);
      maxAt = Math.max(maxAt, e[1]);
    }
    await this.q('insert_events', RAW.insertEvents, [list.length, ...cols, maxAt]);
  }

  /** BEGIN, the work and its outbox rows, COMMIT, then a sequencer step that began after the COMMIT. */
  private async tx<T>(fn: (events: RawEvent[]) => Promise<T>): Promise<T> {
    await this.c.query('BEGIN');
    let r: T;
    try {
      const events: RawEvent[] = [];
      r = await fn(events);
      if (events.length > 0) await this.events(events);
      await this.c.query('COMMIT');
    } catch (e) {
      await this.c.query('ROLLBACK').catch(() => {});
      throw e;
    }
    await this.sequencer.sync();
    return r;
  }

  private async insert(payload: unknown, now: number, events: RawEvent[]): Promise<number> {
    const { rows } = await this.q('insert_task', RAW.insertTask, [
      'default', 'bench', 100, JSON.stringify(payload), '{}', null, null, 'QUEUED', 5, now, null, null, null, null, null, null, now,
    ]);
    const id = (rows[0] as { id: number }).id;
    events.push(['ENQUEUED', now, id, 'QUEUED', 'default', 'bench', null]);
    return id;
  }

  enqueue(payload: unknown): Promise<number> {
    return this.tx((events) => this.insert(payload, Date.now(), events));
  }

  enqueueMany(payloads: readonly unknown[]): Promise<number[]> {
    return this.tx(async (events) => {
      const now = Date.now();
      const ids: number[] = [];
      for (const p of payloads) ids.push(await this.insert(p, now, events));
      return ids;
    });
  }

  claim(workerId: string, limit: number, leaseMs: number): Promise<RawClaimed[]> {
    return this.tx(async (events) => {
      const now = Date.now();
      await this.q('upsert_worker', RAW.upsertWorker, [workerId, now]);
      const { rows } = await this.q('walk', RAW.walk, ['default', now, null, limit]);
      const candidates = (rows as { id: number; type: string }[]).sort((a, b) => a.id - b.id);
      if (candidates.length === 0) return [];
      const tokens = candidates.map(() => randomUUID());
      const r = await this.q('mark_running', RAW.markRunning, [candidates.map((c) => c.id), tokens, now + leaseMs, workerId, now]);
      const claimed: RawClaimed[] = [];
      for (const { n } of r.rows as { n: number }[]) {
        const c = candidates[n - 1]!;
        events.push(['CLAIMED', now, c.id, 'RUNNING', 'default', c.type, workerId]);
        claimed.push({ id: c.id, token: tokens[n - 1]! });
      }
      return claimed;
    });
  }

  complete(items: readonly RawClaimed[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return this.tx(async (events) => {
      const now = Date.now();
      const sorted = [...items].sort((a, b) => a.id - b.id);
      const result = JSON.stringify({ ok: true });
      const r = await this.q('finish', RAW.finish, [sorted.map((it) => it.id), sorted.map((it) => it.token), sorted.map(() => null), sorted.map(() => result), now]);
      if (r.rowCount !== sorted.length) throw new Error(`raw: ${sorted.length - (r.rowCount ?? 0)} leases lost`);
      for (const it of sorted) events.push(['SUCCEEDED', now, it.id, 'SUCCEEDED', 'default', 'bench', null]);
    });
  }
}

/** A pool whose sessions are set up as the driver's are (search_path, timeouts, int8 as number). */
export class RawPg {
  readonly pool: pg.Pool;
  private readonly sequencer: RawSequencer;
  private readonly session: string;
  private readonly ready = new WeakSet<pg.PoolClient>();
  constructor(url: string) {
    const settings = parsePostgresUrl(url);
    const session = sessionSql(settings);
    this.pool = new pg.Pool({ ...clientConfig(settings), max: PG_SHAPE.drainLoops + 2 });
    this.pool.on('error', () => {});
    this.session = session;
    this.sequencer = new RawSequencer(() => this.connect());
  }

  /** A pooled connection, its session set up (awaited) before its first statement. */
  async connect(): Promise<pg.PoolClient> {
    const c = await this.pool.connect();
    if (!this.ready.has(c)) {
      await c.query(this.session);
      this.ready.add(c);
    }
    return c;
  }

  async with<T>(fn: (c: RawConn) => Promise<T>): Promise<T> {
    const c = await this.connect();
    try {
      return await fn(new RawConn(c, this.sequencer));
    } finally {
      c.release();
    }
  }
}

// ---------------------------------------------------------------- engine vs raw

interface Series {
  rates: number[];
  cpuUs: number[];
  pgUs: number[];
}

async function measure(into: Series, ops: number, run: () => Promise<void>): Promise<void> {
  const a = await snap();
  await run();
  const w = between(a, await snap([], true));
  into.rates.push((ops / w.wallMs) * 1000);
  into.cpuUs.push((w.selfMs * 1000) / ops);
  into.pgUs.push((w.pgMs * 1000) / ops);
}

interface Side {
  /** Untimed preparation before each segment. */
  before?: () => Promise<void>;
  run: () => Promise<void>;
}

/** Alternating engine/raw segments (order swapped each time); medians. */
async function alternate(segments: number, ops: number, engine: Side, raw: Side): Promise<Omit<PgEngineRow, 'key' | 'label' | 'unit'>> {
  const e: Series = { rates: [], cpuUs: [], pgUs: [] };
  const r: Series = { rates: [], cpuUs: [], pgUs: [] };
  const runOne = async (side: Side, into: Series) => {
    await side.before?.();
    await measure(into, ops, side.run);
  };
  for (let s = 0; s < segments; s++) {
    if (s % 2 === 0) {
      await runOne(engine, e);
      await runOne(raw, r);
    } else {
      await runOne(raw, r);
      await runOne(engine, e);
    }
  }
  return {
    engine: median(e.rates),
    raw: median(r.rates),
    engineCpuUs: median(e.cpuUs),
    rawCpuUs: median(r.cpuUs),
    enginePgUs: median(e.pgUs),
    rawPgUs: median(r.pgUs),
  };
}

interface Pair {
  store: PostgresTaskStore;
  raw: RawPg;
  engineSchema: string;
  rawSchema: string;
  close(): Promise<void>;
}

async function openPair(db: Schemas, name: string): Promise<Pair> {
  const engineSchema = db.name(`${name}_e`);
  const rawSchema = db.name(`${name}_r`);
  await db.migrate(rawSchema);
  // A server's defaults: pool 10, feed LISTEN and polling on.
  const store = await PostgresTaskStore.open({ url: db.urlOf(engineSchema) });
  const raw = new RawPg(db.urlOf(rawSchema));
  return {
    store,
    raw,
    engineSchema,
    rawSchema,
    async close() {
      await store.close();
      await raw.pool.end();
      await db.drop(engineSchema);
      await db.drop(rawSchema);
    },
  };
}

const enqueueInput = (i: number): EnqueueInput => ({ type: 'bench', payload: { n: i } });

async function warmUp(p: Pair, cycles: number): Promise<void> {
  for (let i = 0; i < cycles; i++) {
    await p.store.enqueue(enqueueInput(i));
    const [c] = await p.store.claim({ workerId: 'warm', limit: 1, strategy: 'PRIORITY' });
    if (c) await p.store.complete({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } });
  }
  await p.raw.with(async (c) => {
    for (let i = 0; i < cycles; i++) {
      await c.enqueue({ n: i });
      const claimed = await c.claim('warm', 1, 30_000);
      await c.complete(claimed);
    }
  });
}

/** `loops` claim + completeMany loops on the engine until the queue is empty; how many they took. */
export async function engineDrain(store: PostgresTaskStore, queue: string, loops: number): Promise<number> {
  let total = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, k) => {
      for (;;) {
        const claimed = await store.claim({ workerId: `drain-${k}`, queue, limit: PG_SHAPE.claimBatch, leaseSeconds: 600 });
        if (claimed.length === 0) return;
        await store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } })));
        total += claimed.length;
      }
    }),
  );
  return total;
}

export async function rawDrain(raw: RawPg, loops: number): Promise<number> {
  let total = 0;
  await Promise.all(
    Array.from({ length: loops }, (_, k) =>
      raw.with(async (c) => {
        for (;;) {
          const claimed = await c.claim(`drain-${k}`, PG_SHAPE.claimBatch, 600_000);
          if (claimed.length === 0) return;
          await c.complete(claimed);
          total += claimed.length;
        }
      }),
    ),
  );
  return total;
}

async function engineVsRaw(db: Schemas, z: PgSizes, log: (l: string) => void, rows: PgEngineRow[], notes: string[]): Promise<void> {
  // ---- enqueue, one per transaction
  {
    log(`postgres: enqueue, ${z.enqueue} single-task transactions each side`);
    const p = await openPair(db, 'enqueue');
    try {
      await warmUp(p, z.warmCycles);
      const per = Math.ceil(z.enqueue / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await p.raw.with((c) =>
        alternate(
          z.segments,
          per,
          { run: () => loop(per, () => p.store.enqueue(enqueueInput(ei++))) },
          { run: () => loop(per, () => c.enqueue({ n: ri++ })) },
        ),
      );
      rows.push({ key: 'enqueue', label: 'enqueue (1 per tx)', unit: 'tasks/s', ...r });
    } finally {
      await p.close();
    }
  }

  // ---- enqueueMany, 100 per transaction
  {
    log(`postgres: enqueueMany, ${z.enqueueManyBatches} batches of 100 each side`);
    const p = await openPair(db, 'many');
    try {
      await warmUp(p, z.warmCycles);
      const per = Math.ceil(z.enqueueManyBatches / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await p.raw.with((c) =>
        alternate(
          z.segments,
          per * 100,
          { run: () => loop(per, () => p.store.enqueueMany(Array.from({ length: 100 }, () => enqueueInput(ei++)))) },
          { run: () => loop(per, () => c.enqueueMany(Array.from({ length: 100 }, () => ({ n: ri++ })))) },
        ),
      );
      rows.push({ key: 'enqueueMany', label: 'enqueueMany (100 per tx)', unit: 'tasks/s', ...r });
    } finally {
      await p.close();
    }
  }

  // ---- claim limit 1, the queue topped up to 1,000 before each segment (untimed)
  {
    log(`postgres: claim limit 1, ${z.claims} claims each side, 1,000 queued`);
    const p = await openPair(db, 'claim');
    try {
      await warmUp(p, z.warmCycles);
      const per = Math.ceil(z.claims / z.segments);
      let base = 1_000_000;
      const topUp = async (schema: string) => {
        const missing = 1_000 - (await db.queued(schema));
        if (missing > 0) await db.fill(schema, 'default', missing, (base += 10_000));
      };
      const r = await p.raw.with((c) =>
        alternate(
          z.segments,
          per,
          {
            before: () => topUp(p.engineSchema),
            run: () =>
              loop(per, async () => {
                const [t] = await p.store.claim({ workerId: 'w1', limit: 1, strategy: 'PRIORITY' });
                if (!t) throw new Error('engine: queue ran dry');
              }),
          },
          {
            before: () => topUp(p.rawSchema),
            run: () =>
              loop(per, async () => {
                if ((await c.claim('w1', 1, 30_000)).length !== 1) throw new Error('raw: queue ran dry');
              }),
          },
        ),
      );
      rows.push({ key: 'claim', label: 'claim limit 1, 1,000 queued', unit: 'claims/s', ...r });
    } finally {
      await p.close();
    }
  }

  // ---- full cycle: enqueue, claim, complete (3 transactions)
  {
    log(`postgres: full cycle, ${z.cycles} cycles each side`);
    const p = await openPair(db, 'cycle');
    try {
      await warmUp(p, z.warmCycles);
      const per = Math.ceil(z.cycles / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await p.raw.with((c) =>
        alternate(
          z.segments,
          per,
          {
            run: () =>
              loop(per, async () => {
                await p.store.enqueue(enqueueInput(ei++));
                const [t] = await p.store.claim({ workerId: 'w1', limit: 1, strategy: 'PRIORITY' });
                await p.store.complete({ taskId: t!.task.id, leaseToken: t!.leaseToken, result: { ok: true } });
              }),
          },
          {
            run: () =>
              loop(per, async () => {
                await c.enqueue({ n: ri++ });
                await c.complete(await c.claim('w1', 1, 30_000));
              }),
          },
        ),
      );
      rows.push({ key: 'cycle', label: 'full cycle (enqueue+claim+complete)', unit: 'cycles/s', ...r });
    } finally {
      await p.close();
    }
  }

  // ---- drain: claim 50 + completeMany, several loops in flight, from a pre-filled queue
  {
    const n = z.drainSegment;
    const loops = PG_SHAPE.drainLoops;
    log(`postgres: drain, ${z.segments} segments of ${n.toLocaleString('en-US')} tasks each side, ${loops} loops of claim ${PG_SHAPE.claimBatch} + completeMany`);
    const p = await openPair(db, 'drain');
    try {
      await warmUp(p, z.warmCycles);
      let base = 0;
      // Untimed: fill the segment's tasks into an empty, vacuumed queue.
      const refill = async (schema: string) => {
        await db.vacuum(schema);
        await db.fill(schema, 'default', n, (base += n));
      };
      let drainedE = 0;
      let drainedR = 0;
      const r = await alternate(
        z.segments,
        n,
        { before: () => refill(p.engineSchema), run: async () => void (drainedE += await engineDrain(p.store, 'default', loops)) },
        { before: () => refill(p.rawSchema), run: async () => void (drainedR += await rawDrain(p.raw, loops)) },
      );
      if (drainedE !== n * z.segments || drainedR !== n * z.segments) {
        throw new Error(`drain: engine took ${drainedE}, raw ${drainedR}, of ${n * z.segments} each`);
      }
      rows.push({ key: 'drain', label: `drain: claim ${PG_SHAPE.claimBatch} + completeMany, ${loops} loops`, unit: 'tasks/s', ...r });
      notes.push(`drain segments: ${n.toLocaleString('en-US')} tasks each, filled by one INSERT ... SELECT after a VACUUM (ANALYZE), untimed`);
    } finally {
      await p.close();
    }
  }
}

async function loop(n: number, op: () => Promise<unknown>): Promise<void> {
  for (let k = 0; k < n; k++) await op();
}

// ---------------------------------------------------------------- end-to-end and peers

interface RunResult {
  ops: number;
  window: Window;
  /** The run's own measure of its duration (the peers time themselves), else window.wallMs. */
  ms?: number;
  /** CPU of the queue's processes / the worker processes, as reported by themselves (ms). */
  queueMs?: number;
  workerMs?: number;
  /** The queue ran in this process (queueMs is this process's CPU). */
  inProcess?: boolean;
  note?: string;
}

async function stopAll(servers: Server[]): Promise<string[]> {
  const problems: string[] = [];
  for (const s of servers) {
    try {
      const stopped = await s.stop();
      if (stopped.code !== 0) problems.push(`server exited with ${stopped.code ?? stopped.signal} after SIGINT:\n${s.output().slice(-2000)}`);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

/** Every task of `queue` SUCCEEDED after exactly one attempt, with one SUCCEEDED outbox row each. */
async function checkExactlyOnce(db: Schemas, schema: string, queue: string, n: number): Promise<string> {
  const s = quoteIdent(schema);
  const { rows } = await db.admin.query<{ total: string; succeeded: string; once: string; events: string }>(
    `SELECT (SELECT count(*) FROM ${s}.tasks WHERE queue = $1) AS total,
            (SELECT count(*) FROM ${s}.tasks WHERE queue = $1 AND status = 'SUCCEEDED') AS succeeded,
            (SELECT count(*) FROM ${s}.tasks WHERE queue = $1 AND status = 'SUCCEEDED' AND attempts = 1) AS once,
            (SELECT count(*) FROM ${s}.task_events WHERE queue = $1 AND kind = 'SUCCEEDED') AS events`,
    [queue],
  );
  const r = rows[0]!;
  const [total, succeeded, once, events] = [r.total, r.succeeded, r.once, r.events].map(Number) as [number, number, number, number];
  if (total !== n || succeeded !== n || once !== n || events !== n) {
    throw new Error(`exactly-once check failed: ${total} tasks, ${succeeded} SUCCEEDED, ${once} of them after one attempt, ${events} SUCCEEDED events; expected ${n}`);
  }
  return `${n.toLocaleString('en-US')} SUCCEEDED, each after 1 attempt, ${n.toLocaleString('en-US')} SUCCEEDED events`;
}

/** Taskwire over GraphQL: `instances` servers on one fresh schema, worker processes spread over them. */
async function taskwireDrain(db: Schemas, instances: number, z: PgSizes): Promise<RunResult> {
  const schema = db.name(`e2e${instances}`);
  const n = z.drainTasks;
  const servers: Server[] = [];
  const workers: WorkerProc[] = [];
  let problems: string[] = [];
  try {
    await db.migrate(schema);
    await db.fill(schema, 'default', n);
    for (let k = 0; k < PG_SHAPE.workers; k++) await db.fill(schema, `warm-${k}`, z.warmTasks);
    await db.vacuum(schema);
    const url = db.urlOf(schema);
    for (let i = 0; i < instances; i++) servers.push(await startTaskwire(url));
    for (let k = 0; k < PG_SHAPE.workers; k++) {
      const server = servers[k % instances]!;
      workers.push(
        new WorkerProc({ url: server.url, transport: PG_SHAPE.transport, workerId: `bench-${instances}-${k}`, batch: PG_SHAPE.claimBatch, queue: 'default', warmQueue: `warm-${k}` }),
      );
    }
    await Promise.all(workers.map((w) => w.line('ready')));
    await sleep(300); // let the post-warm-up work settle (feeds, sequencer)
    const pids = servers.map((s) => s.pid);
    const a = await snap(pids);
    for (const w of workers) w.go();
    const done = await Promise.all(workers.map((w) => w.line('done ')));
    const window = between(a, await snap(pids, true));
    const results = done.map((l) => JSON.parse(l.slice(5)) as { tasks: number; ms: number; cpuMs: number });
    const took = results.reduce((s, r) => s + r.tasks, 0);
    if (took !== n) throw new Error(`the workers drained ${took} tasks, not ${n}`);
    await Promise.all(workers.map((w) => w.p.exited));
    const note = await checkExactlyOnce(db, schema, 'default', n);
    return { ops: n, window, workerMs: results.reduce((s, r) => s + r.cpuMs, 0), note };
  } finally {
    for (const w of workers) if (w.p.proc.exitCode === null) w.p.proc.kill('SIGKILL');
    problems = await stopAll(servers);
    await db.drop(schema).catch(() => {});
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }
}

/** The engine in this process: 8 claim 50 + completeMany loops over the same N tasks. */
async function engineInProcessDrain(db: Schemas, z: PgSizes): Promise<RunResult> {
  const schema = db.name('e2e_engine');
  const n = z.drainTasks;
  let store: PostgresTaskStore | null = null;
  try {
    await db.migrate(schema);
    await db.fill(schema, 'default', n);
    await db.fill(schema, 'warm', z.warmTasks);
    await db.vacuum(schema);
    store = await PostgresTaskStore.open({ url: db.urlOf(schema) });
    await engineDrain(store, 'warm', PG_SHAPE.drainLoops);
    await sleep(300);
    const a = await snap();
    const took = await engineDrain(store, 'default', PG_SHAPE.drainLoops);
    const window = between(a, await snap([], true));
    if (took !== n) throw new Error(`the engine drained ${took} tasks, not ${n}`);
    await store.close();
    store = null;
    const note = await checkExactlyOnce(db, schema, 'default', n);
    return { ops: n, window, queueMs: window.selfMs, inProcess: true, note };
  } finally {
    await store?.close().catch(() => {});
    await db.drop(schema).catch(() => {});
  }
}

type PeerName = 'graphile-worker' | 'pg-boss';

async function peerDrain(db: Schemas, peer: PeerName, z: PgSizes): Promise<RunResult> {
  const schema = db.name(peer === 'graphile-worker' ? 'graphile' : 'pgboss');
  const n = z.drainTasks;
  const w = new WorkerProc(
    {
      peer,
      url: db.urlOf(null),
      schema,
      jobs: n,
      warm: z.warmTasks,
      concurrency: PG_SHAPE.graphile.concurrency,
      localQueue: PG_SHAPE.graphile.localQueue,
      batchDelayMs: PG_SHAPE.graphile.batchDelayMs,
      bossWorkers: PG_SHAPE.pgBoss.workers,
      bossBatchSize: PG_SHAPE.pgBoss.batchSize,
      bossPollingSeconds: PG_SHAPE.pgBoss.pollingSeconds,
    },
    'bench/postgres-peer.ts',
  );
  try {
    await w.line('ready');
    await sleep(300);
    const a = await snap();
    w.go();
    const line = await w.line('done ');
    const window = between(a, await snap([], true));
    const r = JSON.parse(line.slice(5)) as { tasks: number; ms: number; cpuMs: number };
    w.go(); // now it may close its connections and exit
    const exit = await w.p.exited;
    if (exit.code !== 0) throw new Error(`${peer} exited with ${exit.code ?? exit.signal}:\n${w.p.output().slice(-2000)}`);
    // The peer's own clock: from its start to the database showing every job completed.
    const started = peer === 'graphile-worker' ? ' (the window includes starting the runner on the warm pool)' : '';
    return { ops: r.tasks, window, ms: r.ms, queueMs: r.cpuMs, note: `${n.toLocaleString('en-US')} jobs, each handled once, all completed in the database${started}` };
  } catch (e) {
    const out = w.p.output().trim();
    throw new Error(`${(e as Error).message.split('\n')[0]}${out ? `\n${out.slice(-1500)}` : ''}`);
  } finally {
    if (w.p.proc.exitCode === null) w.p.proc.kill('SIGKILL');
    await db.drop(schema).catch(() => {});
  }
}

interface Collected {
  key: string;
  group: PgDrainRow['group'];
  label: string;
  runs: RunResult[];
  errors: string[];
}

function rowOf(c: Collected): PgDrainRow {
  const base = { key: c.key, group: c.group, label: c.label, unit: 'tasks/s' };
  if (c.runs.length === 0) return { ...base, value: NaN, error: c.errors[0] ?? 'not run' };
  const rates = c.runs.map((r) => (r.ops / (r.ms ?? r.window.wallMs)) * 1000);
  const per = (f: (r: RunResult) => number | undefined) => {
    const xs = c.runs.map((r) => f(r)).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? undefined : median(xs);
  };
  return {
    ...base,
    value: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    queueCpuUs: per((r) => (((r.queueMs ?? r.window.queueMs) * 1000) / r.ops)),
    workerCpuUs: per((r) => (r.workerMs === undefined ? undefined : (r.workerMs * 1000) / r.ops)),
    pgCpuUs: per((r) => (r.window.pgMs * 1000) / r.ops),
    otherCores: per((r) => {
      const w = r.window;
      const self = r.inProcess ? 0 : w.selfMs;
      const ours = (self + (r.queueMs ?? w.queueMs) + (r.workerMs ?? 0) + (Number.isNaN(w.pgMs) ? 0 : w.pgMs)) / w.wallMs;
      return Math.max(0, w.busyCores - ours);
    }),
    note: [c.runs[c.runs.length - 1]!.note, c.errors.length ? `${c.errors.length} run(s) failed: ${c.errors[0]}` : ''].filter(Boolean).join('; '),
  };
}

async function endToEnd(db: Schemas, z: PgSizes, log: (l: string) => void, versions: Record<string, string>): Promise<PgDrainRow[]> {
  const n = z.drainTasks.toLocaleString('en-US');
  const g = PG_SHAPE.graphile;
  const b = PG_SHAPE.pgBoss;
  const transport = PG_SHAPE.transport === 'ws' ? 'WebSocket' : 'HTTP';
  const runs: (Collected & { run: () => Promise<RunResult>; what: string })[] = [
    {
      key: 'tw-1',
      group: 'taskwire',
      label: `Taskwire, 1 server: ${PG_SHAPE.workers} worker processes over ${transport}, claim ${PG_SHAPE.claimBatch} + completeTasks`,
      what: `Taskwire drain, 1 server, ${PG_SHAPE.workers} workers`,
      run: () => taskwireDrain(db, 1, z),
      runs: [],
      errors: [],
    },
    {
      key: 'tw-3',
      group: 'taskwire',
      label: `Taskwire, 3 servers on one schema: ${PG_SHAPE.workers} worker processes, 1 per server`,
      what: `Taskwire drain, 3 servers, ${PG_SHAPE.workers} workers`,
      run: () => taskwireDrain(db, 3, z),
      runs: [],
      errors: [],
    },
    {
      key: 'tw-engine',
      group: 'taskwire',
      label: `Taskwire engine in-process: claim ${PG_SHAPE.claimBatch} + completeMany, ${PG_SHAPE.drainLoops} loops`,
      what: 'engine in-process drain',
      run: () => engineInProcessDrain(db, z),
      runs: [],
      errors: [],
    },
    {
      key: 'graphile-worker',
      group: 'peer',
      label: `Graphile Worker ${versions['graphile-worker']} in-process: concurrency ${g.concurrency}, localQueue ${g.localQueue}, complete/failJobBatchDelay ${g.batchDelayMs} ms`,
      what: 'Graphile Worker drain',
      run: () => peerDrain(db, 'graphile-worker', z),
      runs: [],
      errors: [],
    },
    {
      key: 'pg-boss',
      group: 'peer',
      label: `pg-boss ${versions['pg-boss']} in-process: ${b.workers} work() loops, batchSize ${b.batchSize}, polling ${b.pollingSeconds} s`,
      what: 'pg-boss drain',
      run: () => peerDrain(db, 'pg-boss', z),
      runs: [],
      errors: [],
    },
  ];
  for (let r = 0; r < z.rounds; r++) {
    for (let j = 0; j < runs.length; j++) {
      const x = runs[(r + j) % runs.length]!;
      log(`postgres: ${x.what}, ${n} tasks (round ${r + 1} of ${z.rounds})`);
      try {
        x.runs.push(await x.run());
      } catch (e) {
        const message = (e as Error).message;
        x.errors.push(message);
        log(`postgres: ${x.what} FAILED: ${message}`);
      }
    }
  }
  return runs.map(rowOf);
}

/**
 * An idle worker long-polls on instance A (claimTasks waitSeconds over WebSocket); the
 * task is enqueued on instance B: B's NOTIFY wakes A's feed, whose bus wakes the claim.
 */
async function crossInstancePickup(db: Schemas, z: PgSizes): Promise<string> {
  const schema = db.name('pickup');
  const servers: Server[] = [];
  try {
    await db.migrate(schema);
    const url = db.urlOf(schema);
    servers.push(await startTaskwire(url), await startTaskwire(url));
    const worker = await wsClient(servers[0]!.url);
    try {
      const pl = await pickupLatency(servers[0]!, worker, z.pickupSamples, 'pickup', servers[1]!.url);
      return `cross-instance pickup (long-poll on A over WebSocket, enqueue on B over HTTP): p50 ${pl.p50.toFixed(2)} ms, p99 ${pl.p99.toFixed(2)} ms, max ${pl.max.toFixed(1)} ms over ${z.pickupSamples} samples`;
    } finally {
      await worker.close();
    }
  } finally {
    const problems = await stopAll(servers);
    await db.drop(schema).catch(() => {});
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }
}

/** What the peers' settings imply, for the notes. */
function peerNotes(): string[] {
  const b = PG_SHAPE.pgBoss;
  return [
    `pg-boss: a work() loop fetches at most once per polling interval (${b.pollingSeconds} s, v10's minimum) unless its batch took longer, so ${b.workers} loops x batchSize ${b.batchSize} cap it near ${fmt((b.workers * b.batchSize) / b.pollingSeconds)} jobs/s`,
  ];
}

// ---------------------------------------------------------------- the run

async function probe(url: string): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    const { rows } = await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return { ok: true, version: rows[0]!.v };
  } catch (e) {
    return { ok: false, why: (e as Error).message || String(e) };
  } finally {
    await c.end().catch(() => {});
  }
}

export async function runPostgresBench(opts: PostgresBenchOptions): Promise<PostgresReport> {
  const log = opts.log ?? (() => {});
  const z = postgresSizesFor(opts.quick);
  const url = opts.url ?? (process.env.TASKWIRE_BENCH_PG_URL || process.env.TASKWIRE_TEST_PG_URL || DEFAULT_PG_URL);
  const versions = { 'graphile-worker': versionOf('graphile-worker'), 'pg-boss': versionOf('pg-boss'), pg: versionOf('pg') };
  const report: PostgresReport = {
    mode: opts.quick ? 'quick' : 'full',
    node: process.version,
    cpus: NCPU,
    url: display(url),
    server: null,
    versions,
    loadStart: loadavg(),
    loadEnd: [],
    sizes: z,
    shape: PG_SHAPE,
    engineRows: [],
    drainRows: [],
    notes: [],
  };
  const p = await probe(url);
  if (!p.ok) {
    report.skipped = `PostgreSQL at ${display(url)} is not reachable (${p.why}); give another server with --pg or TASKWIRE_BENCH_PG_URL to run this section`;
    report.loadEnd = loadavg();
    log(`postgres: skipped: ${report.skipped}`);
    return report;
  }
  report.server = p.version;
  log(`postgres: PostgreSQL ${p.version} at ${display(url)}; load average ${report.loadStart.map((l) => l.toFixed(2)).join(' ')} on ${NCPU} CPUs`);
  const db = new Schemas(url);
  pgAdmin = db.admin;
  try {
    await engineVsRaw(db, z, log, report.engineRows, report.notes);
    report.drainRows = await endToEnd(db, z, log, versions);
    log(`postgres: cross-instance pickup, ${z.pickupSamples} samples`);
    try {
      report.notes.push(await crossInstancePickup(db, z));
    } catch (e) {
      report.notes.push(`cross-instance pickup FAILED: ${(e as Error).message}`);
    }
    report.notes.push(...peerNotes());
  } finally {
    await db.dropAll();
    pgAdmin = null;
    await db.admin.end();
  }
  report.loadEnd = loadavg();
  return report;
}

// ---------------------------------------------------------------- output

const fmt = (n: number) => (Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const us = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(0));

function table(head: string[], body: string[][], leftCols: number[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (leftCols.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

export function formatPostgresReport(r: PostgresReport): string {
  const out: string[] = [];
  out.push(`Taskwire PostgreSQL benchmark (${r.mode}) - node ${r.node}, ${r.cpus} CPUs, PostgreSQL ${r.server ? `${r.server} ` : ''}at ${r.url}`);
  if (r.skipped) {
    out.push(`SKIPPED: ${r.skipped}`);
    return out.join('\n');
  }
  out.push(
    `load average (1/5/15 min): ${r.loadStart.map((l) => l.toFixed(2)).join(' / ')} at the start, ${r.loadEnd.map((l) => l.toFixed(2)).join(' / ')} at the end`,
  );
  out.push('engine = PostgresTaskStore (pool 10, feed LISTEN + 250 ms poll, as in a server), fresh schema per scenario, dropped after;');
  out.push('raw = hand-written `pg` named statements on a fresh schema: the driver\'s INSERT/UPDATEs incl. the outbox (one batch row per tx),');
  out.push('BEGIN .. COMMIT per operation, then feed_step numbering (no read) one step at a time as the feed runs it. The raw side skips');
  out.push('what the ratio measures: validation, RETURNING + mapping the task row, worker refresh, concurrency-limit and blocked-');
  out.push('dependents look-ups, the feed\'s read of new events, its NOTIFY and the event bus. Figures: medians over alternating segments.');
  out.push('CPU us/op: this process (user+system); pg us/op: the PostgreSQL backends of this run\'s connections (by application_name).');
  out.push('');
  out.push(
    ...table(
      ['operation', 'unit', 'engine', 'raw', 'engine/raw', 'CPU us/op engine', 'raw', 'pg us/op engine', 'raw'],
      r.engineRows.map((x) => [
        x.label,
        x.unit,
        fmt(x.engine),
        fmt(x.raw),
        `${(x.engine / x.raw).toFixed(2)}x`,
        us(x.engineCpuUs),
        us(x.rawCpuUs),
        us(x.enginePgUs),
        us(x.rawPgUs),
      ]),
      [0, 1],
    ),
  );
  out.push('');
  const z = r.sizes;
  out.push(
    `end-to-end drain and peers: ${z.drainTasks.toLocaleString('en-US')} pre-enqueued no-op tasks (jobs) per run, each run on a fresh schema of the same PostgreSQL,`,
  );
  out.push(`warmed up first (${z.warmTasks.toLocaleString('en-US')} jobs), timed from "go" until every job is completed in the database; median over ${z.rounds} round(s)`);
  out.push('(min..max alongside). queue us/op: the server processes, the peer\'s process, or this process; worker us/op: the GraphQL worker');
  out.push('processes; pg us/op: PostgreSQL; other: busy cores of everything else during the run (the machine is shared).');
  out.push('');
  const body = r.drainRows.map((x) => [
    x.label,
    x.unit,
    x.error ? 'FAILED' : fmt(x.value),
    x.min !== undefined && x.max !== undefined && x.min !== x.max ? `${fmt(x.min)}..${fmt(x.max)}` : '',
    us(x.queueCpuUs),
    us(x.workerCpuUs),
    us(x.pgCpuUs),
    x.otherCores === undefined ? '' : x.otherCores.toFixed(2),
  ]);
  out.push(...table(['measurement', 'unit', 'result', 'min..max', 'queue us/op', 'worker us/op', 'pg us/op', 'other'], body, [0, 1]));
  out.push('');
  const peers = r.drainRows.filter((x) => x.group === 'peer');
  const ours = r.drainRows.filter((x) => x.group === 'taskwire');
  const short: Record<string, string> = {
    'tw-1': 'drain over GraphQL, 1 server',
    'tw-3': 'drain over GraphQL, 3 servers',
    'tw-engine': 'engine in-process drain',
  };
  out.push('Taskwire / peer (jobs/s ratio):');
  out.push(
    ...table(
      ['Taskwire', ...peers.map((p) => `/ ${p.key}`)],
      ours.map((o) => [
        short[o.key] ?? o.key,
        ...peers.map((p) => (o.error || p.error || !(p.value > 0) ? '-' : `${(o.value / p.value).toFixed(2)}x`)),
      ]),
      [0],
    ),
  );
  out.push('');
  for (const x of r.drainRows) {
    if (x.error) out.push(`note (${x.key}): FAILED or not run: ${x.error.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' | ')}`);
    else if (x.note) out.push(`note (${x.key}): ${x.note}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

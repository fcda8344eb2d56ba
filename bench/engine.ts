/**
 * Engine benchmark: each operation through SqliteTaskStore, and the same SQL work done
 * by hand with better-sqlite3 on a file with the same schema and PRAGMAs, in the same run.
 *
 * The raw baseline is the least a correct implementation has to do: hand-written prepared
 * statements, the same inserts and updates (outbox rows included), each operation in its
 * own BEGIN IMMEDIATE ... COMMIT. The engine's extra work (validation, RETURNING the full
 * row and mapping it, worker bookkeeping, concurrency-limit and dependency look-ups, the
 * event bus, async calls) is what the ratio measures.
 *
 * Engine and raw run on separate files, in alternating segments, so that drift during the
 * run (page cache, WAL growth, checkpoints) falls on both sides alike.
 *
 * One file on purpose (over 500 lines): the raw side sits next to the engine side it
 * mirrors, so that a change to one shows in the other.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EnqueueInput } from '../src/store/index.js';
import { SqliteTaskStore } from '../src/store/sqlite/store.js';

type Db = Database.Database;

export interface BenchOptions {
  quick: boolean;
  /** Where the temporary database files go (default: a fresh dir under os.tmpdir()). */
  dir?: string;
  log?: (line: string) => void;
}

export interface BenchRow {
  key: string;
  label: string;
  unit: string;
  engine: number;
  raw: number;
  /** Median CPU time of this process per operation (user + system), microseconds. */
  engineCpuUs: number;
  rawCpuUs: number;
  /** Minimum engine/raw ratio, when the issue sets one. */
  target: number | null;
}

export interface BenchReport {
  mode: 'quick' | 'full';
  sqlite: string;
  node: string;
  dir: string;
  sizes: Record<string, number>;
  rows: BenchRow[];
  /** Claim rate at the big queue divided by the rate at 1,000 queued. */
  claimScaling: { engine: number; raw: number; engineCpu: number; rawCpu: number; bigQueue: number; target: number };
  notes: string[];
}

export interface Sizes {
  enqueue: number;
  enqueueManyBatches: number;
  claimsSmall: number;
  bigQueue: number;
  claimsBig: number;
  cycles: number;
  /** Pre-filled tasks each side drains with claim 50 + completeMany. */
  drain: number;
  segments: number;
}

export function sizesFor(quick: boolean): Sizes {
  return quick
    ? { enqueue: 3_000, enqueueManyBatches: 100, claimsSmall: 2_000, bigQueue: 100_000, claimsBig: 2_000, cycles: 1_500, drain: 40_000, segments: 8 }
    : { enqueue: 20_000, enqueueManyBatches: 500, claimsSmall: 5_000, bigQueue: 1_000_000, claimsBig: 5_000, cycles: 6_000, drain: 200_000, segments: 20 };
}

// ------------------------------------------------------------------ raw side

/** The PRAGMAs of src/store/sqlite/database.ts, for the raw connection. */
function applyPragmas(db: Db): void {
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('wal_autocheckpoint = 1000');
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 134217728');
  db.pragma('cache_size = -20000');
}

/** Creates the schema by opening (and closing) the engine on the file. */
async function createSchema(path: string): Promise<void> {
  const s = new SqliteTaskStore({ path, tailIntervalMs: 0 });
  await s.close();
}

function openRaw(path: string): Db {
  const db = new Database(path);
  applyPragmas(db);
  return db;
}

/** Hand-written statements doing what enqueue, claim and complete have to do. */
class RawQueue {
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly insertTask;
  private readonly insertEvent;
  private readonly upsertWorker;
  private readonly pick;
  private readonly markRunning;
  private readonly markSucceeded;
  private readonly pickMany;

  constructor(readonly db: Db) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.insertTask = db.prepare(
      `INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after, created_at, updated_at)
       VALUES (?, ?, ?, ?, '{}', 'QUEUED', 5, ?, ?, ?)`,
    );
    this.insertEvent = db.prepare(
      `INSERT INTO task_events (kind, at, task_id, status, queue, type, worker_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertWorker = db.prepare(
      `INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at) VALUES (?, '{}', 'ACTIVE', ?, ?)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, status = 'ACTIVE'`,
    );
    this.pick = db.prepare(
      `SELECT id, type FROM tasks WHERE status = 'QUEUED' AND queue = ? AND run_after <= ? ORDER BY priority, id LIMIT 1`,
    );
    this.markRunning = db.prepare(
      `UPDATE tasks SET status = 'RUNNING', attempts = attempts + 1, lease_token = ?, lease_until = ?, locked_by = ?,
         started_at = ?, updated_at = ? WHERE id = ? AND status = 'QUEUED'`,
    );
    this.pickMany = db.prepare(
      `SELECT id, type FROM tasks WHERE status = 'QUEUED' AND queue = ? AND run_after <= ? ORDER BY priority, id LIMIT ?`,
    );
    this.markSucceeded = db.prepare(
      `UPDATE tasks SET status = 'SUCCEEDED', result = ?, finished_at = ?, updated_at = ?, lease_token = NULL,
         lease_until = NULL, timeout_at = NULL, progress = 1 WHERE id = ? AND status = 'RUNNING' AND lease_token = ?`,
    );
  }

  /** The claim SELECT's plan, to show that the baseline does not sort either. */
  pickPlan(): string {
    const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${this.pick.source}`).all('default', Date.now()) as { detail: string }[];
    return rows.map((r) => r.detail).join(' | ');
  }

  private tx<T>(fn: () => T): T {
    this.begin.run();
    try {
      const r = fn();
      this.commit.run();
      return r;
    } catch (e) {
      this.rollback.run();
      throw e;
    }
  }

  private enqueueRow(type: string, payload: unknown, now: number): number {
    const id = Number(this.insertTask.run('default', type, 100, JSON.stringify(payload), now, now, now).lastInsertRowid);
    this.insertEvent.run('ENQUEUED', now, id, 'QUEUED', 'default', type, null);
    return id;
  }

  enqueue(type: string, payload: unknown): number {
    return this.tx(() => this.enqueueRow(type, payload, Date.now()));
  }

  enqueueMany(items: readonly { type: string; payload: unknown }[]): number[] {
    return this.tx(() => {
      const now = Date.now();
      return items.map((it) => this.enqueueRow(it.type, it.payload, now));
    });
  }

  claimOne(workerId: string, leaseMs: number): { id: number; token: string } | null {
    return this.tx(() => {
      const now = Date.now();
      this.upsertWorker.run(workerId, now, now);
      const c = this.pick.get('default', now) as { id: number; type: string } | undefined;
      if (!c) return null;
      const token = randomUUID();
      this.markRunning.run(token, now + leaseMs, workerId, now, now, c.id);
      this.insertEvent.run('CLAIMED', now, c.id, 'RUNNING', 'default', c.type, workerId);
      return { id: c.id, token };
    });
  }

  /** A drain worker's claim: up to `limit` tasks in one transaction, a statement per task as written by hand. */
  claimMany(workerId: string, leaseMs: number, limit: number): { id: number; token: string; type: string }[] {
    return this.tx(() => {
      const now = Date.now();
      this.upsertWorker.run(workerId, now, now);
      const picked = this.pickMany.all('default', now, limit) as { id: number; type: string }[];
      return picked.map((c) => {
        const token = randomUUID();
        this.markRunning.run(token, now + leaseMs, workerId, now, now, c.id);
        this.insertEvent.run('CLAIMED', now, c.id, 'RUNNING', 'default', c.type, workerId);
        return { id: c.id, token, type: c.type };
      });
    });
  }

  /** Completes every lease of a batch in one transaction, or none. */
  completeMany(batch: readonly { id: number; token: string; type: string }[], result: unknown): void {
    this.tx(() => {
      const now = Date.now();
      const text = JSON.stringify(result);
      for (const c of batch) {
        if (this.markSucceeded.run(text, now, now, c.id, c.token).changes !== 1) throw new Error('lease lost');
        this.insertEvent.run('SUCCEEDED', now, c.id, 'SUCCEEDED', 'default', c.type, null);
      }
    });
  }

  complete(id: number, token: string, result: unknown, type: string): void {
    this.tx(() => {
      const now = Date.now();
      if (this.markSucceeded.run(JSON.stringify(result), now, now, id, token).changes !== 1) throw new Error('lease lost');
      this.insertEvent.run('SUCCEEDED', now, id, 'SUCCEEDED', 'default', type, null);
    });
  }
}

/** Fast fill: QUEUED tasks with priorities 0..9, straight INSERT ... SELECT, big transactions. */
function fill(db: Db, count: number, startAt = 0): void {
  const insert = db.prepare(
    `WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < @n)
     INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after, created_at, updated_at)
     SELECT 'default', 'bench', (@base + x) % 10, json_object('n', @base + x), '{}', 'QUEUED', 5, @now, @now, @now FROM c`,
  );
  const chunk = 100_000;
  const now = Date.now() - 1_000;
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    db.prepare('BEGIN IMMEDIATE').run();
    insert.run({ n, base: startAt + done, now });
    db.prepare('COMMIT').run();
  }
}

function queuedCount(db: Db): number {
  return (db.prepare(`SELECT count(*) AS c FROM tasks WHERE status = 'QUEUED'`).get() as { c: number }).c;
}

// ------------------------------------------------------------------ timing

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

interface Side<T> {
  /** Untimed preparation before each segment (e.g. topping the queue up). */
  before?: (segment: number) => void;
  run: (segment: number) => T;
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

interface Measured {
  rates: number[];
  cpuUs: number[];
}

/** Times one chunk: wall-clock rate and this process's CPU microseconds per operation. */
async function measure(into: Measured, ops: number, run: () => Promise<void> | void): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run();
  const wall = ms(t0);
  const cpu = process.cpuUsage(cpu0);
  into.rates.push((ops / wall) * 1000);
  into.cpuUs.push((cpu.user + cpu.system) / ops);
}

const summary = (m: Measured) => ({ rate: median(m.rates), cpuUs: median(m.cpuUs) });

/**
 * Runs `segments` alternating engine/raw chunks of `opsPerSegment` operations each and
 * returns each side's median rate (ops/s) and CPU per op. The median over short
 * alternating segments keeps a burst of outside load (a shared machine) from landing on
 * one side only.
 */
async function alternate(
  segments: number,
  opsPerSegment: number,
  engine: Side<Promise<void>>,
  raw: Side<void>,
): Promise<{ engine: number; raw: number; engineCpuUs: number; rawCpuUs: number }> {
  const e: Measured = { rates: [], cpuUs: [] };
  const r: Measured = { rates: [], cpuUs: [] };
  const runRaw = async (s: number) => {
    raw.before?.(s);
    await measure(r, opsPerSegment, () => raw.run(s));
  };
  const runEngine = async (s: number) => {
    engine.before?.(s);
    await measure(e, opsPerSegment, () => engine.run(s));
  };
  for (let s = 0; s < segments; s++) {
    // Swap the order each segment so neither side always runs on a warmer cache.
    if (s % 2 === 0) {
      await runEngine(s);
      await runRaw(s);
    } else {
      await runRaw(s);
      await runEngine(s);
    }
  }
  const es = summary(e);
  const rs = summary(r);
  return { engine: es.rate, raw: rs.rate, engineCpuUs: es.cpuUs, rawCpuUs: rs.cpuUs };
}

// ------------------------------------------------------------------ scenarios

interface Pair {
  store: SqliteTaskStore;
  raw: RawQueue;
  close: () => Promise<void>;
}

async function openPair(dir: string, name: string, prepare?: (enginePath: string, rawPath: string) => Promise<void>): Promise<Pair> {
  const enginePath = join(dir, `${name}-engine.db`);
  const rawPath = join(dir, `${name}-raw.db`);
  if (prepare) await prepare(enginePath, rawPath);
  else {
    await createSchema(enginePath);
    await createSchema(rawPath);
  }
  // Default options: the outbox tail timer is on, as in a server.
  const store = new SqliteTaskStore({ path: enginePath });
  const raw = new RawQueue(openRaw(rawPath));
  return {
    store,
    raw,
    close: async () => {
      await store.close();
      raw.db.close();
      for (const p of [enginePath, rawPath]) for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
    },
  };
}

const enqueueInput = (i: number): EnqueueInput => ({ type: 'bench', payload: { n: i } });

async function warmUp(p: Pair): Promise<void> {
  // Prepare statements and let the JIT see the hot paths, on both sides.
  for (let i = 0; i < 300; i++) {
    await p.store.enqueue(enqueueInput(i));
    const [c] = await p.store.claim({ workerId: 'warm', limit: 1, strategy: 'PRIORITY' });
    if (c) await p.store.complete({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } });
    p.raw.enqueue('bench', { n: i });
    const r = p.raw.claimOne('warm', 30_000);
    if (r) p.raw.complete(r.id, r.token, { ok: true }, 'bench');
  }
}

export async function runEngineBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const z = sizesFor(opts.quick);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'taskwire-bench-'));
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const probe = new Database(':memory:');
  const sqlite = probe.prepare('SELECT sqlite_version() AS v').pluck().get() as string;
  probe.close();

  try {
    // ---- enqueue, one per transaction
    {
      log(`enqueue: ${z.enqueue} single-task transactions each side`);
      const p = await openPair(dir, 'enqueue');
      await warmUp(p);
      const per = Math.ceil(z.enqueue / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await alternate(
        z.segments,
        per,
        {
          run: async () => {
            for (let k = 0; k < per; k++) await p.store.enqueue(enqueueInput(ei++));
          },
        },
        {
          run: () => {
            for (let k = 0; k < per; k++) p.raw.enqueue('bench', { n: ri++ });
          },
        },
      );
      rows.push({ key: 'enqueue', label: 'enqueue (1 per tx)', unit: 'tasks/s', ...r, target: 0.8 });
      await p.close();
    }

    // ---- enqueueMany, 100 per transaction
    {
      log(`enqueueMany: ${z.enqueueManyBatches} batches of 100 each side`);
      const p = await openPair(dir, 'many');
      await warmUp(p);
      const per = Math.ceil(z.enqueueManyBatches / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await alternate(
        z.segments,
        per * 100,
        {
          run: async () => {
            for (let k = 0; k < per; k++) {
              const batch: EnqueueInput[] = [];
              for (let j = 0; j < 100; j++) batch.push(enqueueInput(ei++));
              await p.store.enqueueMany(batch);
            }
          },
        },
        {
          run: () => {
            for (let k = 0; k < per; k++) {
              const batch: { type: string; payload: unknown }[] = [];
              for (let j = 0; j < 100; j++) batch.push({ type: 'bench', payload: { n: ri++ } });
              p.raw.enqueueMany(batch);
            }
          },
        },
      );
      rows.push({ key: 'enqueueMany', label: 'enqueueMany (100 per tx)', unit: 'tasks/s', ...r, target: null });
      await p.close();
    }

    // ---- claim (limit 1, PRIORITY) with 1,000 queued and with a big queue.
    // The four series (engine/raw x small/big queue) run in rotating order, segment by
    // segment, so that the 1M-vs-1,000 ratio compares the same stretch of time.
    {
      const n = z.bigQueue;
      log(`claim: filling ${n.toLocaleString('en-US')} queued tasks (raw INSERT ... SELECT, 100k per transaction) ...`);
      let bigFillMs = 0;
      const big = await openPair(dir, 'claim-big', async (enginePath, rawPath) => {
        await createSchema(enginePath);
        const db = openRaw(enginePath);
        const t0 = process.hrtime.bigint();
        fill(db, n);
        bigFillMs = ms(t0);
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        // Same starting file for both sides.
        copyFileSync(enginePath, rawPath);
      });
      notes.push(`filling ${n.toLocaleString('en-US')} queued tasks took ${(bigFillMs / 1000).toFixed(1)} s (raw INSERT ... SELECT)`);
      const small = await openPair(dir, 'claim-small');
      await warmUp(big);
      await warmUp(small);

      let base = 0;
      // Untimed: refill the small queue to exactly 1,000 before each segment.
      const topUp = (db: Db) => {
        const missing = 1_000 - queuedCount(db);
        if (missing > 0) fill(db, missing, (base += 1_000));
      };
      topUp(small.store.db);
      topUp(small.raw.db);

      // Diagnostic, untimed: WAL pages one claim writes, small vs big queue (raw side).
      const pagesPerClaim = (raw: RawQueue) => {
        raw.db.pragma('wal_autocheckpoint = 0');
        raw.db.pragma('wal_checkpoint(TRUNCATE)');
        const k = 100;
        for (let i = 0; i < k; i++) raw.claimOne('diag', 30_000);
        const [row] = raw.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
        raw.db.pragma('wal_autocheckpoint = 1000');
        return (row?.log ?? 0) / k;
      };
      const smallPages = pagesPerClaim(small.raw);
      const bigPages = pagesPerClaim(big.raw);
      notes.push(`WAL pages written per claim (raw): ${smallPages.toFixed(1)} at 1,000 queued, ${bigPages.toFixed(1)} at ${n.toLocaleString('en-US')}`);

      const perSegment = 500;
      const segments = Math.ceil(Math.max(z.claimsSmall, z.claimsBig) / perSegment);
      log(`claim: ${segments} x ${perSegment} claims per series (engine/raw x 1,000/${n.toLocaleString('en-US')} queued), rotating`);
      const engineClaims = async (p: Pair) => {
        for (let k = 0; k < perSegment; k++) {
          const [c] = await p.store.claim({ workerId: 'w1', limit: 1, strategy: 'PRIORITY' });
          if (!c) throw new Error('engine: queue ran dry');
        }
      };
      const rawClaims = (p: Pair) => {
        for (let k = 0; k < perSegment; k++) if (!p.raw.claimOne('w1', 30_000)) throw new Error('raw: queue ran dry');
      };
      type Series = { name: string; before: () => void; run: () => Promise<void> | void } & Measured;
      // Every segment starts from a checkpointed WAL, so one segment's write-back does not
      // land in the next (wal_autocheckpoint would run it on the next commit).
      const series: Series[] = [
        { name: 'engine-small', before: () => (topUp(small.store.db), small.store.db.pragma('wal_checkpoint(PASSIVE)')), run: () => engineClaims(small), rates: [], cpuUs: [] },
        { name: 'engine-big', before: () => big.store.db.pragma('wal_checkpoint(PASSIVE)'), run: () => engineClaims(big), rates: [], cpuUs: [] },
        { name: 'raw-small', before: () => (topUp(small.raw.db), small.raw.db.pragma('wal_checkpoint(PASSIVE)')), run: () => rawClaims(small), rates: [], cpuUs: [] },
        { name: 'raw-big', before: () => big.raw.db.pragma('wal_checkpoint(PASSIVE)'), run: () => rawClaims(big), rates: [], cpuUs: [] },
      ];
      for (let s = 0; s < segments; s++) {
        for (let j = 0; j < series.length; j++) {
          const x = series[(s + j) % series.length]!;
          x.before();
          await measure(x, perSegment, x.run);
        }
      }
      const get = (name: string) => summary(series.find((x) => x.name === name)!);
      const pairOf = (size: 'small' | 'big') => {
        const e = get(`engine-${size}`);
        const r = get(`raw-${size}`);
        return { engine: e.rate, raw: r.rate, engineCpuUs: e.cpuUs, rawCpuUs: r.cpuUs };
      };
      rows.push({ key: 'claimSmall', label: 'claim limit 1, 1,000 queued', unit: 'claims/s', ...pairOf('small'), target: null });
      rows.push({
        key: 'claimBig',
        label: `claim limit 1, ${n.toLocaleString('en-US')} queued`,
        unit: 'claims/s',
        ...pairOf('big'),
        target: null,
      });
      const plan = big.raw.pickPlan();
      if (/TEMP B-TREE/.test(plan)) notes.push(`raw claim SELECT sorts: ${plan}`);
      notes.push(`raw claim plan: ${plan}`);
      await small.close();
      await big.close();
    }

    // ---- drain: claim 50 + completeMany from a pre-filled queue (one loop, in this process)
    {
      const n = z.drain;
      const batch = 50;
      log(`drain: ${n.toLocaleString('en-US')} pre-filled tasks each side, claim ${batch} + completeMany`);
      const p = await openPair(dir, 'drain', async (enginePath, rawPath) => {
        await createSchema(enginePath);
        const db = openRaw(enginePath);
        fill(db, n);
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        copyFileSync(enginePath, rawPath);
      });
      await warmUp(p);
      const per = Math.floor(n / z.segments / batch) * batch;
      const r = await alternate(
        z.segments,
        per,
        {
          run: async () => {
            for (let done = 0; done < per; ) {
              const claimed = await p.store.claim({ workerId: 'w1', limit: batch, leaseSeconds: 600 });
              if (claimed.length === 0) throw new Error('engine: queue ran dry');
              await p.store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } })));
              done += claimed.length;
            }
          },
        },
        {
          run: () => {
            for (let done = 0; done < per; ) {
              const claimed = p.raw.claimMany('w1', 600_000, batch);
              if (claimed.length === 0) throw new Error('raw: queue ran dry');
              p.raw.completeMany(claimed, { ok: true });
              done += claimed.length;
            }
          },
        },
      );
      rows.push({ key: 'drain', label: `drain: claim ${batch} + completeMany`, unit: 'tasks/s', ...r, target: null });
      await p.close();
    }

    // ---- full cycle: enqueue, claim, complete (3 transactions, outbox included)
    {
      log(`full cycle: ${z.cycles} cycles each side`);
      const p = await openPair(dir, 'cycle');
      await warmUp(p);
      const per = Math.ceil(z.cycles / z.segments);
      let ei = 0;
      let ri = 0;
      const r = await alternate(
        z.segments,
        per,
        {
          run: async () => {
            for (let k = 0; k < per; k++) {
              await p.store.enqueue(enqueueInput(ei++));
              const [c] = await p.store.claim({ workerId: 'w1', limit: 1, strategy: 'PRIORITY' });
              await p.store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken, result: { ok: true } });
            }
          },
        },
        {
          run: () => {
            for (let k = 0; k < per; k++) {
              p.raw.enqueue('bench', { n: ri++ });
              const c = p.raw.claimOne('w1', 30_000)!;
              p.raw.complete(c.id, c.token, { ok: true }, 'bench');
            }
          },
        },
      );
      rows.push({ key: 'cycle', label: 'full cycle (enqueue+claim+complete)', unit: 'cycles/s', ...r, target: 0.7 });
      await p.close();
    }
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }

  const small = rows.find((r) => r.key === 'claimSmall')!;
  const big = rows.find((r) => r.key === 'claimBig')!;
  return {
    mode: opts.quick ? 'quick' : 'full',
    sqlite,
    node: process.version,
    dir,
    sizes: { ...z },
    rows,
    claimScaling: {
      engine: big.engine / small.engine,
      raw: big.raw / small.raw,
      // CPU-based rate ratio: (1 / cpu at big) / (1 / cpu at small).
      engineCpu: small.engineCpuUs / big.engineCpuUs,
      rawCpu: small.rawCpuUs / big.rawCpuUs,
      bigQueue: z.bigQueue,
      target: 0.8,
    },
    notes,
  };
}

// ------------------------------------------------------------------ output

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(`Taskwire engine benchmark (${r.mode}) - node ${r.node}, SQLite ${r.sqlite}`);
  out.push('temp file databases, WAL, synchronous=NORMAL, PRAGMAs as src/store/sqlite/database.ts');
  out.push('raw = hand-written better-sqlite3 prepared statements, same schema, same inserts/updates incl. outbox rows, BEGIN IMMEDIATE per op');
  out.push('every figure is the median over alternating engine/raw segments');
  out.push('');
  const head = ['operation', 'unit', 'engine', 'raw', 'engine/raw', 'target', '', 'CPU us/op engine', 'raw', 'raw/engine'];
  const body = r.rows.map((row) => {
    const ratio = row.engine / row.raw;
    return [
      row.label,
      row.unit,
      fmt(row.engine),
      fmt(row.raw),
      `${ratio.toFixed(2)}x`,
      row.target === null ? '-' : `>= ${row.target.toFixed(2)}x`,
      row.target === null ? '' : ratio >= row.target ? 'MET' : 'MISSED',
      row.engineCpuUs.toFixed(0),
      row.rawCpuUs.toFixed(0),
      `${(row.rawCpuUs / row.engineCpuUs).toFixed(2)}x`,
    ];
  });
  const s = r.claimScaling;
  body.push([
    `claim rate ${fmt(s.bigQueue)} vs 1,000 queued`,
    'ratio',
    `${s.engine.toFixed(2)}x`,
    `${s.raw.toFixed(2)}x`,
    '',
    `>= ${s.target.toFixed(2)}x`,
    s.engine >= s.target ? 'MET' : 'MISSED',
    `${s.engineCpu.toFixed(2)}x`,
    `${s.rawCpu.toFixed(2)}x`,
    '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 1 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  out.push('engine, raw: ops/s (wall clock), the figures the targets apply to. CPU us/op: this process\'s user+system');
  out.push('CPU per operation (no I/O waits), less sensitive to other load on the machine; raw/engine compares like engine/raw.');
  out.push('');
  out.push(line(head));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) out.push(line(b));
  out.push('');
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

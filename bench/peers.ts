/**
 * Peer benchmark: job queues users would pick instead of Taskwire, measured in the same run
 * (the PostgreSQL peers are in bench/postgres.ts).
 * - bullmqDrain: BullMQ on Redis. N no-op jobs pre-added with addBulk (untimed; job option
 *   removeOnComplete: true, the usual fast setting); two worker processes
 *   (bench/peer-bullmq-worker.ts: one BullMQ Worker each, concurrency 100, no-op processor,
 *   warmed up on a queue of its own, connected) are told to start; timed from "go" until
 *   Redis shows no job waiting or active (polled every 2 ms). Checked: none failed, and
 *   every payload number was run once, by exactly one worker.
 * - bullmqAdd: single `queue.add` calls from this process, 16 in flight, after a warm-up.
 * - plainjobDrain: plainjob on SQLite (better-sqlite3, in this process): N no-op jobs
 *   pre-enqueued with addMany (untimed), drained by one worker (defineWorker, defaults but a
 *   quiet logger) after a warm-up drain; timed from start() until onCompleted saw all N;
 *   checked: N done in the database, each payload number processed once, none failed.
 * Each run has a fresh queue (BullMQ: a new name, obliterated after; plainjob: a new file in
 * a temporary directory, removed after). Figures: medians over the rounds (min..max too),
 * whose order of runs rotates. CPU per job: the worker processes (their own count, "go" to
 * "stop") or this process; the Redis server when /proc shows it; "other" is the rest of the
 * machine's busy cores. Redis unreachable or a package missing: those rows say "skipped".
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionOptions, Queue as BullQueue } from 'bullmq';
import { WorkerProc, machineJiffies, procCpuMs } from './graphql.js';
import type { BullWorkerConfig } from './peer-bullmq-worker.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface PeerBenchOptions {
  quick: boolean;
  log?: (line: string) => void;
  redisUrl?: string; // default: $TASKWIRE_BENCH_REDIS_URL, else redis://127.0.0.1:6379
  dir?: string; // plainjob's database files (default: a fresh dir under os.tmpdir(), removed after)
}

export type PeerKey = 'bullmqDrain' | 'bullmqAdd' | 'plainjobDrain';

export interface PeerRow {
  key: PeerKey;
  label: string;
  unit: 'tasks/s';
  value: number | null; // median over the rounds; null when skipped or every run failed
  note?: string;
  min?: number;
  max?: number;
  clientCpuUs?: number; // CPU per job (us) of the queue's Node side: the worker processes, or this process
  redisCpuUs?: number; // CPU per job (us) of the Redis server process
  otherCores?: number; // busy cores of everything else during the run
}

export interface PeerReport {
  mode: 'quick' | 'full';
  node: string;
  cpus: number;
  redisUrl: string;
  redis: string | null; // Redis version; null when not reachable
  versions: Record<string, string>;
  loadStart: number[];
  loadEnd: number[];
  sizes: PeerSizes;
  shape: typeof PEER_SHAPE;
  rows: PeerRow[];
  notes: string[];
}

/** Jobs per drain run (BullMQ, plainjob), per add run, warm-up jobs per worker process / run. */
export interface PeerSizes { drainJobs: number; addJobs: number; warmJobs: number; rounds: number }

export function peerSizesFor(quick: boolean): PeerSizes {
  return quick ? { drainJobs: 5_000, addJobs: 2_000, warmJobs: 500, rounds: 1 } : { drainJobs: 50_000, addJobs: 10_000, warmJobs: 2_000, rounds: 3 };
}

export const PEER_SHAPE = {
  bullmq: { workers: 2, concurrency: 100, addInFlight: 16, removeOnComplete: true, bulkChunk: 5_000 },
  plainjob: { workers: 1, chunk: 5_000 },
};

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NCPU = cpus().length;
const fmtN = (n: number) => n.toLocaleString('en-US');

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

const display = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** ioredis options from a redis:// URL (what BullMQ's `connection` takes). */
function connectionOf(url: string): Record<string, unknown> {
  const u = new URL(url);
  const c: Record<string, unknown> = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) };
  if (u.username) c.username = decodeURIComponent(u.username);
  if (u.password) c.password = decodeURIComponent(u.password);
  if (Number(u.pathname.slice(1))) c.db = Number(u.pathname.slice(1));
  return c;
}

async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++);
    }),
  );
}

/** CPU ms so far of the Redis server, NaN when its process is not visible from here. */
function redisCpuMs(pid: number | null): number {
  try {
    return pid && readFileSync(`/proc/${pid}/comm`, 'utf8').includes('redis') ? procCpuMs(pid) : NaN;
  } catch {
    return NaN;
  }
}

type Snap = { t: number; self: NodeJS.CpuUsage; redis: number; machine: { busy: number; total: number } };
const snap = (redisPid: number | null): Snap => ({ t: performance.now(), self: process.cpuUsage(), redis: redisCpuMs(redisPid), machine: machineJiffies() });

/** clientMs: CPU of the queue's Node side (worker processes, or this process). */
type RunResult = { ops: number; ms: number; clientMs: number; redisMs: number; otherCores: number; note: string };
const selfMsBetween = (a: Snap, b: Snap) => (b.self.user - a.self.user + b.self.system - a.self.system) / 1000;

/** The window between two snaps; `clientMs` and whether this process is part of it decide "other". */
function result(ops: number, a: Snap, b: Snap, clientMs: number, selfCounted: boolean, note: string): RunResult {
  const [ms, redisMs] = [b.t - a.t, b.redis - a.redis];
  const busyCores = ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * NCPU;
  const ours = (clientMs + (selfCounted ? 0 : selfMsBetween(a, b)) + (Number.isNaN(redisMs) ? 0 : redisMs)) / ms;
  return { ops, ms, clientMs, redisMs, otherCores: Math.max(0, busyCores - ours), note };
}

// ---------------------------------------------------------------- Redis and BullMQ

type Bull = typeof import('bullmq');
type RedisInfo = { version: string; pid: number | null; persistence: string };
type RedisClass = typeof import('ioredis').Redis;

async function probeRedis(Redis: RedisClass, url: string): Promise<{ ok: true; info: RedisInfo } | { ok: false; why: string }> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let lastError: Error | undefined;
  r.on('error', (e: Error) => (lastError = e));
  try {
    await r.connect();
    const info = await r.info('server');
    const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    let persistence = 'unknown (CONFIG GET refused)';
    try {
      const aof = (await r.config('GET', 'appendonly')) as string[];
      const save = (await r.config('GET', 'save')) as string[];
      persistence = `appendonly ${aof[1] ?? '?'}, save "${save[1] ?? '?'}"`;
    } catch {
      // managed Redis often disables CONFIG
    }
    return { ok: true, info: { version: field('redis_version') ?? '?', pid: Number(field('process_id')) || null, persistence } };
  } catch (e) {
    return { ok: false, why: lastError?.message || (e as Error).message || String(e) };
  } finally {
    r.disconnect();
  }
}

let queueSeq = 0;
const queueName = (what: string) => `twbench-${process.pid}-${Date.now().toString(36)}-${++queueSeq}-${what}`;

async function openQueue(bull: Bull, name: string, connection: Record<string, unknown>): Promise<BullQueue> {
  const defaultJobOptions = { removeOnComplete: PEER_SHAPE.bullmq.removeOnComplete };
  const q = new bull.Queue(name, { connection: connection as ConnectionOptions, defaultJobOptions });
  q.on('error', (e: Error) => process.stderr.write(`bullmq queue: ${e.message}\n`));
  await q.waitUntilReady();
  return q;
}

async function fill(q: BullQueue, count: number): Promise<void> {
  const chunk = PEER_SHAPE.bullmq.bulkChunk;
  for (let done = 0; done < count; done += chunk) {
    await q.addBulk(Array.from({ length: Math.min(chunk, count - done) }, (_, i) => ({ name: 'noop', data: { n: done + i } })));
  }
}

async function dispose(queues: BullQueue[]): Promise<void> {
  for (const q of queues) {
    await q.obliterate({ force: true }).catch((e: Error) => process.stderr.write(`bullmq: obliterate ${q.name}: ${e.message}\n`));
    await q.close().catch(() => {});
  }
}

const PENDING = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

async function bullmqDrain(bull: Bull, connection: Record<string, unknown>, redis: RedisInfo, z: PeerSizes): Promise<RunResult> {
  const s = PEER_SHAPE.bullmq;
  const n = z.drainJobs;
  const queue = await openQueue(bull, queueName('drain'), connection);
  const queues = [queue];
  const workers: WorkerProc[] = [];
  try {
    for (let k = 0; k < s.workers; k++) {
      const warm = await openQueue(bull, `${queue.name}-warm${k}`, connection);
      queues.push(warm);
      await fill(warm, z.warmJobs);
    }
    await fill(queue, n);
    const counts0 = await queue.getJobCounts('waiting');
    if (counts0.waiting !== n) throw new Error(`addBulk left ${counts0.waiting} jobs waiting, not ${n}`);
    for (let k = 0; k < s.workers; k++) {
      const cfg: BullWorkerConfig = { connection, queue: queue.name, warmQueue: `${queue.name}-warm${k}`, warm: z.warmJobs, total: n, concurrency: s.concurrency };
      workers.push(new WorkerProc(cfg as unknown as Record<string, unknown>, 'bench/peer-bullmq-worker.ts'));
    }
    await Promise.all(workers.map((w) => w.line('ready')));
    await sleep(300);
    const a = snap(redis.pid);
    for (const w of workers) w.go();
    const deadline = Date.now() + Math.max(120_000, n * 5);
    for (;;) {
      const c = await queue.getJobCounts(...PENDING);
      if (PENDING.every((k) => c[k] === 0)) break;
      const dead = workers.find((w) => w.p.proc.exitCode !== null || w.p.proc.signalCode !== null);
      if (dead) throw new Error(`a worker process exited during the drain:\n${dead.p.output().slice(-1500)}`);
      if (Date.now() > deadline) throw new Error(`not drained in time: ${JSON.stringify(c)}`);
      await sleep(2);
    }
    const b = snap(redis.pid);
    for (const w of workers) w.go(); // stop: close the Worker, report
    const done = (await Promise.all(workers.map((w) => w.line('done ')))).map((l) => JSON.parse(l.slice(5)) as { count: number; cpuMs: number; bits: string });
    const bad = (await Promise.all(workers.map((w) => w.p.exited))).findIndex((e) => e.code !== 0);
    if (bad >= 0) throw new Error(`a worker process did not exit cleanly:\n${workers[bad]!.p.output().slice(-1500)}`);
    const { failed, completed } = await queue.getJobCounts('failed', 'completed');
    if (failed !== 0 || completed !== (s.removeOnComplete ? 0 : n)) throw new Error(`${failed} jobs failed, ${completed} kept as completed`);
    // Exactly once: every payload number in exactly one worker's bitmap.
    const maps = done.map((d) => Buffer.from(d.bits, 'base64'));
    for (let i = 0; i < n; i++) {
      const runs = maps.reduce((sum, m) => sum + (m[i] ?? 0), 0);
      if (runs !== 1) throw new Error(`job ${i} ran ${runs} times`);
    }
    const counted = done.reduce((sum, d) => sum + d.count, 0);
    if (counted !== n) throw new Error(`the workers ran ${counted} jobs, not ${n}`);
    const cpu = done.map((d) => d.cpuMs);
    const note =
      `${fmtN(n)} jobs, each run once (by exactly one worker), none failed, none left in Redis (removed on completion); ` +
      `workers' CPU ${cpu.map((c) => `${fmtN(Math.round(c))} ms`).join(' + ')} (${s.workers} processes, "go" to "stop")`;
    return result(n, a, b, cpu.reduce((x, y) => x + y, 0), false, note);
  } finally {
    for (const w of workers) if (w.p.proc.exitCode === null) w.p.proc.kill('SIGKILL');
    await dispose(queues);
  }
}

async function bullmqAdd(bull: Bull, connection: Record<string, unknown>, redis: RedisInfo, z: PeerSizes): Promise<RunResult> {
  const s = PEER_SHAPE.bullmq;
  const n = z.addJobs;
  const queue = await openQueue(bull, queueName('add'), connection);
  try {
    await closedLoop(z.warmJobs, s.addInFlight, (i) => queue.add('noop', { n: -1 - i }));
    await sleep(100);
    const a = snap(redis.pid);
    await closedLoop(n, s.addInFlight, (i) => queue.add('noop', { n: i }));
    const b = snap(redis.pid);
    const c = await queue.getJobCounts('waiting');
    if (c.waiting !== n + z.warmJobs) throw new Error(`${c.waiting} jobs waiting, expected ${n + z.warmJobs}`);
    return result(n, a, b, selfMsBetween(a, b), true, `${fmtN(n)} jobs waiting afterwards (+ ${fmtN(z.warmJobs)} warm-up adds, untimed)`);
  } finally {
    await dispose([queue]);
  }
}

// ---------------------------------------------------------------- plainjob

async function plainjobDrain(dir: string, z: PeerSizes): Promise<RunResult> {
  const [{ default: Database }, pj] = await Promise.all([import('better-sqlite3'), import('plainjob')]);
  const n = z.drainJobs;
  const path = join(dir, `plainjob-${++queueSeq}.db`);
  // plainjob's default logger is console, which prints every job at debug level.
  const quiet = { error: (m: string) => process.stderr.write(`plainjob: ${m}\n`), warn: () => {}, info: () => {}, debug: () => {} };
  const db = new Database(path);
  const queue = pj.defineQueue({ connection: pj.better(db), logger: quiet });
  try {
    const add = (type: string, count: number) => {
      for (let done = 0; done < count; done += PEER_SHAPE.plainjob.chunk) {
        queue.addMany(type, Array.from({ length: Math.min(PEER_SHAPE.plainjob.chunk, count - done) }, (_, i) => ({ n: done + i })));
      }
    };
    add('warm', z.warmJobs);
    add('noop', n);
    db.pragma('wal_checkpoint(TRUNCATE)');

    /** Runs `count` jobs of `type` with the configured workers; resolves when all are done. */
    const drain = async (type: string, count: number) => {
      const seen = new Uint8Array(count);
      let completed = 0;
      let settle!: (e?: Error) => void;
      const finished = new Promise<void>((res, rej) => (settle = (e) => (e ? rej(e) : res())));
      const workers = Array.from({ length: PEER_SHAPE.plainjob.workers }, () =>
        pj.defineWorker(
          type,
          async (job) => {
            const x = (JSON.parse(job.data) as { n: number }).n;
            if (seen[x]) throw new Error(`job ${x} ran twice`);
            seen[x] = 1;
          },
          {
            queue,
            logger: quiet,
            onCompleted: () => void (++completed === count && settle()),
            onFailed: (job, e) => settle(new Error(`plainjob job ${job.id} failed: ${e.split('\n')[0]}`)),
          },
        ),
      );
      const running = workers.map((w) => w.start());
      try {
        await finished;
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
        await Promise.all(running);
      }
    };

    await drain('warm', z.warmJobs);
    await sleep(300);
    const a = snap(null);
    await drain('noop', n);
    const b = snap(null);
    const doneInDb = queue.countJobs({ type: 'noop', status: pj.JobStatus.Done });
    const failed = queue.countJobs({ status: pj.JobStatus.Failed });
    if (doneInDb !== n || failed !== 0) throw new Error(`${doneInDb} noop jobs done in the database and ${failed} failed; expected ${n} and 0`);
    return result(n, a, b, selfMsBetween(a, b), true, `${fmtN(n)} jobs done in the database, each processed once, none failed`);
  } finally {
    queue.close(); // closes the database too
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
}

// ---------------------------------------------------------------- the run

type Collected = { key: PeerKey; label: string; what: string; run: (() => Promise<RunResult>) | null; skipped?: string; runs: RunResult[]; errors: string[] };

function rowOf(c: Collected): PeerRow {
  const base = { key: c.key, label: c.label, unit: 'tasks/s' as const };
  if (c.skipped) return { ...base, value: null, note: `skipped: ${c.skipped}` };
  if (c.runs.length === 0) return { ...base, value: null, note: `FAILED: ${c.errors[0] ?? 'not run'}` };
  const rates = c.runs.map((r) => (r.ops / r.ms) * 1000);
  const per = (f: (r: RunResult) => number) => {
    const xs = c.runs.map(f).filter((x) => !Number.isNaN(x));
    return xs.length === 0 ? undefined : median(xs);
  };
  const failed = c.errors.length ? `; ${c.errors.length} run(s) failed: ${c.errors[0]}` : '';
  return {
    ...base,
    value: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    clientCpuUs: per((r) => (r.clientMs * 1000) / r.ops),
    redisCpuUs: per((r) => (r.redisMs * 1000) / r.ops),
    otherCores: per((r) => r.otherCores),
    note: `${c.runs[c.runs.length - 1]!.note}${failed}`,
  };
}

async function loadPkg<T>(name: string, imp: () => Promise<T>): Promise<{ mod: T } | { why: string }> {
  return imp().then(
    (mod) => ({ mod }),
    (e: Error) => ({ why: `${name} could not be loaded (a devDependency: npm install): ${e.message.split('\n')[0]}` }),
  );
}

export async function runPeerBench(opts: PeerBenchOptions): Promise<PeerReport> {
  const log = opts.log ?? (() => {});
  const z = peerSizesFor(opts.quick);
  const url = opts.redisUrl ?? (process.env.TASKWIRE_BENCH_REDIS_URL || DEFAULT_REDIS_URL);
  const versions = { bullmq: versionOf('bullmq'), ioredis: versionOf('ioredis'), plainjob: versionOf('plainjob'), 'better-sqlite3': versionOf('better-sqlite3') };
  const report: PeerReport = {
    mode: opts.quick ? 'quick' : 'full', node: process.version, cpus: NCPU, redisUrl: display(url), redis: null, versions,
    loadStart: loadavg(), loadEnd: [], sizes: z, shape: PEER_SHAPE, rows: [], notes: [],
  };
  const s = PEER_SHAPE.bullmq;
  const connection = connectionOf(url);

  // BullMQ: the package, then Redis.
  let bullSkip: string | undefined;
  let bull: Bull | null = null;
  let redis: RedisInfo | null = null;
  const loaded = await loadPkg('bullmq', () => import('bullmq'));
  // BullMQ loads ioredis (its optional peer dependency) itself; the probe uses it too.
  const ioredis = await loadPkg('ioredis', () => import('ioredis').then((m): RedisClass => m.Redis ?? m.default));
  if ('why' in loaded) bullSkip = loaded.why;
  else if ('why' in ioredis) bullSkip = ioredis.why;
  else {
    bull = loaded.mod;
    const p = await probeRedis(ioredis.mod, url);
    if (p.ok) {
      redis = p.info;
      report.redis = p.info.version;
      report.notes.push(`Redis ${p.info.version} at ${display(url)}: ${p.info.persistence} (BullMQ's jobs are only as durable as that; Taskwire and plainjob commit to a WAL file)`);
    } else {
      bullSkip = `Redis not reachable at ${display(url)} (${p.why}); set TASKWIRE_BENCH_REDIS_URL or --redis to use another`;
    }
  }
  const pjLoaded = await loadPkg('plainjob', () => import('better-sqlite3').then(() => import('plainjob')));

  if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'taskwire-peerbench-'));
  const removal = `removeOnComplete: ${String(s.removeOnComplete)}`;
  const entry = (key: PeerKey, what: string, label: string, run: Collected['run'], skipped: string | undefined): Collected => ({ key, what, label, run, skipped, runs: [], errors: [] });
  const bullRun = (f: typeof bullmqDrain) => (bull && redis ? () => f(bull, connection, redis, z) : null);
  const runs: Collected[] = [
    entry('bullmqDrain', 'BullMQ drain', `BullMQ ${versions.bullmq} drain: ${s.workers} worker processes, Worker concurrency ${s.concurrency}, no-op processor, ${removal}`, bullRun(bullmqDrain), bullSkip),
    entry('bullmqAdd', 'BullMQ add', `BullMQ ${versions.bullmq} queue.add, single jobs, ${s.addInFlight} in flight, ${removal}`, bullRun(bullmqAdd), bullSkip),
    entry(
      'plainjobDrain',
      'plainjob drain',
      `plainjob ${versions.plainjob} drain in-process (better-sqlite3 ${versions['better-sqlite3']}, its WAL + synchronous=NORMAL): ${PEER_SHAPE.plainjob.workers} worker, default settings`,
      'why' in pjLoaded ? null : () => plainjobDrain(dir, z),
      'why' in pjLoaded ? pjLoaded.why : undefined,
    ),
  ];
  for (const x of runs) if (x.skipped) log(`peers: ${x.what} skipped: ${x.skipped}`);
  const active = runs.filter((x) => x.run);
  try {
    for (let r = 0; r < z.rounds; r++) {
      for (let j = 0; j < active.length; j++) {
        const x = active[(r + j) % active.length]!;
        const count = x.key === 'bullmqAdd' ? z.addJobs : z.drainJobs;
        log(`peers: ${x.what}, ${fmtN(count)} jobs (round ${r + 1} of ${z.rounds})`);
        try {
          x.runs.push(await x.run!());
        } catch (e) {
          const message = (e as Error).message;
          x.errors.push(message);
          log(`peers: ${x.what} FAILED: ${message}`);
        }
      }
    }
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
  report.rows = runs.map(rowOf);
  report.notes.push(
    `BullMQ drain: timed from "go" to both workers until Redis shows no job waiting, active, delayed or prioritized (polled every 2 ms); the workers add ` +
      `their CPU from "go" until told to stop. BullMQ needs ioredis ${versions.ioredis} (its optional peer dependency) for Redis.`,
    `plainjob: one worker claims one job per transaction (BEGIN IMMEDIATE) and marks it done in another; it runs due jobs back to back without yielding to the event loop. ` +
      `Its default logger (console) prints every job at debug level, so the run gives it a quiet one, as an application would.`,
  );
  report.loadEnd = loadavg();
  return report;
}

// ---------------------------------------------------------------- output

const fmt = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const us = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(0));

function table(head: string[], body: string[][], leftCols: number[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (leftCols.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

export function formatPeerReport(r: PeerReport): string {
  const out: string[] = [];
  const z = r.sizes;
  out.push(`Peer queues benchmark (${r.mode}) - node ${r.node}, ${r.cpus} CPUs, Redis ${r.redis ? `${r.redis} ` : ''}at ${r.redisUrl}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  out.push(`load average (1/5/15 min): ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end`);
  out.push(`drains: ${fmtN(z.drainJobs)} pre-added no-op jobs per run on a fresh queue, workers warmed up first (${fmtN(z.warmJobs)} jobs each); add: ${fmtN(z.addJobs)} jobs;`);
  out.push(`median over ${z.rounds} round(s) (min..max alongside). client us/job: the worker processes (BullMQ drain) or this process;`);
  out.push('redis us/job: the Redis server process; other: busy cores of everything else during the run (the machine is shared).');
  out.push('');
  const body = r.rows.map((x) => [
    x.label,
    x.unit,
    x.value === null ? (x.note?.startsWith('skipped') ? 'skipped' : 'FAILED') : fmt(x.value),
    x.min !== undefined && x.max !== undefined && x.min !== x.max ? `${fmt(x.min)}..${fmt(x.max)}` : '',
    us(x.clientCpuUs),
    us(x.redisCpuUs),
    x.otherCores === undefined ? '' : x.otherCores.toFixed(2),
  ]);
  out.push(...table(['measurement', 'unit', 'result', 'min..max', 'client us/job', 'redis us/job', 'other'], body, [0, 1]));
  out.push('');
  for (const x of r.rows) if (x.note) out.push(`note (${x.key}): ${x.note.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' | ')}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

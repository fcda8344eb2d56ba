/**
 * A peer queue for bench/postgres.ts, run as its own process:
 *   node --import tsx bench/postgres-peer.ts '<json config>'
 *
 * Graphile Worker or pg-boss on the given PostgreSQL, in its own schema (which the parent
 * drops afterwards). Before `ready`: installs the peer's schema, enqueues `warm` jobs of a
 * warm-up task and `jobs` no-op jobs of the measured task (bulk, untimed), ANALYZEs the
 * peer's tables and drains the warm-up jobs with the same settings (JIT, pool connections,
 * prepared statements). Then it waits for a line on stdin, drains the `jobs` no-op jobs
 * in-process, and prints `done <json>`: the job count, its wall time (from the start of the
 * measured drain until the database shows every job completed) and its own CPU. It closes
 * its connections on a second line on stdin (after the parent has read their CPU).
 *
 * Each handler counts the payload numbers it sees, so a job run twice or never is an error.
 */
import pg from 'pg';

export interface PeerConfig {
  peer: 'graphile-worker' | 'pg-boss';
  url: string;
  schema: string;
  jobs: number;
  warm: number;
  /** Graphile Worker: concurrentJobs, localQueue.size, completeJobBatchDelay / failJobBatchDelay (ms). */
  concurrency: number;
  localQueue: number;
  batchDelayMs: number;
  /** pg-boss: work() loops (what teamSize was before v10) and batchSize per fetch. */
  bossWorkers: number;
  bossBatchSize: number;
  bossPollingSeconds: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as PeerConfig;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENQUEUE_CHUNK = 5_000;

/** Counts each payload number once; throws on a repeat or a number out of range. */
class Seen {
  private readonly bits: Uint8Array;
  count = 0;
  private allDone!: () => void;
  readonly done: Promise<void>;

  constructor(readonly total: number) {
    this.bits = new Uint8Array(total);
    this.done = new Promise<void>((r) => (this.allDone = r));
    if (total === 0) this.allDone();
  }

  mark(n: unknown): void {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= this.total) throw new Error(`unexpected payload ${String(n)}`);
    if (this.bits[n]) throw new Error(`job ${n} ran twice`);
    this.bits[n] = 1;
    if (++this.count === this.total) this.allDone();
  }
}

/** Polls `sql` (one row, column n) until it returns `want`; a few ms between polls. */
async function until(db: pg.Pool, sql: string, want: number, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
    if (n === want) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${n}, expected ${want}, after ${timeoutMs} ms`);
    await sleep(5);
  }
}

async function analyzeSchema(db: pg.Pool, schema: string): Promise<void> {
  const { rows } = await db.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = $1`, [schema]);
  for (const r of rows) await db.query(`ANALYZE ${r.t}`);
}

interface Peer {
  /** Starts the measured drain; resolves once the database shows every job completed. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The peer's package, or an error that says it is missing. */
async function load<T>(name: string, imp: () => Promise<T>): Promise<T> {
  try {
    return await imp();
  } catch (e) {
    throw new Error(`${name} could not be loaded (a devDependency: npm install): ${(e as Error).message}`);
  }
}

async function graphileWorker(): Promise<Peer> {
  const gw = await load('graphile-worker', () => import('graphile-worker'));
  const { Logger, makeWorkerUtils, run, runMigrations } = gw;
  const quiet = new Logger(() => (level, message) => {
    if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
  });
  const schema = cfg.schema;
  const preset = {
    worker: {
      concurrentJobs: cfg.concurrency,
      localQueue: { size: cfg.localQueue },
      completeJobBatchDelay: cfg.batchDelayMs,
      failJobBatchDelay: cfg.batchDelayMs,
    },
  };
  // One pool for the warm-up and the measured runner, so the measured run starts on open
  // connections (a pool passed in is not ended by the runner). Graphile's default size.
  const pool = new pg.Pool({ connectionString: cfg.url, max: 10 });
  await runMigrations({ pgPool: pool, schema, logger: quiet });
  const utils = await makeWorkerUtils({ pgPool: pool, schema, logger: quiet });
  const add = async (identifier: string, count: number) => {
    for (let done = 0; done < count; done += ENQUEUE_CHUNK) {
      const n = Math.min(ENQUEUE_CHUNK, count - done);
      await utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier, payload: { n: done + i } })));
    }
  };
  await add('warm', cfg.warm);
  await add('noop', cfg.jobs);
  await utils.release();
  await analyzeSchema(pool, schema);
  const remaining = `SELECT count(*) AS n FROM ${pg.escapeIdentifier(schema)}._private_jobs j
    JOIN ${pg.escapeIdentifier(schema)}._private_tasks t ON t.id = j.task_id WHERE t.identifier = `;

  const runOn = async (identifier: string, count: number) => {
    const seen = new Seen(count);
    const runner = await run({
      pgPool: pool,
      schema,
      logger: quiet,
      noHandleSignals: true,
      concurrency: cfg.concurrency,
      preset,
      // Only this task: the runner fetches only jobs it has a handler for.
      taskList: { [identifier]: async (payload) => seen.mark((payload as { n: number }).n) },
    });
    await seen.done;
    // Completion is batched: done once the database holds none of them.
    await until(pool, `${remaining}'${identifier}'`, 0, `${identifier} jobs left in the database`);
    return runner;
  };

  const warmRunner = await runOn('warm', cfg.warm);
  await warmRunner.stop();
  let measured: Awaited<ReturnType<typeof run>> | null = null;
  return {
    async drain() {
      measured = await runOn('noop', cfg.jobs);
    },
    async close() {
      await measured?.stop();
      await pool.end();
    },
  };
}

async function pgBoss(): Promise<Peer> {
  const { default: PgBoss } = await load('pg-boss', () => import('pg-boss'));
  const schema = cfg.schema;
  // pg-boss names its connections 'pgboss' unless told: keep the URL's application_name
  // (the parent reads PostgreSQL's CPU for this run's backends by it).
  const applicationName = new URL(cfg.url).searchParams.get('application_name') ?? undefined;
  const boss = new PgBoss({ connectionString: cfg.url, application_name: applicationName, schema, max: 10, schedule: false, supervise: false });
  boss.on('error', (e: Error) => process.stderr.write(`pg-boss: ${e.message}\n`));
  await boss.start();
  const db = new pg.Pool({ connectionString: cfg.url, max: 1 });
  const add = async (name: string, count: number) => {
    await boss.createQueue(name);
    for (let done = 0; done < count; done += ENQUEUE_CHUNK) {
      const n = Math.min(ENQUEUE_CHUNK, count - done);
      await boss.insert(Array.from({ length: n }, (_, i) => ({ name, data: { n: done + i } })));
    }
  };
  await add('warm', cfg.warm);
  await add('noop', cfg.jobs);
  await analyzeSchema(db, schema);

  const workOn = async (name: string, count: number) => {
    const seen = new Seen(count);
    const options = { batchSize: cfg.bossBatchSize, pollingIntervalSeconds: cfg.bossPollingSeconds };
    for (let k = 0; k < cfg.bossWorkers; k++) {
      await boss.work<{ n: number }>(name, options, async (jobs) => {
        for (const j of jobs) seen.mark(j.data.n);
      });
    }
    await seen.done;
    // pg-boss completes a batch after its handler returns, without waiting for it.
    await until(db, `SELECT count(*) AS n FROM ${pg.escapeIdentifier(schema)}.job WHERE name = '${name}' AND state = 'completed'`, count, `completed ${name} jobs`);
    await boss.offWork(name);
  };

  await workOn('warm', cfg.warm);
  return {
    drain: () => workOn('noop', cfg.jobs),
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5_000 } as never);
      await db.end();
    },
  };
}

try {
  const peer = cfg.peer === 'graphile-worker' ? await graphileWorker() : await pgBoss();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await peer.drain();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`done ${JSON.stringify({ tasks: cfg.jobs, ms, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  // Connections stay open until the parent has read their backends' CPU and says so.
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await peer.close();
  process.exit(0);
} catch (e) {
  process.stderr.write(`${cfg.peer}: ${(e as Error).message}\n${(e as Error).stack ?? ''}\n`);
  process.exit(1);
}

/**
 * Soak: the real server (`node --import tsx src/cli.ts serve`) on a temporary database,
 * with producers, workers and subscribers running at a steady rate for N minutes.
 * Every minute it prints throughput, the server's memory (RSS from /proc/<pid>/status,
 * and the JS heap from /metrics) and the size of the WAL; at the end a summary, after
 * the queue has drained and the server has stopped gracefully, with integrity_check.
 *
 *   npm run soak -- --minutes 10 [--rate 100] [--producers 2] [--workers 4] [--subscribers 3] [--keep]
 *
 * --rate is tasks per second over all producers. Each task is enqueued (enqueueTask),
 * claimed in batches with a long-poll (claimTasks, waitSeconds) and completed in
 * batches (completeTasks). Subscribers follow taskEvents over graphql-ws (one of them
 * also queueStatsUpdated) and count what they receive. The exit code is 1 if any request
 * failed, a subscriber missed a completion, the queue did not drain, or the file is not intact.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort } from './free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    rate: { type: 'string', default: '100' },
    producers: { type: 'string', default: '2' },
    workers: { type: 'string', default: '4' },
    subscribers: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const num = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    console.error(`soak: --${name} must be a number >= ${min} (got "${v}")`);
    process.exit(2);
  }
  return n;
};
const MINUTES = num('minutes', values.minutes, 0.1);
const RATE = num('rate', values.rate, 1);
const PRODUCERS = Math.floor(num('producers', values.producers, 1));
const WORKERS = Math.floor(num('workers', values.workers, 1));
const SUBSCRIBERS = Math.floor(num('subscribers', values.subscribers, 0));
const PERIOD_MS = Math.min(60_000, MINUTES * 60_000);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));


// ---------------------------------------------------------------- server

const dir = mkdtempSync(join(tmpdir(), 'taskwire-soak-'));
const dbPath = join(dir, 'soak.db');
const port = await freePort();
const url = `http://127.0.0.1:${port}/graphql`;
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TASKWIRE_')) env[k] = v;
const server = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...env, NODE_OPTIONS: '', PORT: String(port), HOST: '127.0.0.1', TASKWIRE_DB: dbPath, TASKWIRE_LOG_LEVEL: 'warn' },
});
let serverLog = '';
const keepLog = (c: Buffer) => {
  serverLog = (serverLog + c.toString('utf8')).slice(-20_000);
};
server.stdout.on('data', keepLog);
server.stderr.on('data', keepLog);
let serverExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
const serverExited = new Promise<void>((resolve) =>
  server.on('close', (code, signal) => {
    serverExit = { code, signal };
    resolve();
  }),
);
const cleanup = () => {
  if (!serverExit) server.kill('SIGKILL');
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

async function health(): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    await r.text();
    return r.ok;
  } catch {
    return false;
  }
}
const startDeadline = Date.now() + 60_000;
while (!(await health())) {
  if (serverExit || Date.now() > startDeadline) {
    console.error(`soak: the server did not start\n${serverLog}`);
    cleanup();
    process.exit(1);
  }
  await sleep(50);
}

// ---------------------------------------------------------------- clients

interface Counters {
  enqueued: number;
  completed: number;
  claimed: number;
  events: number;
  succeededEvents: number[];
  statsUpdates: number;
  errors: number;
  enqueueMs: number[];
}
const total: Counters = { enqueued: 0, completed: 0, claimed: 0, events: 0, succeededEvents: [], statsUpdates: 0, errors: 0, enqueueMs: [] };
let period: Counters = { ...total, succeededEvents: [], enqueueMs: [] };
const errorSamples: string[] = [];

function recordError(what: string, detail: unknown): void {
  total.errors++;
  period.errors++;
  if (errorSamples.length < 10) errorSamples.push(`${what}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`.slice(0, 300));
}

async function gql<T = any>(query: string, variables?: Record<string, unknown>, timeoutMs = 30_000): Promise<T | null> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length) {
      recordError(query.trim().split(/[\s({]+/)[1] ?? 'request', body.errors);
      return null;
    }
    return body.data ?? null;
  } catch (e) {
    recordError('request', String((e as Error).message));
    return null;
  }
}

let producing = true;
let working = true;
const startedAt = Date.now();

async function producer(p: number): Promise<void> {
  const perSecond = RATE / PRODUCERS;
  const begin = Date.now();
  for (let i = 0; producing; i++) {
    const due = begin + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    if (!producing) break;
    const t0 = performance.now();
    const r = await gql(`mutation ($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created } }`, {
      input: { type: i % 5 === 0 ? 'report' : 'email', payload: { p, i, body: 'x'.repeat(200) }, idempotencyKey: `soak-${p}-${i}` },
    });
    if (r) {
      total.enqueued++;
      period.enqueued++;
      period.enqueueMs.push(performance.now() - t0);
    }
  }
}

async function worker(w: number): Promise<void> {
  const workerId = `soak-worker-${w}`;
  while (working) {
    const r = await gql<{ claimTasks: { leaseToken: string; task: { id: string } }[] }>(
      `mutation ($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken task { id } } }`,
      { input: { workerId, limit: 10, leaseSeconds: 60, waitSeconds: 2 } },
    );
    if (!r) {
      await sleep(200);
      continue;
    }
    if (r.claimTasks.length === 0) continue;
    total.claimed += r.claimTasks.length;
    period.claimed += r.claimTasks.length;
    const done = await gql<{ completeTasks: { id: string }[] }>(
      `mutation ($inputs: [CompleteTaskInput!]!) { completeTasks(inputs: $inputs) { id } }`,
      { inputs: r.claimTasks.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true, by: workerId } })) },
    );
    if (done) {
      total.completed += done.completeTasks.length;
      period.completed += done.completeTasks.length;
    }
  }
}

const subscribers: Client[] = [];
function subscribe(s: number): void {
  total.succeededEvents[s] = 0;
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  subscribers.push(client);
  client.subscribe<{ taskEvents: { kind: string } }>(
    { query: 'subscription { taskEvents { kind cursor task { id status } } }' },
    {
      next: (m) => {
        total.events++;
        period.events++;
        if (m.data?.taskEvents.kind === 'SUCCEEDED') total.succeededEvents[s]!++;
        if (m.errors) recordError('taskEvents', m.errors);
      },
      error: (e) => recordError(`subscriber ${s}`, String((e as Error)?.message ?? JSON.stringify(e))),
      complete: () => {},
    },
  );
  if (s === 0) {
    client.subscribe(
      { query: 'subscription { queueStatsUpdated { succeededLastMinute counts { status count } } }' },
      {
        next: () => {
          total.statsUpdates++;
          period.statsUpdates++;
        },
        error: (e) => recordError('queueStatsUpdated', String((e as Error)?.message ?? JSON.stringify(e))),
        complete: () => {},
      },
    );
  }
}

// ---------------------------------------------------------------- measurements

function rssMb(): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
const sizeMb = (path: string): number => {
  try {
    return statSync(path).size / 1024 / 1024;
  } catch {
    return 0;
  }
};
async function heapMb(): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const m = /^taskwire_process_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : NaN;
  } catch {
    return NaN;
  }
}
async function backlog(): Promise<{ queued: number; running: number }> {
  const r = await gql<{ queueStats: { counts: { status: string; count: number }[] } }>('{ queueStats { counts { status count } } }');
  const c = (s: string) => r?.queueStats.counts.find((x) => x.status === s)?.count ?? NaN;
  return { queued: c('QUEUED'), running: c('RUNNING') };
}
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Row {
  minute: number;
  enqPerS: number;
  donePerS: number;
  eventsPerS: number;
  p50: number;
  p99: number;
  backlog: number;
  rss: number;
  heap: number;
  wal: number;
  db: number;
  errors: number;
}
const rows: Row[] = [];
let rssPeak = 0;
let walPeak = 0;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, rssMb() || 0);
  walPeak = Math.max(walPeak, sizeMb(`${dbPath}-wal`));
}, 1000);

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
function printHeader(): void {
  console.log(
    ['min', 'enq/s', 'done/s', 'events/s', 'enq p50ms', 'enq p99ms', 'backlog', 'RSS MB', 'heap MB', 'WAL MB', 'db MB', 'errors']
      .map((h) => h.padStart(10))
      .join(''),
  );
}
function printRow(r: Row): void {
  console.log(
    [String(r.minute), f(r.enqPerS), f(r.donePerS), f(r.eventsPerS), f(r.p50, 2), f(r.p99, 2), String(r.backlog), f(r.rss), f(r.heap), f(r.wal, 2), f(r.db, 2), String(r.errors)]
      .map((c) => c.padStart(10))
      .join(''),
  );
}

// ---------------------------------------------------------------- run

console.log(
  `soak: ${MINUTES} min against the server (pid ${server.pid}) on ${dbPath}; ${RATE} tasks/s from ${PRODUCERS} producers, ` +
    `${WORKERS} workers, ${SUBSCRIBERS} subscribers`,
);
for (let s = 0; s < SUBSCRIBERS; s++) subscribe(s);
await sleep(300); // subscriptions open before the first task
const running = [
  ...Array.from({ length: PRODUCERS }, (_, p) => producer(p)),
  ...Array.from({ length: WORKERS }, (_, w) => worker(w)),
];
printHeader();
const endAt = startedAt + MINUTES * 60_000;
for (let minute = 1; Date.now() < endAt - 500; minute++) {
  const periodStart = Date.now();
  await sleep(Math.min(PERIOD_MS, endAt - Date.now()));
  const seconds = (Date.now() - periodStart) / 1000;
  const p = period;
  period = { ...total, enqueued: 0, completed: 0, claimed: 0, events: 0, succeededEvents: [], statsUpdates: 0, errors: 0, enqueueMs: [] };
  const b = await backlog();
  const row: Row = {
    minute,
    enqPerS: p.enqueued / seconds,
    donePerS: p.completed / seconds,
    eventsPerS: p.events / seconds,
    p50: pct(p.enqueueMs, 50),
    p99: pct(p.enqueueMs, 99),
    backlog: b.queued + b.running,
    rss: rssMb(),
    heap: await heapMb(),
    wal: sizeMb(`${dbPath}-wal`),
    db: sizeMb(dbPath),
    errors: p.errors,
  };
  rows.push(row);
  printRow(row);
  if (serverExit) break;
}

// Drain: producers stop, workers finish what is left, subscribers catch up.
producing = false;
const drainDeadline = Date.now() + 60_000;
let left = await backlog();
while (left.queued + left.running > 0 && Date.now() < drainDeadline && !serverExit) {
  await sleep(250);
  left = await backlog();
}
working = false;
await Promise.all(running);
const catchUpDeadline = Date.now() + 10_000;
while (SUBSCRIBERS > 0 && Math.min(...total.succeededEvents) < total.completed && Date.now() < catchUpDeadline) await sleep(100);
for (const c of subscribers) await c.dispose();
clearInterval(sampler);
const elapsed = (Date.now() - startedAt) / 1000;
const rssAtEnd = rssMb();

server.kill('SIGTERM');
const stopDeadline = setTimeout(() => server.kill('SIGKILL'), 20_000);
await serverExited;
clearTimeout(stopDeadline);
let integrity = 'not checked';
let tasksInFile = NaN;
try {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  integrity = String(db.pragma('integrity_check', { simple: true }));
  tasksInFile = (db.prepare(`SELECT count(*) AS c FROM tasks WHERE status = 'SUCCEEDED'`).get() as { c: number }).c;
  db.close();
} catch (e) {
  integrity = `failed: ${(e as Error).message}`;
}

// queueStatsUpdated promises "at most a few times a second" (src/app.ts: statsPerSecond 4).
const statsPerSecond = SUBSCRIBERS > 0 ? total.statsUpdates / elapsed : 0;
const statsThrottled = statsPerSecond <= 5;
const first = rows[0];
const last = rows[rows.length - 1];
const drained = left.queued + left.running === 0;
const missed = total.succeededEvents.map((n, s) => ({ s, missing: total.completed - n })).filter((x) => x.missing !== 0);
console.log('');
console.log('soak summary');
console.log(`  ran                ${f(elapsed / 60, 2)} min (${rows.length} periods), drained: ${drained ? 'yes' : `NO (${left.queued} queued, ${left.running} running)`}`);
console.log(`  tasks              ${total.enqueued} enqueued, ${total.completed} completed (${f(total.completed / elapsed)} /s overall), ${tasksInFile} SUCCEEDED in the file`);
console.log(`  subscribers        ${total.events} task events (${f(total.events / elapsed)} /s), ${total.statsUpdates} queueStats updates; ` +
  (SUBSCRIBERS === 0 ? 'none' : missed.length === 0 ? 'each saw every SUCCEEDED' : `MISSED: ${JSON.stringify(missed)}`));
if (SUBSCRIBERS > 0) {
  console.log(`  queueStatsUpdated  ${f(statsPerSecond)} updates/s on one subscription ` +
    (statsThrottled ? '(within "a few times a second")' : '(PROMISED at most a few per second: the throttle does not hold)'));
}
if (first && last) {
  console.log(`  server RSS         first minute ${f(first.rss)} MB, last ${f(last.rss)} MB (change ${f(last.rss - first.rss)} MB), peak ${f(rssPeak)} MB, after drain ${f(rssAtEnd)} MB`);
  console.log(`  server JS heap     first minute ${f(first.heap)} MB, last ${f(last.heap)} MB`);
  console.log(`  WAL                first minute ${f(first.wal, 2)} MB, last ${f(last.wal, 2)} MB, peak ${f(walPeak, 2)} MB; db file ${f(last.db, 2)} MB`);
}
console.log(`  errors             ${total.errors}${errorSamples.length ? `: ${errorSamples.join(' | ')}` : ''}`);
console.log(`  server exit        ${JSON.stringify(serverExit)}; integrity_check: ${integrity}`);
if (values.keep) console.log(`  database kept at   ${dbPath}`);
const ok =
  total.errors === 0 && statsThrottled && drained && missed.length === 0 && integrity === 'ok' && (serverExit as { code: number | null } | null)?.code === 0 && tasksInFile === total.completed;
if (!ok && serverLog.trim()) console.log(`\nserver log (tail):\n${serverLog.slice(-3000)}`);
cleanup();
process.exit(ok ? 0 : 1);

/**
 * GraphQL benchmark (issue 3): the server over real sockets on 127.0.0.1.
 *
 * The server under test runs in its own process (`node --import tsx src/cli.ts serve`,
 * PORT / HOST / TASKWIRE_DB / TASKWIRE_LOG_LEVEL=warn), the drain workers in their own
 * processes (bench/graphql-worker.ts), the load generator here. Measured in one run:
 *
 * - single enqueueTask over HTTP (node:http keep-alive agent, several requests in flight)
 *   and over WebSocket (graphql-ws, many operations in flight on one connection), in
 *   alternating rounds;
 * - enqueueTasks with 100 per request;
 * - end-to-end drain: K worker processes claiming batches of 50 and acknowledging each
 *   batch with completeTasks, over HTTP and over WebSocket, from a pre-filled queue;
 * - enqueue-to-subscriber latency at a steady 500 tasks/s (taskEvents over graphql-ws);
 * - pickup latency of an idle long-polling worker (claimTasks with waitSeconds);
 * - ceilings: the same work in-process on the engine, and a bare graphql-yoga server
 *   whose one mutation does nothing (bench/bare-yoga.ts), over HTTP (and WebSocket) the
 *   same way.
 *
 * Every throughput figure is the median over rounds; CPU per operation is read from
 * /proc for the server (and the workers) and from process.cpuUsage() for this process,
 * and "other load" is the machine's busy CPU during the round minus ours: work of other
 * programs competing for the same 2 cores.
 *
 * With `profile`, the server is then run again under `node --cpu-prof` for the single
 * enqueue over HTTP and for the drains, stopped with SIGINT (which writes the profile),
 * and each profile is summarized over the measured window only.
 *
 * One file on purpose (over 500 lines): the scenarios share the server, clients and
 * measurement helpers, and the report reads them together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { EnqueueInput } from '../src/store/index.js';
import { SqliteTaskStore } from '../src/store/sqlite/store.js';
import {
  CLAIM,
  ENQUEUE,
  ENQUEUE_MANY,
  TASK_EVENTS,
  httpClient,
  wsClient,
  type ClaimedShape,
  type GqlClient,
} from './clients.js';
import { findProfile, formatProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { freePort } from '../scripts/free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface GraphqlBenchOptions {
  quick: boolean;
  dir?: string;
  log?: (line: string) => void;
  /** Also run the profiled passes; profiles go here (kept). */
  profileDir?: string;
}

export interface Sizes {
  rounds: number;
  singlePerRound: number;
  batchRequestsPerRound: number;
  drainTasks: number;
  drainRounds: number;
  warmTasks: number;
  subscriberEvents: number;
  pickupSamples: number;
  engineEnqueue: number;
  engineBatches: number;
  profileRequests: number;
}

export function graphqlSizesFor(quick: boolean): Sizes {
  return quick
    ? {
        rounds: 3,
        singlePerRound: 2_000,
        batchRequestsPerRound: 50,
        drainTasks: 20_000,
        drainRounds: 1,
        warmTasks: 2_000,
        subscriberEvents: 1_000,
        pickupSamples: 100,
        engineEnqueue: 3_000,
        engineBatches: 100,
        profileRequests: 10_000,
      }
    : {
        rounds: 5,
        singlePerRound: 5_000,
        batchRequestsPerRound: 150,
        drainTasks: 100_000,
        drainRounds: 2,
        warmTasks: 4_000,
        subscriberEvents: 5_000,
        pickupSamples: 200,
        engineEnqueue: 10_000,
        engineBatches: 300,
        profileRequests: 20_000,
      };
}

/** Load shape: requests in flight and batch sizes. */
export const SHAPE = {
  httpInFlight: 16,
  wsInFlight: 64,
  batchSize: 100,
  batchInFlight: 4,
  workers: 2,
  claimBatch: 50,
  // The same concurrency as the BullMQ peer's Worker (bench/peers.ts).
  runnerConcurrency: 100,
  subscriberRate: 500,
};

export interface Row {
  key: string;
  section: 'server' | 'ceiling';
  label: string;
  unit: string;
  value: number;
  min?: number;
  max?: number;
  target?: string;
  met?: boolean;
  /** Server CPU per operation (us): the server process, or this process for in-process runs. */
  serverCpuUs?: number;
  /** Load-generator CPU per operation (us): this process, or the worker processes. */
  clientCpuUs?: number;
  /** Busy CPU of other programs during the measurement, in cores (median over rounds). */
  otherCores?: number;
  note?: string;
}

export interface GraphqlReport {
  mode: 'quick' | 'full';
  node: string;
  cpus: number;
  loadStart: number[];
  loadEnd: number[];
  sizes: Sizes;
  shape: typeof SHAPE;
  rows: Row[];
  notes: string[];
  profiles: { title: string; summary: ProfileSummary; ops: number; unit: string }[];
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function procCpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return NaN;
  }
}

export function machineJiffies(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

interface Snapshot {
  t: number;
  self: NodeJS.CpuUsage;
  server: number;
  extra: number;
  machine: { busy: number; total: number };
}

interface Measured {
  ops: number;
  wallMs: number;
  rate: number;
  serverCpuUs: number;
  selfCpuUs: number;
  extraCpuUs: number;
  otherCores: number;
}

const NCPU = cpus().length;

function snap(serverPid?: number, extraPids: number[] = []): Snapshot {
  return {
    t: performance.now(),
    self: process.cpuUsage(),
    server: procCpuMs(serverPid),
    extra: extraPids.reduce((a, p) => a + procCpuMs(p), 0),
    machine: machineJiffies(),
  };
}

function since(a: Snapshot, b: Snapshot, ops: number): Measured {
  const wallMs = b.t - a.t;
  const selfMs = (b.self.user - a.self.user + b.self.system - a.self.system) / 1000;
  const serverMs = b.server - a.server;
  const extraMs = b.extra - a.extra;
  const busyCores = ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * NCPU;
  const ours = (selfMs + serverMs + extraMs) / wallMs;
  return {
    ops,
    wallMs,
    rate: (ops / wallMs) * 1000,
    serverCpuUs: (serverMs * 1000) / ops,
    selfCpuUs: (selfMs * 1000) / ops,
    extraCpuUs: (extraMs * 1000) / ops,
    otherCores: Math.max(0, busyCores - ours),
  };
}

export async function timed(ops: number, pids: { server?: number; extra?: number[] }, run: () => Promise<void>): Promise<Measured> {
  const a = snap(pids.server, pids.extra);
  await run();
  return since(a, snap(pids.server, pids.extra), ops);
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length === 0 ? NaN : a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

function percentile(xs: number[], p: number): number {
  const a = [...xs].sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))]!;
}

/** `total` operations with `concurrency` in flight. */
async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++);
    }),
  );
}

/** `inProcess`: the work ran in this process, so its CPU is the "server" side. */
function summarize(ms: Measured[], inProcess = false): Pick<Row, 'value' | 'min' | 'max' | 'serverCpuUs' | 'clientCpuUs' | 'otherCores'> {
  return {
    value: median(ms.map((m) => m.rate)),
    min: Math.min(...ms.map((m) => m.rate)),
    max: Math.max(...ms.map((m) => m.rate)),
    serverCpuUs: median(ms.map((m) => (inProcess ? m.selfCpuUs : m.serverCpuUs))),
    clientCpuUs: inProcess ? undefined : median(ms.map((m) => m.selfCpuUs + m.extraCpuUs)),
    otherCores: median(ms.map((m) => m.otherCores)),
  };
}


function httpGet(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

// ---------------------------------------------------------------- child processes

export interface Proc {
  proc: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, pid: proc.pid!, output: () => out, exited };
}

export interface Server {
  url: string;
  port: number;
  pid: number;
  /** SIGINT, then waits for the exit: how it ended and how long it took. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  output(): string;
}

async function waitReady(p: Proc, port: number, what: string): Promise<void> {
  let done = false;
  void p.exited.then(() => (done = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`${what} exited before it was ready:\n${p.output()}`);
    if ((await httpGet(port, '/health')) === 200) return;
    await sleep(50);
  }
  p.proc.kill('SIGKILL');
  throw new Error(`${what} not ready after 30 s:\n${p.output()}`);
}

function stopper(p: Proc, what: string): Server['stop'] {
  return async () => {
    const t0 = performance.now();
    p.proc.kill('SIGINT');
    const timeout = sleep(20_000).then(() => null);
    const r = await Promise.race([p.exited, timeout]);
    if (!r) {
      p.proc.kill('SIGKILL');
      throw new Error(`${what} did not exit within 20 s of SIGINT:\n${p.output().slice(-2000)}`);
    }
    return { ...r, ms: performance.now() - t0 };
  };
}

/** `node --import tsx src/cli.ts serve` on a free port with its own database file. */
export async function startTaskwire(dbPath: string, profileDir?: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const p = launch([...prof, ...nodeArgs, '--import', 'tsx', 'src/cli.ts', 'serve'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    TASKWIRE_DB: dbPath,
    TASKWIRE_LOG_LEVEL: 'warn',
    ...env,
  });
  await waitReady(p, port, 'taskwire serve');
  return { url: `http://127.0.0.1:${port}/graphql`, port, pid: p.pid, stop: stopper(p, 'taskwire serve'), output: p.output };
}

async function startBare(mode: 'default' | 'nolimit' | 'envelop'): Promise<Server> {
  const port = await freePort();
  const p = launch(['--import', 'tsx', 'bench/bare-yoga.ts', mode, String(port)]);
  const deadline = Date.now() + 30_000;
  while (!p.output().includes('listening')) {
    if (Date.now() > deadline) throw new Error(`bare yoga did not start:\n${p.output()}`);
    await sleep(50);
  }
  return { url: `http://127.0.0.1:${port}/graphql`, port, pid: p.pid, stop: stopper(p, 'bare yoga'), output: p.output };
}

/** A child process speaking the `ready` / go / `done <json>` protocol (bench/graphql-worker.ts by default). */
export class WorkerProc {
  readonly p: Proc;
  private lines: string[] = [];
  private partial = '';
  private waiters: { prefix: string; resolve: (line: string) => void }[] = [];

  constructor(config: Record<string, unknown>, script = 'bench/graphql-worker.ts') {
    this.p = launch(['--import', 'tsx', script, JSON.stringify(config)]);
    this.p.proc.stdout!.on('data', (c: string) => {
      const parts = (this.partial + c).split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (line.startsWith(w.prefix) ? (w.resolve(line), false) : true));
      }
    });
  }

  line(prefix: string): Promise<string> {
    const seen = this.lines.find((l) => l.startsWith(prefix));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ prefix, resolve });
      void this.p.exited.then((e) => reject(new Error(`worker exited (${e.code ?? e.signal}) before "${prefix}":\n${this.p.output()}`)));
    });
  }

  go(): void {
    this.p.proc.stdin!.write('go\n');
  }

  /** The number in the newest line that starts with `prefix` (0 before the first). */
  latest(prefix: string): number {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i]!.startsWith(prefix)) return Number(this.lines[i]!.slice(prefix.length));
    return 0;
  }
}

// ---------------------------------------------------------------- database files

/** A database with the schema, `tasks` QUEUED tasks in `default` and `warm` in `warm`. */
export async function prefilled(path: string, tasks: number, warm: number): Promise<void> {
  const s = new SqliteTaskStore({ path, tailIntervalMs: 0 });
  await s.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < @n)
     INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after, created_at, updated_at)
     SELECT @queue, 'bench', x % 10, json_object('n', x), '{}', 'QUEUED', 5, @now, @now, @now FROM c`,
  );
  const now = Date.now() - 1000;
  db.transaction(() => {
    insert.run({ n: warm, queue: 'warm', now });
    for (let done = 0; done < tasks; done += 100_000) insert.run({ n: Math.min(100_000, tasks - done), queue: 'default', now });
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

// ---------------------------------------------------------------- scenarios

const enqueueVars = (i: number, queue?: string) => ({ input: { type: 'bench', payload: { n: i }, ...(queue ? { queue } : {}) } });

type Enqueued = { enqueueTask: { created: boolean } };

function checkEnqueued(d: Enqueued): void {
  if (!d.enqueueTask.created) throw new Error('enqueueTask did not create a task');
}

export async function singleEnqueue(client: GqlClient, n: number, inFlight: number, start: number): Promise<void> {
  await closedLoop(n, inFlight, async (i) => checkEnqueued(await client.request<Enqueued>(ENQUEUE, enqueueVars(start + i))));
}

export async function batchEnqueue(client: GqlClient, requests: number, inFlight: number, start: number): Promise<void> {
  await closedLoop(requests, inFlight, async (r) => {
    const inputs = Array.from({ length: SHAPE.batchSize }, (_, j) => ({ type: 'bench', payload: { n: start + r * SHAPE.batchSize + j } }));
    const d = await client.request<{ enqueueTasks: unknown[] }>(ENQUEUE_MANY, { inputs });
    if (d.enqueueTasks.length !== SHAPE.batchSize) throw new Error('enqueueTasks returned a short list');
  });
}

interface DrainResult extends Measured {
  transport: 'http' | 'ws';
  /** Drained by the worker runner, not the hand loop. */
  runner: boolean;
  workerMs: number[];
}

export interface DrainOptions {
  /** Drain with Taskwire's worker runner (createWorker) at this concurrency, over WebSocket, instead of the hand loop. */
  runnerConcurrency?: number;
  /** The runner's prefetch (default 0). */
  runnerPrefetch?: number;
  profileDir?: string;
  nodeArgs?: string[];
  /** Extra environment for the server. */
  env?: Record<string, string>;
  /** Called with the server's pid just before the workers start (e.g. to attach perf). */
  beforeGo?: (serverPid: number) => Promise<void>;
  afterDone?: () => Promise<void>;
}

/** A fresh server on a copy of the pre-filled file, K worker processes, go, wait for both. */
export async function drain(
  transport: 'http' | 'ws',
  source: string,
  dir: string,
  tasks: number,
  o: DrainOptions = {},
): Promise<DrainResult & { windowUs: [number, number] }> {
  const path = join(dir, `drain-${transport}-${Date.now()}.db`);
  copyFileSync(source, path);
  const server = await startTaskwire(path, o.profileDir, o.nodeArgs, o.env);
  const workers: WorkerProc[] = [];
  try {
    for (let k = 0; k < SHAPE.workers; k++) {
      workers.push(
        new WorkerProc({
          url: server.url,
          transport,
          mode: o.runnerConcurrency ? 'runner' : 'loop',
          concurrency: o.runnerConcurrency,
          prefetch: o.runnerPrefetch,
          workerId: `bench-${transport}-${k}`,
          batch: SHAPE.claimBatch,
          queue: 'default',
          warmQueue: 'warm',
        }),
      );
    }
    await Promise.all(workers.map((w) => w.line('ready')));
    await sleep(200); // let the server's and workers' post-warm-up work settle
    await o.beforeGo?.(server.pid);
    // The workers report their own CPU (they may have exited by the time /proc is read).
    const a = snap(server.pid);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    for (const w of workers) w.go();
    if (o.runnerConcurrency) {
      // The runners say how many they completed; stop them once every task is done.
      const completed = () => workers.reduce((sum, w) => sum + w.latest('n '), 0);
      while (completed() < tasks) {
        if (workers.some((w) => w.p.proc.exitCode !== null)) throw new Error(`a runner exited early:\n${workers.map((w) => w.p.output()).join('\n')}`);
        await sleep(5);
      }
    }
    const b = snap(server.pid);
    const at = Number(process.hrtime.bigint() / 1000n);
    if (o.runnerConcurrency) for (const w of workers) w.go();
    const done = await Promise.all(workers.map((w) => w.line('done ')));
    const toUs = o.runnerConcurrency ? at : Number(process.hrtime.bigint() / 1000n);
    const measured = since(a, o.runnerConcurrency ? b : snap(server.pid), tasks);
    await o.afterDone?.();
    const results = done.map((l) => JSON.parse(l.slice(5)) as { tasks: number; ms: number; cpuMs: number });
    const workerCpuMs = results.reduce((sum, r) => sum + r.cpuMs, 0);
    const m: Measured = {
      ...measured,
      extraCpuUs: (workerCpuMs * 1000) / tasks,
      otherCores: Math.max(0, measured.otherCores - workerCpuMs / measured.wallMs),
    };
    const total = results.reduce((s, r) => s + r.tasks, 0);
    if (total !== tasks) throw new Error(`the workers drained ${total} tasks, not ${tasks}`);
    // Every task completed, and once: the server's count agrees with the workers'.
    const check = httpClient(server.url, 1);
    const { tasks: succeeded } = await check.request<{ tasks: { totalCount: number } }>(
      '{ tasks(filter: { queue: "default", status: [SUCCEEDED] }) { totalCount } }',
    );
    await check.close();
    if (succeeded.totalCount !== tasks) throw new Error(`the server has ${succeeded.totalCount} tasks SUCCEEDED, not ${tasks}`);
    await Promise.all(workers.map((w) => w.p.exited));
    return { ...m, transport, runner: Boolean(o.runnerConcurrency), workerMs: results.map((r) => r.ms), windowUs: [fromUs, toUs] };
  } finally {
    for (const w of workers) if (w.p.proc.exitCode === null) w.p.proc.kill('SIGKILL');
    const stopped = await server.stop();
    if (stopped.code !== 0) throw new Error(`server exited with ${stopped.code ?? stopped.signal} after SIGINT:\n${server.output().slice(-2000)}`);
    removeDb(path);
  }
}

/** Steady `rate` enqueues over HTTP; latency from each send to its taskEvents event. */
export async function subscriberLatency(
  server: Server,
  events: number,
  rate: number,
): Promise<{ p50: number; p99: number; max: number; rtt50: number; missing: number; achievedRate: number; otherCores: number; serverCpuUs: number; clientCpuUs: number }> {
  const producer = httpClient(server.url, 4);
  const sub = await wsClient(server.url);
  const sent = new Float64Array(events).fill(NaN);
  const latency: number[] = [];
  const rtt: number[] = [];
  let probeSeen!: () => void;
  const probe = new Promise<void>((r) => (probeSeen = r));
  let lastArrival!: () => void;
  const allArrived = new Promise<void>((r) => (lastArrival = r));
  let errors = 0;
  const stop = sub.subscribe<{ taskEvents: { kind: string; task: { payload: { seq?: number; probe?: boolean } } } }>(
    TASK_EVENTS,
    { filter: { queue: 'subscriber' } },
    (d) => {
      const now = performance.now();
      const p = d.taskEvents.task.payload;
      if (p.probe) return probeSeen();
      if (d.taskEvents.kind !== 'ENQUEUED' || p.seq === undefined) return;
      latency.push(now - sent[p.seq]!);
      if (latency.length === events) lastArrival();
    },
    () => errors++,
  );
  // The subscription is live once an event arrives through it.
  for (let i = 0; ; i++) {
    await producer.request(ENQUEUE, { input: { type: 'bench', queue: 'subscriber', payload: { probe: true } } });
    const ok = await Promise.race([probe.then(() => true), sleep(200).then(() => false)]);
    if (ok) break;
    if (i > 50) throw new Error('taskEvents subscription delivered nothing');
  }
  const interval = 1000 / rate;
  const a = snap(server.pid);
  const t0 = performance.now();
  let i = 0;
  const inFlight: Promise<void>[] = [];
  while (i < events) {
    const now = performance.now();
    while (i < events && t0 + i * interval <= now) {
      const seq = i++;
      const s = performance.now();
      sent[seq] = s;
      inFlight.push(
        producer.request(ENQUEUE, { input: { type: 'bench', queue: 'subscriber', payload: { seq } } }).then(() => {
          rtt.push(performance.now() - s);
        }),
      );
    }
    const nextDue = t0 + i * interval - performance.now();
    await sleep(Math.max(0, nextDue - 0.5));
  }
  const sendMs = performance.now() - t0;
  await Promise.all(inFlight);
  await Promise.race([allArrived, sleep(5_000)]);
  const m = since(a, snap(server.pid), events);
  stop();
  await sub.close();
  await producer.close();
  if (errors) throw new Error(`taskEvents subscription reported ${errors} errors`);
  return {
    p50: percentile(latency, 50),
    p99: percentile(latency, 99),
    max: Math.max(...latency),
    rtt50: percentile(rtt, 50),
    missing: events - latency.length,
    achievedRate: (events / sendMs) * 1000,
    otherCores: m.otherCores,
    serverCpuUs: m.serverCpuUs,
    clientCpuUs: m.selfCpuUs,
  };
}

/**
 * An idle worker long-polls (claimTasks waitSeconds); one enqueue; time until its claim
 * answers. The enqueue goes to `producerUrl` (another instance, for the cross-instance wake).
 */
export async function pickupLatency(
  server: Server,
  worker: GqlClient,
  samples: number,
  queue: string,
  producerUrl = server.url,
): Promise<{ p50: number; p99: number; max: number }> {
  const producer = httpClient(producerUrl, 1);
  const lat: number[] = [];
  const claimVars = { input: { workerId: `pickup-${queue}`, queue, limit: 1, waitSeconds: 10, leaseSeconds: 600 } };
  // Warm-up: the same sequence, untimed.
  for (let s = -20; s < samples; s++) {
    const claim = worker.request<{ claimTasks: ClaimedShape[] }>(CLAIM, claimVars);
    await sleep(25); // the claim has reached the server, found nothing and parked
    const t = performance.now();
    checkEnqueued(await producer.request<Enqueued>(ENQUEUE, enqueueVars(s, queue)));
    const { claimTasks } = await claim;
    const ms = performance.now() - t;
    if (claimTasks.length !== 1) throw new Error(`the long-poll returned ${claimTasks.length} tasks`);
    if (s >= 0) lat.push(ms);
  }
  await producer.close();
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat) };
}

// ---------------------------------------------------------------- the run

export async function runGraphqlBench(opts: GraphqlBenchOptions): Promise<GraphqlReport> {
  const log = opts.log ?? (() => {});
  const z = graphqlSizesFor(opts.quick);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'taskwire-gqlbench-'));
  mkdirSync(dir, { recursive: true });
  const rows: Row[] = [];
  const notes: string[] = [];
  const profiles: GraphqlReport['profiles'] = [];
  const loadStart = loadavg();
  log(`graphql: load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} on ${NCPU} CPUs`);

  try {
    // ---- the pre-filled queue, shared by the drains and the in-process drain ceiling
    const source = join(dir, 'prefilled.db');
    log(`graphql: pre-filling ${z.drainTasks.toLocaleString('en-US')} queued tasks (+ ${z.warmTasks} for warm-up)`);
    await prefilled(source, z.drainTasks, z.warmTasks);

    // ---- ceiling: the engine in-process
    {
      log('graphql: in-process engine ceilings');
      const path = join(dir, 'engine.db');
      const store = new SqliteTaskStore({ path });
      for (let i = 0; i < 300; i++) await store.enqueue({ type: 'bench', payload: { n: i }, queue: 'warmup' });
      const single: Measured[] = [];
      const many: Measured[] = [];
      const per = Math.ceil(z.engineEnqueue / z.rounds);
      const perBatches = Math.ceil(z.engineBatches / z.rounds);
      let n = 0;
      for (let r = 0; r < z.rounds; r++) {
        single.push(
          await timed(per, {}, async () => {
            for (let k = 0; k < per; k++) await store.enqueue({ type: 'bench', payload: { n: n++ } });
          }),
        );
        many.push(
          await timed(perBatches * SHAPE.batchSize, {}, async () => {
            for (let k = 0; k < perBatches; k++) {
              const batch: EnqueueInput[] = [];
              for (let j = 0; j < SHAPE.batchSize; j++) batch.push({ type: 'bench', payload: { n: n++ } });
              await store.enqueueMany(batch);
            }
          }),
        );
      }
      await store.close();
      removeDb(path);
      rows.push({ key: 'engineEnqueue', section: 'ceiling', label: 'engine in-process: store.enqueue, 1 per call', unit: 'tasks/s', ...summarize(single, true) });
      rows.push({ key: 'engineEnqueueMany', section: 'ceiling', label: `engine in-process: store.enqueueMany, ${SHAPE.batchSize} per call`, unit: 'tasks/s', ...summarize(many, true) });

      const dpath = join(dir, 'engine-drain.db');
      copyFileSync(source, dpath);
      const ds = new SqliteTaskStore({ path: dpath });
      const drainQueue = async (queue: string) => {
        let done = 0;
        for (;;) {
          const claimed = await ds.claim({ workerId: 'engine', queue, limit: SHAPE.claimBatch, leaseSeconds: 600 });
          if (claimed.length === 0) return done;
          await ds.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } })));
          done += claimed.length;
        }
      };
      await drainQueue('warm');
      let drained = 0;
      const m = await timed(z.drainTasks, {}, async () => {
        drained = await drainQueue('default');
      });
      if (drained !== z.drainTasks) throw new Error(`engine drain: ${drained} of ${z.drainTasks}`);
      await ds.close();
      removeDb(dpath);
      rows.push({
        key: 'engineDrain',
        section: 'ceiling',
        label: `engine in-process: claim ${SHAPE.claimBatch} + completeMany, 1 loop`,
        unit: 'tasks/s',
        ...summarize([m], true),
      });
    }

    // ---- ceiling: bare graphql-yoga, a mutation that does nothing
    {
      const NOOP = `mutation BenchNoop($input: EnqueueTaskInput!) { noop(input: $input) }`;
      for (const mode of ['default', 'nolimit', 'envelop'] as const) {
        log(`graphql: bare yoga (${mode}) over HTTP`);
        const bare = await startBare(mode);
        const client = httpClient(bare.url, SHAPE.httpInFlight);
        const ws = mode === 'envelop' ? await wsClient(bare.url) : null;
        const op = (c: GqlClient) => (i: number) => c.request(NOOP, enqueueVars(i)).then(() => {});
        await closedLoop(1000, SHAPE.httpInFlight, op(client));
        if (ws) await closedLoop(1000, SHAPE.wsInFlight, op(ws));
        const h: Measured[] = [];
        const w: Measured[] = [];
        for (let r = 0; r < z.rounds; r++) {
          h.push(await timed(z.singlePerRound, { server: bare.pid }, () => closedLoop(z.singlePerRound, SHAPE.httpInFlight, op(client))));
          if (ws) w.push(await timed(z.singlePerRound, { server: bare.pid }, () => closedLoop(z.singlePerRound, SHAPE.wsInFlight, op(ws))));
        }
        await client.close();
        await ws?.close();
        await bare.stop();
        const what = {
          default: 'bare yoga, default options, yoga(req, res)',
          nolimit: 'bare yoga, maxRequestBodySize: false',
          envelop: 'bare yoga, envelop behind node:http (our fast path)',
        }[mode];
        rows.push({ key: `bare-${mode}`, section: 'ceiling', label: `${what}: noop over HTTP, ${SHAPE.httpInFlight} in flight`, unit: 'req/s', ...summarize(h) });
        if (ws) rows.push({ key: 'bare-ws', section: 'ceiling', label: `bare yoga + graphql-ws (docs recipe): noop, ${SHAPE.wsInFlight} in flight`, unit: 'req/s', ...summarize(w) });
      }
    }

    // ---- the server under test: enqueue, batch enqueue, subscriber and pickup latency
    {
      const path = join(dir, 'server.db');
      log('graphql: starting the server (fresh database)');
      const server = await startTaskwire(path);
      const client = httpClient(server.url, SHAPE.httpInFlight);
      const ws = await wsClient(server.url);
      let n = 0;
      log('graphql: warm-up');
      await singleEnqueue(client, 1000, SHAPE.httpInFlight, n);
      n += 1000;
      await singleEnqueue(ws, 1000, SHAPE.wsInFlight, n);
      n += 1000;
      await batchEnqueue(client, 20, SHAPE.batchInFlight, n);
      n += 20 * SHAPE.batchSize;
      await batchEnqueue(ws, 20, SHAPE.batchInFlight, n);
      n += 20 * SHAPE.batchSize;

      log(`graphql: single enqueueTask, ${z.rounds} alternating rounds of ${z.singlePerRound} over HTTP and over WebSocket`);
      const h: Measured[] = [];
      const w: Measured[] = [];
      for (let r = 0; r < z.rounds; r++) {
        const runH = async () => {
          h.push(await timed(z.singlePerRound, { server: server.pid }, () => singleEnqueue(client, z.singlePerRound, SHAPE.httpInFlight, n)));
          n += z.singlePerRound;
        };
        const runW = async () => {
          w.push(await timed(z.singlePerRound, { server: server.pid }, () => singleEnqueue(ws, z.singlePerRound, SHAPE.wsInFlight, n)));
          n += z.singlePerRound;
        };
        if (r % 2 === 0) {
          await runH();
          await runW();
        } else {
          await runW();
          await runH();
        }
      }
      const http1 = summarize(h);
      const ws1 = summarize(w);
      rows.push({
        key: 'enqueueHttp',
        section: 'server',
        label: `enqueueTask over HTTP (keep-alive, ${SHAPE.httpInFlight} in flight)`,
        unit: 'req/s',
        ...http1,
        target: '>= 5,000',
        met: http1.value >= 5000,
      });
      rows.push({
        key: 'enqueueWs',
        section: 'server',
        label: `enqueueTask over WebSocket (1 connection, ${SHAPE.wsInFlight} in flight)`,
        unit: 'req/s',
        ...ws1,
        target: `> HTTP (${fmt(http1.value)})`,
        met: ws1.value > http1.value,
      });

      log(`graphql: enqueueTasks x${SHAPE.batchSize}, ${z.rounds} rounds of ${z.batchRequestsPerRound} requests, ${SHAPE.batchInFlight} in flight`);
      const bh: Measured[] = [];
      const bw: Measured[] = [];
      const tasksPerRound = z.batchRequestsPerRound * SHAPE.batchSize;
      for (let r = 0; r < z.rounds; r++) {
        bh.push(await timed(tasksPerRound, { server: server.pid }, () => batchEnqueue(client, z.batchRequestsPerRound, SHAPE.batchInFlight, n)));
        n += tasksPerRound;
        bw.push(await timed(tasksPerRound, { server: server.pid }, () => batchEnqueue(ws, z.batchRequestsPerRound, SHAPE.batchInFlight, n)));
        n += tasksPerRound;
      }
      const bh1 = summarize(bh);
      const bw1 = summarize(bw);
      rows.push({
        key: 'batchHttp',
        section: 'server',
        label: `enqueueTasks x${SHAPE.batchSize} over HTTP (${SHAPE.batchInFlight} in flight)`,
        unit: 'tasks/s',
        ...bh1,
        target: '>= 50,000',
        met: bh1.value >= 50_000,
      });
      rows.push({
        key: 'batchWs',
        section: 'server',
        label: `enqueueTasks x${SHAPE.batchSize} over WebSocket (${SHAPE.batchInFlight} in flight)`,
        unit: 'tasks/s',
        ...bw1,
        target: '>= 50,000',
        met: bw1.value >= 50_000,
      });

      log(`graphql: enqueue-to-subscriber latency, ${z.subscriberEvents} events at ${SHAPE.subscriberRate}/s`);
      const sl = await subscriberLatency(server, z.subscriberEvents, SHAPE.subscriberRate);
      const slNote = `${z.subscriberEvents} events at ${sl.achievedRate.toFixed(0)}/s; max ${sl.max.toFixed(1)} ms; the enqueue request's own round trip p50 ${sl.rtt50.toFixed(2)} ms${sl.missing ? `; ${sl.missing} EVENTS MISSING` : ''}`;
      rows.push({ key: 'subP50', section: 'server', label: `enqueue -> taskEvents subscriber, p50 (${SHAPE.subscriberRate} tasks/s)`, unit: 'ms', value: sl.p50, target: '< 2', met: sl.p50 < 2 && sl.missing === 0, otherCores: sl.otherCores, serverCpuUs: sl.serverCpuUs, clientCpuUs: sl.clientCpuUs, note: slNote });
      rows.push({ key: 'subP99', section: 'server', label: `enqueue -> taskEvents subscriber, p99 (${SHAPE.subscriberRate} tasks/s)`, unit: 'ms', value: sl.p99, target: '< 10', met: sl.p99 < 10 && sl.missing === 0, otherCores: sl.otherCores, serverCpuUs: sl.serverCpuUs, clientCpuUs: sl.clientCpuUs });

      log(`graphql: idle long-poll pickup, ${z.pickupSamples} samples over WebSocket and over HTTP`);
      for (const transport of ['ws', 'http'] as const) {
        const worker = transport === 'ws' ? await wsClient(server.url) : httpClient(server.url, 1);
        const pl = await pickupLatency(server, worker, z.pickupSamples, `pickup-${transport}`);
        await worker.close();
        const name = transport === 'ws' ? 'WebSocket' : 'HTTP';
        rows.push({
          key: `pickup-${transport}`,
          section: 'server',
          label: `idle long-poll worker pickup over ${name}, p50`,
          unit: 'ms',
          value: pl.p50,
          target: '< 5',
          met: pl.p50 < 5,
          note: `p99 ${pl.p99.toFixed(2)} ms, max ${pl.max.toFixed(1)} ms over ${z.pickupSamples} samples (enqueue sent over HTTP -> claim response received)`,
        });
      }
      await client.close();
      await ws.close();
      const stopped = await server.stop();
      notes.push(`server stopped by SIGINT: exit ${stopped.code ?? stopped.signal} after ${stopped.ms.toFixed(0)} ms`);
      removeDb(path);
    }

    // ---- end-to-end drain
    {
      const results: DrainResult[] = [];
      const kinds = ['http', 'ws', 'runner'] as const;
      for (let r = 0; r < z.drainRounds; r++) {
        for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
          const how = kind === 'runner' ? `the worker runner (concurrency ${SHAPE.runnerConcurrency})` : `a hand loop over ${kind}`;
          log(`graphql: drain ${z.drainTasks.toLocaleString('en-US')} tasks, ${SHAPE.workers} worker processes, ${how} (round ${r + 1})`);
          const transport = kind === 'runner' ? 'ws' : kind;
          results.push(await drain(transport, source, dir, z.drainTasks, kind === 'runner' ? { runnerConcurrency: SHAPE.runnerConcurrency } : {}));
        }
      }
      {
        const runner = summarize(results.filter((x) => x.runner));
        const loop = summarize(results.filter((x) => !x.runner && x.transport === 'ws'));
        rows.push({
          key: 'drain-runner',
          section: 'server',
          label: `drain: ${SHAPE.workers} worker processes, the worker runner (createWorker, concurrency ${SHAPE.runnerConcurrency}, no-op handler)`,
          unit: 'tasks/s',
          ...runner,
          target: '>= 0.9x the hand loop over WS',
          met: runner.value >= 0.9 * loop.value,
          note: `${(runner.value / loop.value).toFixed(2)}x the hand loop over WebSocket in this run; every task completed once (the runners' counts and the server's agree)`,
        });
      }
      for (const transport of ['http', 'ws'] as const) {
        const ms = results.filter((x) => x.transport === transport && !x.runner);
        const s = summarize(ms);
        rows.push({
          key: `drain-${transport}`,
          section: 'server',
          label: `drain: ${SHAPE.workers} worker processes over ${transport === 'ws' ? 'WebSocket' : 'HTTP'}, claim ${SHAPE.claimBatch} + completeTasks`,
          unit: 'tasks/s',
          ...s,
          target: transport === 'ws' ? '>= 15,000' : '(>= 15,000 is for WS)',
          met: transport === 'ws' ? s.value >= 15_000 : undefined,
          note: `${z.drainTasks.toLocaleString('en-US')} tasks per run, ${ms.length} run(s); client CPU = the worker processes`,
        });
      }
    }

    // ---- profiles
    if (opts.profileDir) await runProfiles(opts.profileDir, dir, source, z, log, profiles, notes);
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }

  return {
    mode: opts.quick ? 'quick' : 'full',
    node: process.version,
    cpus: NCPU,
    loadStart,
    loadEnd: loadavg(),
    sizes: z,
    shape: SHAPE,
    rows,
    notes,
    profiles,
  };
}

async function runProfiles(
  profileRoot: string,
  dir: string,
  source: string,
  z: Sizes,
  log: (line: string) => void,
  profiles: GraphqlReport['profiles'],
  notes: string[],
): Promise<void> {
  mkdirSync(profileRoot, { recursive: true });
  // Single enqueue over HTTP (and over WebSocket, for comparison).
  for (const transport of ['http', 'ws'] as const) {
    const pdir = join(profileRoot, `enqueue-${transport}`);
    rmSync(pdir, { recursive: true, force: true });
    mkdirSync(pdir, { recursive: true });
    const path = join(dir, `profile-${transport}.db`);
    log(`graphql: profiling the server: ${z.profileRequests} enqueueTask over ${transport}`);
    const server = await startTaskwire(path, pdir);
    const client = transport === 'ws' ? await wsClient(server.url) : httpClient(server.url, SHAPE.httpInFlight);
    const inFlight = transport === 'ws' ? SHAPE.wsInFlight : SHAPE.httpInFlight;
    await singleEnqueue(client, 2000, inFlight, 0);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const m = await timed(z.profileRequests, { server: server.pid }, () => singleEnqueue(client, z.profileRequests, inFlight, 2000));
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await client.close();
    const stopped = await server.stop();
    removeDb(path);
    let file: string;
    try {
      file = findProfile(pdir);
    } catch {
      notes.push(`profile enqueue-${transport}: NO .cpuprofile written (server exit ${stopped.code ?? stopped.signal})`);
      continue;
    }
    notes.push(`profiled server (enqueue over ${transport}): ${m.rate.toFixed(0)} req/s under the profiler; SIGINT exit ${stopped.code ?? stopped.signal} after ${stopped.ms.toFixed(0)} ms, profile written`);
    profiles.push({ title: `server profile: enqueueTask over ${transport === 'ws' ? 'WebSocket' : 'HTTP'}`, summary: summarizeProfile(file, { fromUs, toUs }), ops: z.profileRequests, unit: 'request' });
  }
  for (const transport of ['ws', 'http'] as const) {
    const pdir = join(profileRoot, `drain-${transport}`);
    rmSync(pdir, { recursive: true, force: true });
    mkdirSync(pdir, { recursive: true });
    log(`graphql: profiling the server: drain over ${transport}`);
    const r = await drain(transport, source, dir, z.drainTasks, { profileDir: pdir });
    const file = findProfile(pdir);
    notes.push(`profiled server (drain over ${transport}): ${r.rate.toFixed(0)} tasks/s under the profiler, profile written`);
    profiles.push({
      title: `server profile: drain over ${transport === 'ws' ? 'WebSocket' : 'HTTP'} (${SHAPE.workers} workers, claim ${SHAPE.claimBatch} + completeTasks)`,
      summary: summarizeProfile(file, { fromUs: r.windowUs[0], toUs: r.windowUs[1] }),
      ops: z.drainTasks,
      unit: 'task',
    });
  }
}

// ---------------------------------------------------------------- output

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtValue = (n: number, unit: string) => (unit === 'ms' ? n.toFixed(2) : fmt(n));

export function formatGraphqlReport(r: GraphqlReport): string {
  const out: string[] = [];
  out.push(`Taskwire GraphQL benchmark (${r.mode}) - node ${r.node}, ${r.cpus} CPUs`);
  out.push(
    `load average (1/5/15 min): ${r.loadStart.map((l) => l.toFixed(2)).join(' / ')} at the start, ${r.loadEnd.map((l) => l.toFixed(2)).join(' / ')} at the end`,
  );
  out.push('server under test: `node --import tsx src/cli.ts serve` in its own process (fresh temp database, LOG_LEVEL=warn);');
  out.push(`load generator in this process (node:http keep-alive agent, graphql-ws + ws); drain workers: ${r.shape.workers} processes.`);
  out.push('throughput: median over rounds (min..max alongside). CPU us/op: server process (in-process ceilings: this process)');
  out.push('and load generator (this process, or the worker processes for the drains), from /proc; "other" = busy cores of');
  out.push('other programs during the measurement (the machine is shared: figures with other > 0 ran on less than 2 free cores).');
  out.push('');
  const head = ['measurement', 'unit', 'result', 'min..max', 'target', '', 'srv CPU us/op', 'client us/op', 'other'];
  const line = (cells: string[], widths: number[]) =>
    cells.map((c, i) => ([0, 1, 4, 5].includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  for (const section of ['server', 'ceiling'] as const) {
    const rows = r.rows.filter((x) => x.section === section);
    const body = rows.map((x) => [
      x.label,
      x.unit,
      fmtValue(x.value, x.unit),
      x.min !== undefined && x.max !== undefined && x.min !== x.max ? `${fmtValue(x.min, x.unit)}..${fmtValue(x.max, x.unit)}` : '',
      x.target ?? '',
      x.met === undefined ? '' : x.met ? 'MET' : 'MISSED',
      x.serverCpuUs === undefined || Number.isNaN(x.serverCpuUs) ? '' : x.serverCpuUs.toFixed(0),
      x.clientCpuUs === undefined || Number.isNaN(x.clientCpuUs) ? '' : x.clientCpuUs.toFixed(0),
      x.otherCores === undefined ? '' : x.otherCores.toFixed(2),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    out.push(section === 'server' ? 'the server under test (targets from issue 3):' : 'ceilings, same run:');
    out.push(line(head, widths));
    out.push(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const b of body) out.push(line(b, widths));
    out.push('');
  }
  const get = (k: string) => r.rows.find((x) => x.key === k);
  const ratio = (a?: Row, b?: Row) => (a && b ? `${((a.value / b.value) * 100).toFixed(0)}%` : '-');
  out.push(`enqueueTask over HTTP is ${ratio(get('enqueueHttp'), get('bare-envelop'))} of the bare envelop-behind-node:http noop and ${ratio(get('enqueueHttp'), get('bare-default'))} of bare yoga with defaults;`);
  out.push(`enqueueTask over WebSocket is ${ratio(get('enqueueWs'), get('bare-ws'))} of the bare graphql-ws noop; drain over WebSocket is ${ratio(get('drain-ws'), get('engineDrain'))} of the in-process engine loop,`);
  out.push(`enqueueTasks over HTTP ${ratio(get('batchHttp'), get('engineEnqueueMany'))} of engine enqueueMany.`);
  for (const x of r.rows.filter((y) => y.note)) out.push(`note (${x.key}): ${x.note}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  for (const p of r.profiles) {
    out.push('');
    out.push(formatProfile(p.summary, `==== ${p.title}`, { ops: p.ops, unit: p.unit }));
  }
  return out.join('\n');
}

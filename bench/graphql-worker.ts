/**
 * A drain worker for bench/graphql.ts, run as its own process:
 *   node --import tsx bench/graphql-worker.ts '<json config>'
 *
 * Connects over the given transport, warms the server up by draining `warmQueue`, prints
 * `ready`, waits for a line on stdin, then drains `queue` in one of two ways:
 * - `loop` (a hand loop): claims batches and acknowledges each with one `completeTasks`
 *   until a claim comes back empty, then prints `done <json>` and exits.
 * - `runner`: Taskwire's own worker runner (`createWorker`, `concurrency`, a no-op
 *   handler) over WebSocket. It cannot know when the queue is empty, so it prints
 *   `n <count>` (its completions so far) every 10 ms while the count moves; the parent
 *   sums them, and sends a second line to stop it. It then prints `done <json>`, with
 *   `ms` up to its last completion.
 * `done` carries the count, the wall time and the process's CPU.
 */
import { createWorker } from '../src/worker/index.js';
import { CLAIM, COMPLETE_MANY, httpClient, wsClient, type ClaimedShape, type GqlClient } from './clients.js';

interface Config {
  url: string;
  transport: 'http' | 'ws';
  mode?: 'loop' | 'runner';
  /** The runner's concurrency and prefetch. */
  concurrency?: number;
  prefetch?: number;
  workerId: string;
  batch: number;
  queue: string;
  warmQueue: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const nextLine = () => new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

async function drain(client: GqlClient, queue: string): Promise<number> {
  let done = 0;
  for (;;) {
    const { claimTasks } = await client.request<{ claimTasks: ClaimedShape[] }>(CLAIM, {
      input: { workerId: cfg.workerId, queue, limit: cfg.batch, leaseSeconds: 600 },
    });
    if (claimTasks.length === 0) return done;
    const { completeTasks } = await client.request<{ completeTasks: { id: string; status: string }[] }>(COMPLETE_MANY, {
      inputs: claimTasks.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { ok: true } })),
    });
    if (completeTasks.length !== claimTasks.length || completeTasks.some((t) => t.status !== 'SUCCEEDED')) {
      throw new Error('completeTasks did not complete the batch');
    }
    done += claimTasks.length;
  }
}

/** The runner until told to stop; returns its completions and the time to the last one. */
async function runner(): Promise<{ tasks: number; ms: number }> {
  let tasks = 0;
  let lastAt = 0;
  const failures: string[] = [];
  const worker = createWorker({
    url: cfg.url,
    workerId: cfg.workerId,
    queue: cfg.queue,
    concurrency: cfg.concurrency ?? cfg.batch,
    prefetch: cfg.prefetch ?? 0,
    leaseSeconds: 600,
    waitSeconds: 1,
    logger: {},
    handler: () => ({ ok: true }),
  });
  worker.on('completed', () => {
    tasks++;
    lastAt = performance.now();
  });
  worker.on('failed', (task, e) => failures.push(`${task.id}: ${e.message}`));
  const t0 = performance.now();
  let said = -1;
  const ticker = setInterval(() => {
    if (tasks === said) return;
    said = tasks;
    process.stdout.write(`n ${tasks}\n`);
  }, 10);
  await worker.start();
  await nextLine();
  clearInterval(ticker);
  await worker.stop({ timeoutMs: 5000 });
  if (failures.length > 0) throw new Error(`the runner failed ${failures.length} task(s), e.g. ${failures[0]}`);
  return { tasks, ms: lastAt - t0 };
}

const client = cfg.transport === 'ws' ? await wsClient(cfg.url) : httpClient(cfg.url, 1);
const warmed = await drain(client, cfg.warmQueue);
process.stdout.write(`ready ${warmed}\n`);
await nextLine();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let result: { tasks: number; ms: number };
if (cfg.mode === 'runner') {
  await client.close();
  result = await runner();
} else {
  result = { tasks: await drain(client, cfg.queue), ms: performance.now() - t0 };
  await client.close();
}
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`done ${JSON.stringify({ ...result, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
process.exit(0);

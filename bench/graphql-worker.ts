/**
 * A drain worker for bench/graphql.ts, run as its own process:
 *   node --import tsx bench/graphql-worker.ts '<json config>'
 *
 * Connects over the given transport, warms the server up by draining `warmQueue`, prints
 * `ready`, waits for a line on stdin, then claims batches from `queue` and acknowledges
 * each batch with one `completeTasks` until a claim comes back empty, and prints
 * `done <json>` with the count, its own wall time and CPU.
 */
import { CLAIM, COMPLETE_MANY, httpClient, wsClient, type ClaimedShape, type GqlClient } from './clients.js';

interface Config {
  url: string;
  transport: 'http' | 'ws';
  workerId: string;
  batch: number;
  queue: string;
  warmQueue: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;

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

const client = cfg.transport === 'ws' ? await wsClient(cfg.url) : httpClient(cfg.url, 1);
const warmed = await drain(client, cfg.warmQueue);
process.stdout.write(`ready ${warmed}\n`);
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const tasks = await drain(client, cfg.queue);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`done ${JSON.stringify({ tasks, ms, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
await client.close();
process.exit(0);

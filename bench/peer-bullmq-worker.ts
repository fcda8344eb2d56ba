/**
 * A BullMQ worker process for bench/peers.ts, run as its own process:
 *   node --import tsx bench/peer-bullmq-worker.ts '<json config>'
 *
 * Before `ready`: a BullMQ Worker (same concurrency, no-op processor) drains this process's
 * own warm-up queue (`warm` jobs, filled by the parent) and is closed; then the measured
 * Worker is created on the measured queue with autorun off and waits until both its Redis
 * connections are up. On the first line on stdin it starts (`worker.run()`); its processor
 * does nothing but note the job's payload number. On the second line it closes the Worker
 * (after the parent has seen every job completed in Redis) and prints `done <json>`: how
 * many jobs it ran, which ones (a bitmap, base64, for the parent's exactly-once check),
 * and its CPU from "go" to "stop".
 *
 * A payload number seen twice in this process throws in the processor, so the job fails
 * and the parent's check of the failed count catches it; a job run by both processes
 * shows in the bitmaps.
 */
import { createInterface } from 'node:readline';
import type { ConnectionOptions, Job, Worker as BullWorker } from 'bullmq';

export interface BullWorkerConfig {
  /** ioredis connection options (host, port, ...). */
  connection: Record<string, unknown>;
  queue: string;
  warmQueue: string;
  /** Jobs in warmQueue, all for this process. */
  warm: number;
  /** Jobs in the measured queue (shared with the other worker processes). */
  total: number;
  concurrency: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as BullWorkerConfig;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async () => {
  const r = await lines.next();
  if (r.done) throw new Error('stdin closed');
};

try {
  const { Worker } = await import('bullmq');
  const connection = cfg.connection as ConnectionOptions;
  const onError = (e: Error) => process.stderr.write(`bullmq worker: ${e.message}\n`);

  // Warm-up: same settings, own queue, closed once all `warm` jobs are done.
  let warmed = 0;
  let warmDone!: () => void;
  const allWarm = new Promise<void>((r) => (warmDone = r));
  if (cfg.warm === 0) warmDone();
  const warm = new Worker(cfg.warmQueue, async () => {}, { connection, concurrency: cfg.concurrency });
  warm.on('error', onError);
  warm.on('completed', () => {
    if (++warmed === cfg.warm) warmDone();
  });
  await allWarm;
  await warm.close();

  const seen = new Uint8Array(cfg.total);
  let count = 0;
  const worker: BullWorker = new Worker(
    cfg.queue,
    async (job: Job<{ n: number }>) => {
      const n = job.data.n;
      if (!Number.isInteger(n) || n < 0 || n >= cfg.total) throw new Error(`unexpected payload ${String(n)}`);
      if (seen[n]) throw new Error(`job ${n} ran twice in this process`);
      seen[n] = 1;
      count++;
    },
    { connection, concurrency: cfg.concurrency, autorun: false },
  );
  worker.on('error', onError);
  worker.on('failed', (job, e) => process.stderr.write(`bullmq worker: job ${job?.id ?? '?'} failed: ${e.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write(`ready ${warmed}\n`);

  await nextLine();
  const cpu0 = process.cpuUsage();
  const running = worker.run().catch((e: Error) => onError(e));
  await nextLine();
  const cpu = process.cpuUsage(cpu0);
  await worker.close();
  await running;
  const bits = Buffer.from(seen.buffer, seen.byteOffset, seen.byteLength).toString('base64');
  process.stdout.write(`done ${JSON.stringify({ count, cpuMs: (cpu.user + cpu.system) / 1000, bits })}\n`);
  process.exit(0);
} catch (e) {
  process.stderr.write(`bullmq worker: ${(e as Error).message}\n${(e as Error).stack ?? ''}\n`);
  process.exit(1);
}

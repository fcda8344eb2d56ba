/**
 * Worker: runs the producer's tasks with fake work that reports progress and logs, one
 * runner per region (each its own worker id, lease and WebSocket connection).
 *
 *   npx tsx client-examples/worker.ts
 *
 * TASKWIRE_URL, TASKWIRE_TOKEN as for the producer (a worker token bound to a worker id
 * needs TASKWIRE_WORKER_ID set to that id); TASKWIRE_REGIONS (default "eu-west,us-east");
 * TASKWIRE_CONCURRENCY (default 2 per region); TASKWIRE_STEP_MS (default 300: how long
 * each step of fake work takes). Ctrl-C or SIGTERM stops it gracefully: no new claims,
 * tasks in flight get up to 10 seconds to finish.
 */
import { createWorker, NonRetryableError, type TaskContext, type WorkerTask } from 'taskwire/worker';
import { connectionHint, shortId, token, url } from './env.js';
import { graphql } from './gql/index.js';

const QueueStats = graphql(`
  query ExampleQueueStats($queue: String) {
    queueStats(queue: $queue) {
      counts {
        status
        count
      }
    }
  }
`);

interface MediaPayload {
  source?: string;
  format?: string;
  width?: number;
  resolution?: string;
  video?: string;
  channel?: string;
  flaky?: boolean;
}

const regions = (process.env.TASKWIRE_REGIONS || 'eu-west,us-east').split(',').map((r) => r.trim()).filter(Boolean);
const concurrency = Number(process.env.TASKWIRE_CONCURRENCY || 2);
const stepMs = Number(process.env.TASKWIRE_STEP_MS || 300);
const STEPS: Record<string, string[]> = {
  thumbnail: ['download', 'decode', 'resize', 'encode', 'upload'],
  transcode: ['download', 'probe', 'video pass 1', 'video pass 2', 'audio', 'mux', 'upload'],
  publish: ['render page', 'invalidate cache'],
};

/** Waits `ms`, or throws the signal's reason as soon as the task is cancelled or lost. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function handle(task: WorkerTask<MediaPayload>, ctx: TaskContext) {
  const steps = STEPS[task.type];
  if (!steps) throw new NonRetryableError(`no handler for task type "${task.type}"`);
  const p = task.payload;
  await ctx.log('info', `attempt ${ctx.attempt}: ${task.type} ${p.source ?? p.video ?? ''}`.trim(), { region: task.region, format: task.format });
  for (const [i, step] of steps.entries()) {
    await pause(stepMs, ctx.signal);
    if (p.flaky && ctx.attempt === 1 && i === 2) {
      // A transient error: the server schedules a retry (here after 1 second).
      throw Object.assign(new Error(`${step} failed: upstream storage timed out`), { retryAfterSeconds: 1 });
    }
    await ctx.progress((i + 1) / steps.length, step);
  }
  await ctx.log('info', 'done');
  switch (task.type) {
    case 'thumbnail':
      return { url: `${p.source}.${p.width}w.${p.format}`, bytes: 1000 + Math.round(Math.random() * 50_000) };
    case 'transcode':
      return { url: `${p.source}.${p.resolution}.${p.format}`, seconds: 93.5 };
    default:
      return { published: p.video, channel: p.channel };
  }
}

const workers = regions.map((region) => {
  const worker = createWorker<MediaPayload>({
    url,
    token,
    workerId: process.env.TASKWIRE_WORKER_ID || `example-${region}-${process.pid}`,
    queue: 'default',
    capabilities: { region, formats: ['png', 'webp', 'jpeg', 'mp4'] },
    concurrency,
    leaseSeconds: 15,
    strategy: 'PRIORITY',
    handler: handle,
  });
  const tag = `[${region}]`;
  worker.on('completed', (task, result) => console.log(`${tag} ${shortId(task.id)} ${task.type} SUCCEEDED ${JSON.stringify(result)}`));
  worker.on('failed', (task, error, info) =>
    console.log(`${tag} ${shortId(task.id)} ${task.type} attempt ${task.attempt} failed (${info.reason}): ${error.message} -> ${info.status ?? '?'}`),
  );
  worker.on('error', (error) => console.error(`${tag} ${connectionHint(error)}`));
  return { region, worker };
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping (tasks in flight get 10 s to finish)`);
  await Promise.all(workers.map(({ worker }) => worker.stop({ timeoutMs: 10_000 })));
  console.log('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

await Promise.all(workers.map(({ worker }) => worker.start()));
console.log(`workers ${workers.map((w) => `${w.worker.id} (${w.region})`).join(', ')} connected to ${url}`);
// Our own typed query, on the first runner's connection.
try {
  const stats = await workers[0]!.worker.connection!.request(QueueStats, { queue: 'default' });
  const counts = stats.queueStats.counts.filter((c) => c.count > 0);
  console.log(`queue "default" now: ${counts.map((c) => `${c.count} ${c.status}`).join(', ') || 'empty'}`);
} catch (e) {
  console.error(`could not read the queue stats: ${(e as Error).message}`);
}
console.log('ready');

/**
 * Producer: enqueues a few media tasks (regions, formats, priorities) and one that
 * depends on another.
 *
 *   npx tsx client-examples/producer.ts          # human-readable
 *   npx tsx client-examples/producer.ts --json   # {"correlationId": ..., "tasks": [...]}
 *
 * TASKWIRE_URL (default http://127.0.0.1:4000/graphql), TASKWIRE_TOKEN if the server wants one.
 */
import { connect } from 'taskwire/worker';
import { connectionHint, shortId, token, url } from './env.js';
import { graphql } from './gql/index.js';
import type { EnqueueTaskInput } from './gql/graphql.js';

const EnqueueTasks = graphql(`
  mutation ExampleEnqueueTasks($inputs: [EnqueueTaskInput!]!) {
    enqueueTasks(inputs: $inputs) {
      created
      task {
        id
        type
        status
        priority
        region
        format
      }
    }
  }
`);

const EnqueueTask = graphql(`
  mutation ExampleEnqueueTask($input: EnqueueTaskInput!) {
    enqueueTask(input: $input) {
      created
      task {
        id
        type
        status
        priority
        region
        format
        dependsOn {
          id
        }
      }
    }
  }
`);

const json = process.argv.includes('--json');
const correlationId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;

// Lower priority numbers run first. compatibility.region picks the workers that may run a
// task; payload.format is matched against a worker's formats.
const media: EnqueueTaskInput[] = [
  {
    type: 'transcode',
    priority: 10,
    payload: { source: 's3://demo/intro.mov', format: 'mp4', resolution: '1080p' },
    compatibility: { region: 'eu-west' },
  },
  {
    type: 'thumbnail',
    priority: 50,
    payload: { source: 's3://demo/cover.tiff', format: 'png', width: 320 },
    compatibility: { region: 'eu-west' },
  },
  {
    type: 'thumbnail',
    priority: 100,
    payload: { source: 's3://demo/cover.tiff', format: 'webp', width: 640 },
    compatibility: { region: 'us-east' },
  },
  {
    type: 'thumbnail',
    priority: 200,
    // Fails its first attempt on purpose (see worker.ts): watch the retry happen.
    payload: { source: 's3://demo/banner.psd', format: 'jpeg', width: 1200, flaky: true },
    compatibility: { region: 'us-east' },
    maxAttempts: 3,
  },
];

const conn = connect({ url, token, reconnect: { attempts: 2 } });
try {
  const data = await conn.request(EnqueueTasks, { inputs: media.map((m) => ({ ...m, correlationId })) });
  const tasks = data.enqueueTasks.map((e) => e.task);

  // Publishing waits for the transcode: it stays BLOCKED until that one SUCCEEDED.
  const transcode = tasks.find((t) => t.type === 'transcode')!;
  const publish = await conn.request(EnqueueTask, {
    input: {
      type: 'publish',
      priority: 5,
      payload: { video: transcode.id, channel: 'homepage' },
      compatibility: { region: 'eu-west' },
      dependsOn: [transcode.id],
      correlationId,
    },
  });
  const published = publish.enqueueTask.task;
  const all = [...tasks.map((t) => ({ ...t, dependsOn: [] as { id: string }[] })), published];

  if (json) {
    console.log(JSON.stringify({ correlationId, tasks: all }));
  } else {
    console.log(`Enqueued ${all.length} tasks (correlationId ${correlationId}):`);
    for (const t of all) {
      const deps = t.dependsOn.length ? `  after ${t.dependsOn.map((d) => shortId(d.id)).join(', ')}` : '';
      console.log(
        `  ${shortId(t.id).padStart(4)}  ${t.type.padEnd(9)}  ${t.status.padEnd(7)}  priority ${String(t.priority).padEnd(3)}  ` +
          `${(t.region ?? '-').padEnd(7)}  ${(t.format ?? '-').padEnd(4)}${deps}`,
      );
    }
    console.log(`\nWatch one:  npx tsx client-examples/watcher.ts ${transcode.id}`);
  }
} catch (e) {
  console.error(`producer: ${connectionHint(e)}`);
  process.exitCode = 1;
} finally {
  await conn.close();
}

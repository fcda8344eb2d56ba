/**
 * Watcher: follows one task live (status, progress bar, log lines) until it finishes.
 *
 *   npx tsx client-examples/watcher.ts <task id>
 *
 * The id is the one the producer printed (a global id, or the plain number). Exits 0 when
 * the task SUCCEEDED, 1 when it FAILED or was CANCELLED. TASKWIRE_URL, TASKWIRE_TOKEN as
 * for the producer.
 */
import { connect } from 'taskwire/worker';
import { connectionHint, shortId, token, url } from './env.js';
import { graphql } from './gql/index.js';

const WatchTask = graphql(`
  subscription ExampleWatchTask($id: ID!) {
    taskUpdated(id: $id) {
      id
      type
      status
      attempts
      maxAttempts
      progress
      progressMessage
      errorMessage
      result
    }
  }
`);

const WatchLogs = graphql(`
  subscription ExampleWatchLogs($taskId: ID!) {
    taskLogAdded(taskId: $taskId) {
      at
      level
      message
    }
  }
`);

const id = process.argv[2];
if (!id) {
  console.error('usage: npx tsx client-examples/watcher.ts <task id>');
  process.exit(2);
}

function bar(fraction: number | null, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction ?? 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const conn = connect({ url, token });

// Log lines arrive on their own subscription, on the same connection.
const stopLogs = conn.subscribe(WatchLogs, { taskId: id }, {
  next: (data) => {
    const log = data.taskLogAdded;
    console.log(`  ${log.at.slice(11, 23)} ${log.level.padEnd(5)} ${log.message}`);
  },
  error: () => {},
});

let exitCode = 1;
try {
  let last = '';
  for await (const data of conn.iterate(WatchTask, { id })) {
    const t = data.taskUpdated;
    const line =
      `task ${shortId(t.id)} ${t.type} ${t.status.padEnd(9)} ${bar(t.progress)}` +
      ` attempt ${t.attempts}/${t.maxAttempts}${t.progressMessage ? `  ${t.progressMessage}` : ''}` +
      (t.errorMessage ? `  (${t.errorMessage})` : '');
    if (line !== last) console.log(line);
    last = line;
    if (FINISHED.has(t.status)) {
      if (t.status === 'SUCCEEDED') console.log(`result: ${JSON.stringify(t.result)}`);
      exitCode = t.status === 'SUCCEEDED' ? 0 : 1;
      break; // ends the subscription
    }
  }
} catch (e) {
  console.error(`watcher: ${connectionHint(e)}`);
} finally {
  stopLogs();
  await conn.close();
}
process.exit(exitCode);

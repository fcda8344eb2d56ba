/**
 * The client examples as a user runs them: a real server (in-process, temporary
 * database, real port), then the producer, the worker and the watcher as child processes
 * (`node --conditions=taskwire-source --import tsx client-examples/...`) against it. Every task the producer enqueued
 * must end SUCCEEDED, and the worker must stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { cleanup, getTask, startServer, waitFor } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanup();
});

function run(script: string, args: string[], env: Record<string, string>): Child {
  // The examples import `taskwire/worker` as a user would; the condition points it at src/.
  const proc = spawn(process.execPath, ['--conditions=taskwire-source', '--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, out: () => out, exited };
}

async function finished(child: Child, timeoutMs: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not exit within ${timeoutMs}ms; output:\n${child.out()}`)), timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test('the producer, worker and watcher examples run every task to SUCCEEDED', { timeout: 90_000 }, async () => {
  const server = await startServer();
  const env = { TASKWIRE_URL: server.url, TASKWIRE_STEP_MS: '20', TASKWIRE_CONCURRENCY: '2' };

  const producer = run('client-examples/producer.ts', ['--json'], env);
  const produced = await finished(producer, 30_000, 'the producer');
  expect(produced.code, producer.out()).toBe(0);
  const { correlationId, tasks } = JSON.parse(producer.out().trim().split('\n').at(-1)!) as {
    correlationId: string;
    tasks: { id: string; type: string; status: string; region: string | null; format: string | null; priority: number }[];
  };
  expect(correlationId).toMatch(/^demo-/);
  expect(tasks.length).toBeGreaterThanOrEqual(4);
  expect(new Set(tasks.map((t) => t.region))).toEqual(new Set(['eu-west', 'us-east']));
  expect(new Set(tasks.map((t) => t.priority)).size).toBeGreaterThan(1);
  expect(tasks.some((t) => t.format)).toBe(true);
  expect(tasks.filter((t) => t.status === 'BLOCKED')).toHaveLength(1); // the one with a dependency

  // Watch the task that waits for another (it starts BLOCKED) until it finishes.
  const blocked = tasks.find((t) => t.status === 'BLOCKED')!;
  const watcher = run('client-examples/watcher.ts', [blocked.id], env);
  await waitFor(() => watcher.out().includes('BLOCKED'), () => `the watcher to show BLOCKED; output:\n${watcher.out()}`, 30_000);

  const worker = run('client-examples/worker.ts', [], env);
  await waitFor(
    async () => {
      const now = await Promise.all(tasks.map((t) => getTask(server, t.id)));
      return now.every((t) => t.status === 'SUCCEEDED');
    },
    () => `every task SUCCEEDED; worker output:\n${worker.out()}`,
    60_000,
  );
  const final = await Promise.all(tasks.map((t) => getTask(server, t.id)));
  for (const t of final) expect(t.result, `result of ${t.id}`).toBeTruthy();
  // The flaky one failed once and was retried.
  expect(final.some((t) => t.attempts === 2)).toBe(true);

  const watched = await finished(watcher, 30_000, 'the watcher');
  expect(watched.code, watcher.out()).toBe(0);
  expect(watcher.out()).toContain('SUCCEEDED');
  expect(watcher.out()).toMatch(/\[#+\] 100%/);

  await waitFor(() => worker.out().includes('ready'), () => `the worker to be ready; output:\n${worker.out()}`, 30_000);
  worker.proc.kill('SIGTERM');
  const stopped = await finished(worker, 30_000, 'the worker after SIGTERM');
  expect(stopped.code, worker.out()).toBe(0);
  expect(worker.out()).toContain('SIGTERM: stopping');
  expect(worker.out()).toMatch(/stopped\s*$/);
  for (const t of tasks) expect(worker.out()).toContain(`${t.type} SUCCEEDED`);
});

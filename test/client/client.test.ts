/**
 * taskwire/client against a real server (buildApp, real sockets; Node 20 has no global
 * WebSocket, so the `ws` class is passed in): enqueue, the three live views, errors, and
 * a server restart in the middle, with changes made while it was down (straight to the
 * SQLite file) that each view must show once the client is back.
 */
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createClient, type ClientLog, type ClientTask, type TaskwireClient } from '../../src/client/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { cleanup, startServer, waitFor, type Server } from '../worker/harness.js';

const clients: TaskwireClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await cleanup();
});

function client(server: Server, onState?: (s: string) => void): TaskwireClient {
  const c = createClient({ url: server.url, webSocketImpl: WebSocket, onState: onState && ((s) => onState(s)) });
  clients.push(c);
  return c;
}

const numberOf = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString().split(':')[1]);

describe('taskwire/client', () => {
  test('enqueue, then watchTask follows the task from QUEUED to SUCCEEDED with its progress', async () => {
    const server = await startServer();
    const tw = client(server);
    const { created, task } = await tw.enqueue({ type: 'thumb', payload: { url: 'a.png' }, idempotencyKey: 'k1' });
    expect(created).toBe(true);
    expect((await tw.enqueue({ type: 'thumb', payload: {}, idempotencyKey: 'k1' })).created).toBe(false);
    const seen: ClientTask[] = [];
    const watch = tw.watchTask(task.id, (t) => seen.push(t));
    await waitFor(() => seen.length === 1, 'the task now');
    expect(seen[0]).toMatchObject({ id: task.id, status: 'QUEUED', payload: { url: 'a.png' } });
    const [c] = await server.store.claim({ workerId: 'w' });
    await server.store.reportProgress({ taskId: c!.task.id, leaseToken: c!.leaseToken, progress: 0.5, message: 'half' });
    await server.store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken, result: { bytes: 3 } });
    await waitFor(() => seen.at(-1)?.status === 'SUCCEEDED', () => `SUCCEEDED (have ${seen.map((t) => t.status)})`);
    expect(seen.map((t) => [t.status, t.progress])).toEqual([
      ['QUEUED', null],
      ['RUNNING', null],
      ['RUNNING', 0.5],
      ['SUCCEEDED', 1],
    ]);
    expect(seen.at(-1)).toMatchObject({ result: { bytes: 3 }, progressMessage: 'half' });
    watch.close();
    expect(await tw.getTask(task.id)).toMatchObject({ status: 'SUCCEEDED' });
  });

  test('a refused input rejects with its code; the connection carries on', async () => {
    const server = await startServer();
    const tw = client(server);
    await expect(tw.enqueue({ type: '', payload: {} })).rejects.toMatchObject({ name: 'ApiError', code: 'VALIDATION' });
    await expect(tw.enqueue({ type: 'ok', payload: {}, maxAttempts: 0 })).rejects.toMatchObject({ code: 'VALIDATION' });
    expect((await tw.enqueue({ type: 'ok', payload: {} })).created).toBe(true);
  });

  test('watchTasks and watchLogs resume across a server restart: what changed while it was down arrives, once', async () => {
    const first = await startServer();
    const states: string[] = [];
    const tw = client(first, (s) => states.push(s));
    const a = (await tw.enqueue({ type: 'job', payload: { n: 1 } })).task;
    const views: { tasks: ClientTask[]; kind: string | null }[] = [];
    const watch = tw.watchTasks({ type: ['job'] }, (tasks, event) => views.push({ tasks, kind: event?.kind ?? null }));
    let lines: ClientLog[] = [];
    const logs = tw.watchLogs(a.id, (l) => (lines = l));
    await waitFor(() => views.length === 1, 'the snapshot');
    expect(views[0]!.tasks.map((t) => t.id)).toEqual([a.id]);
    await first.store.appendLog({ taskId: numberOf(a.id), level: 'INFO', message: 'one' });
    const b = (await tw.enqueue({ type: 'job', payload: { n: 2 } })).task;
    await waitFor(() => views.at(-1)!.tasks.length === 2 && lines.length === 1, 'b and the first log line');
    expect(views.at(-1)!.tasks.map((t) => t.id)).toEqual([b.id, a.id]); // newest first

    // Down: changes go straight to the file.
    await first.stop();
    const file = new SqliteTaskStore({ path: first.database, tailIntervalMs: 0 });
    const [claimed] = await file.claim({ workerId: 'offline' });
    await file.appendLog({ taskId: numberOf(a.id), level: 'WARN', message: 'two, while the server was down' });
    const { task: c } = await file.enqueue({ type: 'job', payload: { n: 3 } });
    await file.close();

    const second = await startServer({ database: first.database, port: first.port });
    await waitFor(() => views.at(-1)!.tasks.length === 3 && lines.length === 2, () => `the missed changes (views ${views.length}, lines ${lines.length})`, 20_000);
    expect(states).toContain('reconnecting');
    const latest = new Map(views.at(-1)!.tasks.map((t) => [numberOf(t.id), t]));
    expect(latest.get(claimed!.task.id)?.status).toBe('RUNNING');
    expect(latest.get(c.id)?.status).toBe('QUEUED');
    expect(lines.map((l) => l.message)).toEqual(['one', 'two, while the server was down']);
    // Every event came once: the kinds after the snapshot, in order.
    expect(views.slice(1).map((v) => v.kind)).toEqual(['ENQUEUED', 'CLAIMED', 'ENQUEUED']);

    // And live again on the new server.
    await second.store.appendLog({ taskId: numberOf(a.id), level: 'INFO', message: 'three' });
    await waitFor(() => lines.length === 3, 'a line after the restart');
    watch.close();
    logs.close();
  });

  test('watchTasks with a status filter drops a task that leaves the status', async () => {
    const server = await startServer();
    const tw = client(server);
    await tw.enqueue({ type: 'q', payload: {} });
    await tw.enqueue({ type: 'q', payload: {} });
    let current: ClientTask[] = [];
    tw.watchTasks({ status: ['QUEUED'] }, (tasks) => (current = tasks));
    await waitFor(() => current.length === 2, 'two queued');
    await server.store.claim({ workerId: 'w' });
    await waitFor(() => current.length === 1, 'one left queued');
    expect(current[0]!.status).toBe('QUEUED');
  });
});

/**
 * Fault 2: a worker process is SIGKILLed while it holds a task (and has been keeping
 * its lease alive with heartbeats). The task stays with it while the lease is valid,
 * comes back once the lease lapses, and another worker process finishes it; the dead
 * worker becomes STALE while the live one stays ACTIVE.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Child, makeTempDir } from '../concurrency/harness.js';
import { ENQUEUE } from './fixtures/gql.js';
import { ServerProcess, faultFixture, freePort, integrity, taskEvents, waitFor } from './server.js';

const LEASE_SECONDS = 2;
const STALE_SECONDS = 2;

describe('fault: a worker is SIGKILLed mid-task', () => {
  const tmp = makeTempDir('fault-worker-kill');
  const children: Child[] = [];
  let server: ServerProcess | null = null;
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.stop();
    tmp.remove();
  });

  it('hands its task to another worker after the lease expires, and marks the dead worker STALE', { timeout: 120_000 }, async () => {
    const dbPath = join(tmp.dir, 'worker-kill.db');
    server = new ServerProcess({
      dbPath,
      port: await freePort(),
      env: { TASKWIRE_SWEEP_INTERVAL_MS: '200', TASKWIRE_STALE_WORKER_SECONDS: String(STALE_SECONDS) },
    });
    await server.start();

    // Never finishes its task: it only heartbeats.
    const doomed = new Child(faultFixture('lease-worker.ts'), [server.url, 'doomed', String(LEASE_SECONDS), '-1']);
    children.push(doomed);
    await doomed.waitForLine((l) => l === 'READY');
    const { enqueueTask } = await server.ok(ENQUEUE, { input: { type: 'fault', payload: { n: 1 }, idempotencyKey: 'worker-kill' } });
    const claimedLine = await doomed.waitForLine((l) => l.startsWith('CLAIMED '));
    const [, idText, firstLease] = claimedLine.split(' ');
    const id = Number(idText);
    expect(id).toBe(Number(Buffer.from(enqueueTask.task.id, 'base64').toString().split(':')[1]));

    // Alive, it keeps the task past its first lease: heartbeats extend it.
    await waitFor(() => Date.now() > Number(firstLease) + 500, 'the first lease to pass', 10_000);
    const held = await server.ok(`query ($id: ID!) { task(id: $id) { status lockedBy { id status } } }`, { id: String(id) });
    expect(held.task).toMatchObject({ status: 'RUNNING', lockedBy: { status: 'ACTIVE' } });

    const rescuer = new Child(faultFixture('lease-worker.ts'), [server.url, 'rescuer', String(LEASE_SECONDS), '0']);
    children.push(rescuer);
    await rescuer.waitForLine((l) => l === 'READY');

    doomed.kill('SIGKILL');
    const exit = await doomed.exited;
    expect(exit.signal).toBe('SIGKILL');
    // The last lease the dead worker was granted (a heartbeat may have landed after its
    // last line, which only moves the real end later).
    const lastLease = Math.max(
      ...doomed.lines.filter((l) => l.startsWith(`HB ${id} `)).map((l) => Number(l.split(' ')[2])),
      Number(firstLease),
    );

    await rescuer.waitForLine((l) => l === `DONE ${id}`, 30_000);
    const done = await server.ok(`query ($id: ID!) { task(id: $id) { status attempts result lockedBy { id } } }`, { id: String(id) });
    expect(done.task).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { by: 'rescuer' } });
    expect(Buffer.from(done.task.lockedBy.id, 'base64').toString()).toBe('Worker:rescuer');
    const events = taskEvents(dbPath, id);
    expect(events.map((e) => `${e.kind}${e.worker_id ? `:${e.worker_id}` : ''}`)).toEqual([
      'ENQUEUED',
      'CLAIMED:doomed',
      'LEASE_EXPIRED',
      'CLAIMED:rescuer',
      'SUCCEEDED',
    ]);
    // It came back only after the lease had run out, not while the worker was merely busy.
    const expired = events.find((e) => e.kind === 'LEASE_EXPIRED')!;
    expect(expired.at).toBeGreaterThanOrEqual(lastLease);

    // The dead worker goes STALE (no heartbeat for STALE_SECONDS); the live one does not.
    const workerStatus = async (w: string) =>
      (await server!.ok<{ worker: { status: string } | null }>(`query ($id: ID!) { worker(id: $id) { status } }`, { id: w })).worker?.status;
    await waitFor(async () => (await workerStatus('doomed')) === 'STALE', 'the dead worker to become STALE', 20_000, 100);
    expect(await workerStatus('rescuer')).toBe('ACTIVE');
    const stale = await server.ok<{ workers: { id: string }[] }>('{ workers(status: [STALE]) { id } }');
    expect(stale.workers).toHaveLength(1);

    expect(rescuer.lines.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    rescuer.kill('SIGKILL');
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(integrity(dbPath)).toBe('ok');
  });
});

/**
 * Fault 3: a worker process is stalled (SIGSTOP) past its lease while it works on a
 * task. Another worker takes the task and completes it; when the stalled one resumes
 * (SIGCONT) its late completion is refused with LEASE_LOST, and the task keeps the one
 * completion it had.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Child, makeTempDir } from '../concurrency/harness.js';
import { ENQUEUE } from './fixtures/gql.js';
import { ServerProcess, faultFixture, freePort, integrity, taskEvents } from './server.js';

const LEASE_SECONDS = 2;
const WORK_MS = 1500; // shorter than the lease, and heartbeats extend the lease anyway

describe('fault: a worker stalls past its lease', () => {
  const tmp = makeTempDir('fault-worker-stall');
  const children: Child[] = [];
  let server: ServerProcess | null = null;
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    await server?.stop();
    tmp.remove();
  });

  it('refuses the late completion with LEASE_LOST; the task completes exactly once', { timeout: 120_000 }, async () => {
    const dbPath = join(tmp.dir, 'worker-stall.db');
    server = new ServerProcess({ dbPath, port: await freePort(), env: { TASKWIRE_SWEEP_INTERVAL_MS: '200' } });
    await server.start();
    const task = async (key: string) =>
      (await server!.ok(`query ($key: String!) { tasks(filter: { idempotencyKey: $key }) { edges { node { status attempts result } } } }`, { key }))
        .tasks.edges[0].node;

    const slow = new Child(faultFixture('lease-worker.ts'), [server.url, 'slow', String(LEASE_SECONDS), String(WORK_MS)]);
    children.push(slow);
    await slow.waitForLine((l) => l === 'READY');

    // Control: left alone, the same worker completes its task in time.
    await server.ok(ENQUEUE, { input: { type: 'fault', payload: { n: 1 }, idempotencyKey: 'in-time' } });
    const first = Number((await slow.waitForLine((l) => l.startsWith('CLAIMED '))).split(' ')[1]);
    await slow.waitForLine((l) => l === `DONE ${first}`);
    expect(await task('in-time')).toEqual({ status: 'SUCCEEDED', attempts: 1, result: { by: 'slow' } });

    // Now it freezes right after claiming: no heartbeats, no completion.
    await server.ok(ENQUEUE, { input: { type: 'fault', payload: { n: 2 }, idempotencyKey: 'stalled' } });
    const id = Number((await slow.waitForLine((l) => l.startsWith('CLAIMED ') && Number(l.split(' ')[1]) !== first)).split(' ')[1]);
    slow.kill('SIGSTOP');

    const other = new Child(faultFixture('lease-worker.ts'), [server.url, 'other', String(LEASE_SECONDS), '0']);
    children.push(other);
    await other.waitForLine((l) => l === `DONE ${id}`, 30_000);
    expect(await task('stalled')).toEqual({ status: 'SUCCEEDED', attempts: 2, result: { by: 'other' } });
    // Nothing from the frozen worker since the freeze took hold.
    expect(slow.lines.some((l) => l === `DONE ${id}` || l.startsWith(`LOST ${id}`))).toBe(false);

    slow.kill('SIGCONT');
    await slow.waitForLine((l) => l.startsWith(`LOST ${id} `), 30_000);
    expect(slow.lines.find((l) => l.startsWith(`LOST ${id} `))).toBe(`LOST ${id} LEASE_LOST`);

    // The late completion changed nothing: one SUCCEEDED, the other worker's result.
    expect(await task('stalled')).toEqual({ status: 'SUCCEEDED', attempts: 2, result: { by: 'other' } });
    expect(taskEvents(dbPath, id).map((e) => `${e.kind}${e.worker_id ? `:${e.worker_id}` : ''}`)).toEqual([
      'ENQUEUED',
      'CLAIMED:slow',
      'LEASE_EXPIRED',
      'CLAIMED:other',
      'SUCCEEDED',
    ]);
    // The stalled worker lives on (it reported the loss instead of crashing).
    expect([...slow.lines, ...other.lines].filter((l) => l.startsWith('ERROR'))).toEqual([]);
    expect(slow.proc.exitCode).toBeNull();

    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(integrity(dbPath)).toBe('ok');
  });
});

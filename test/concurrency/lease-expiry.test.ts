/**
 * A worker process claims with a lease and dies (SIGKILL). Once the lease has passed,
 * sweep() in this process requeues its task (LEASE_EXPIRED), another worker claims it,
 * and the dead worker's token is refused everywhere (LEASE_LOST), also from a new process.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, makeTempDir } from './harness.js';

describe('lease expiry across processes', () => {
  const tmp = makeTempDir('lease');
  const children: Child[] = [];
  const stores: SqliteTaskStore[] = [];
  afterAll(async () => {
    for (const c of children) c.kill();
    for (const s of stores) await s.close();
    tmp.remove();
  });

  it('requeues the dead worker’s task after its lease, and fences off its token', async () => {
    const dbPath = join(tmp.dir, 'lease.db');
    // The parent's clock runs `skew` ms ahead of the real one, so the test can step past
    // the lease without sleeping.
    let skew = 0;
    const store = new SqliteTaskStore({ path: dbPath, now: () => Date.now() + skew, tailIntervalMs: 0 });
    stores.push(store);
    const retryable = (await store.enqueue({ type: 'job', queue: 'lease', payload: { n: 1 }, priority: 1 })).task;
    const lastTry = (await store.enqueue({ type: 'job', queue: 'lease', payload: { n: 2 }, priority: 2, maxAttempts: 1 })).task;

    const holder = new Child('lease-client.ts', ['hold', dbPath, '30', '2']);
    children.push(holder);
    const line = await holder.waitForLine((l) => l.startsWith('CLAIMED ') || l.startsWith('ERROR'));
    expect(line.startsWith('CLAIMED ')).toBe(true);
    const claims = JSON.parse(line.slice('CLAIMED '.length)) as { id: number; token: string; leaseUntil: number }[];
    expect(claims.map((c) => c.id)).toEqual([retryable.id, lastTry.id]);
    holder.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    const old = claims[0]!;

    // Still within the lease: the sweep leaves both alone, and nobody else can claim them.
    skew = 0;
    expect((await store.sweep()).expired).toBe(0);
    expect((await store.getTask(old.id))!.status).toBe('RUNNING');
    expect(await store.claim({ workerId: 'heir', queue: 'lease' })).toEqual([]);

    // Just past the lease (the later of the two).
    skew = Math.max(...claims.map((c) => c.leaseUntil)) - Date.now() + 1_000;
    const swept = await store.sweep();
    expect(swept.expired).toBe(2);
    const requeued = (await store.getTask(old.id))!;
    expect(requeued.status).toBe('QUEUED');
    expect(requeued.leaseUntil).toBeNull();
    expect(requeued.attempts).toBe(1);
    expect(requeued.errorMessage).toMatch(/lease expired/);
    // The lease is gone from the row itself, not just hidden by the status.
    const leaseCols = store.db.prepare('SELECT lease_token, lease_until FROM tasks WHERE id = ?').get(old.id);
    expect(leaseCols).toEqual({ lease_token: null, lease_until: null });
    // While it waits in the queue, the old token is already refused.
    await expect(store.reportProgress({ taskId: old.id, leaseToken: old.token, progress: 0.1 })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    // Attempts exhausted: the lapse is final.
    const dead = (await store.getTask(lastTry.id))!;
    expect(dead.status).toBe('FAILED');
    expect(dead.finishedAt).not.toBeNull();
    // A second sweep finds nothing more.
    expect((await store.sweep()).expired).toBe(0);

    const [again] = await store.claim({ workerId: 'heir', queue: 'lease', limit: 5 });
    expect(again).toBeDefined();
    expect(again!.task.id).toBe(old.id);
    expect(again!.task.attempts).toBe(2);
    expect(again!.task.lockedBy).toBe('heir');
    expect(again!.leaseToken).not.toBe(old.token);

    // The dead worker's token, presented by a fresh process: refused, nothing changes.
    const ghost = new Child('lease-client.ts', ['use', dbPath, String(old.id), old.token]);
    children.push(ghost);
    const ghostExit = await ghost.exited;
    expect(ghostExit.code, ghost.stderr).toBe(0);
    expect(ghost.lines).toEqual([
      'progress ERROR LEASE_LOST',
      'complete ERROR LEASE_LOST',
      'fail ERROR LEASE_LOST',
      'heartbeat LOST true',
      'FINISHED',
    ]);
    const untouched = (await store.getTask(old.id))!;
    expect(untouched.status).toBe('RUNNING');
    expect(untouched.lockedBy).toBe('heir');
    expect(untouched.progress).toBeNull();
    expect(untouched.leaseUntil).toBe(again!.leaseUntil);

    // The heir finishes; the old token stays refused afterwards too.
    const done = await store.complete({ taskId: old.id, leaseToken: again!.leaseToken, result: { by: 'heir' } });
    expect(done.status).toBe('SUCCEEDED');
    await expect(store.complete({ taskId: old.id, leaseToken: old.token })).rejects.toMatchObject({ code: 'LEASE_LOST' });

    const kinds = (await store.eventsAfter(0, 1000)).filter((e) => e.taskId === old.id).map((e) => `${e.kind}:${e.workerId ?? ''}`);
    expect(kinds).toEqual(['ENQUEUED:', 'CLAIMED:doomed', 'LEASE_EXPIRED:', 'CLAIMED:heir', 'SUCCEEDED:']);
    const lastKinds = (await store.eventsAfter(0, 1000)).filter((e) => e.taskId === lastTry.id).map((e) => e.kind);
    expect(lastKinds).toEqual(['ENQUEUED', 'CLAIMED', 'LEASE_EXPIRED', 'FAILED']);
  }, 180_000);
});

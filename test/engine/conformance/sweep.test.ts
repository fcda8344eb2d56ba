/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * sweep(): lapsed leases, timeouts and stale workers.
 */
import { describe, expect, it } from 'vitest';
import { T0, enqueueAndClaim, expectError, makeStore } from '../../helpers/drivers.js';

describe('sweep: expired leases', () => {
  it('requeues a task whose lease expired, with a LEASE_EXPIRED event, and refuses the old token', async () => {
    const { store, clock, taskKinds, events } = await makeStore();
    const c = await enqueueAndClaim(store, { maxAttempts: 3 }, 'w1', 10);
    // Not yet: the lease runs until exactly leaseUntil.
    clock.t = c.leaseUntil;
    expect(await store.sweep()).toEqual({ expired: 0, timedOut: 0, staleWorkers: 0 });
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');

    clock.t = c.leaseUntil + 1;
    expect((await store.sweep()).expired).toBe(1);
    const t = (await store.getTask(c.task.id))!;
    expect(t).toMatchObject({ status: 'QUEUED', attempts: 1, leaseUntil: null, runAfter: c.leaseUntil + 1 });
    expect(t.errorMessage).toMatch(/lease expired/);
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'LEASE_EXPIRED']);
    expect(events.find((e) => e.kind === 'LEASE_EXPIRED')).toMatchObject({ taskId: c.task.id, status: 'QUEUED' });

    await expectError(store.complete({ taskId: c.task.id, leaseToken: c.leaseToken }), 'LEASE_LOST');
    const hb = await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: c.leaseToken }] });
    expect(hb.leases[0]!.lost).toBe(true);

    // Requeued for immediate pickup, by another worker.
    const [again] = await store.claim({ workerId: 'w2' });
    expect(again!.task).toMatchObject({ id: c.task.id, attempts: 2, lockedBy: 'w2' });
    await expectError(store.complete({ taskId: c.task.id, leaseToken: c.leaseToken }), 'LEASE_LOST');
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');
  });

  it('a heartbeat keeps the lease from expiring', async () => {
    const { store, clock } = await makeStore();
    const c = await enqueueAndClaim(store, {}, 'w1', 10);
    for (let i = 0; i < 5; i++) {
      clock.advance(8_000);
      await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: c.leaseToken }], extendSeconds: 10 });
      expect((await store.sweep()).expired).toBe(0);
    }
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');
    expect((await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken })).status).toBe('SUCCEEDED');
  });

  it('fails the task when the expired attempt was its last', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store, { maxAttempts: 1 }, 'w1', 10);
    clock.t = c.leaseUntil + 1;
    expect((await store.sweep()).expired).toBe(1);
    expect(await store.getTask(c.task.id)).toMatchObject({ status: 'FAILED', finishedAt: c.leaseUntil + 1 });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'LEASE_EXPIRED', 'FAILED']);
  });

  it('leaves other leases alone', async () => {
    const { store, clock } = await makeStore();
    await store.enqueueMany([
      { type: 'short', payload: {} },
      { type: 'long', payload: {} },
    ]);
    const [s] = await store.claim({ workerId: 'w1', types: ['short'], leaseSeconds: 5 });
    const [l] = await store.claim({ workerId: 'w2', types: ['long'], leaseSeconds: 500 });
    clock.advance(6_000);
    expect((await store.sweep()).expired).toBe(1);
    expect((await store.getTask(s!.task.id))?.status).toBe('QUEUED');
    expect((await store.getTask(l!.task.id))?.status).toBe('RUNNING');
  });
});

describe('sweep: timeouts', () => {
  it('fails an attempt past timeoutSeconds even while the worker heartbeats; a late complete is LEASE_LOST', async () => {
    const { store, clock, taskKinds, events } = await makeStore({ random: () => 0.5, backoffBaseMs: 1_000 });
    const c = await enqueueAndClaim(store, { timeoutSeconds: 60, maxAttempts: 3 }, 'w1', 20);
    const ref = { taskId: c.task.id, leaseToken: c.leaseToken };
    for (let t = 15_000; t < 60_000; t += 15_000) {
      clock.t = T0 + t;
      expect((await store.heartbeat({ workerId: 'w1', leases: [ref], extendSeconds: 20 })).leases[0]!.lost).toBe(false);
      expect(await store.sweep()).toEqual({ expired: 0, timedOut: 0, staleWorkers: 0 });
    }
    clock.t = T0 + 60_000;
    // The lease is still valid (renewed to 65s), but the deadline has come.
    expect((await store.getTask(c.task.id))?.leaseUntil).toBeGreaterThan(clock.t);
    expect(await store.sweep()).toEqual({ expired: 0, timedOut: 1, staleWorkers: 0 });
    const t = (await store.getTask(c.task.id))!;
    expect(t.status).toBe('QUEUED');
    expect(t.errorMessage).toMatch(/timed out after 60s/);
    expect(t.runAfter).toBe(T0 + 60_000 + 500);
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'TIMED_OUT', 'RETRY_SCHEDULED']);
    expect(events.find((e) => e.kind === 'TIMED_OUT')).toMatchObject({ taskId: c.task.id });

    await expectError(store.complete(ref), 'LEASE_LOST');
    const hb = await store.heartbeat({ workerId: 'w1', leases: [ref] });
    expect(hb.leases[0]!.lost).toBe(true);
  });

  it('a timeout on the last attempt fails the task', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store, { timeoutSeconds: 5, maxAttempts: 1 }, 'w1', 600);
    clock.advance(5_000);
    expect((await store.sweep()).timedOut).toBe(1);
    expect(await store.getTask(c.task.id)).toMatchObject({ status: 'FAILED' });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'TIMED_OUT', 'FAILED']);
  });

  it('the timeout clock restarts with each attempt', async () => {
    const { store, clock } = await makeStore({ random: () => 0 });
    const c = await enqueueAndClaim(store, { timeoutSeconds: 10, maxAttempts: 3 }, 'w1', 600);
    clock.advance(10_000);
    await store.sweep();
    clock.advance(5_000);
    const [again] = await store.claim({ workerId: 'w2', leaseSeconds: 600 });
    expect(again!.task.id).toBe(c.task.id);
    clock.advance(9_999);
    expect((await store.sweep()).timedOut).toBe(0);
    clock.advance(1);
    expect((await store.sweep()).timedOut).toBe(1);
  });

  it('a task without timeoutSeconds never times out', async () => {
    const { store, clock } = await makeStore();
    const c = await enqueueAndClaim(store, {}, 'w1', 86_400);
    clock.advance(86_000_000);
    expect((await store.sweep()).timedOut).toBe(0);
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');
  });
});

describe('sweep: workers', () => {
  it('marks workers without a heartbeat for staleWorkerAfterMs as STALE', async () => {
    const { store, clock, events } = await makeStore({ staleWorkerAfterMs: 30_000 });
    await store.heartbeat({ workerId: 'quiet' });
    await store.heartbeat({ workerId: 'busy' });
    clock.advance(20_000);
    await store.heartbeat({ workerId: 'busy' });
    clock.advance(10_001);
    const before = events.length;
    expect((await store.sweep()).staleWorkers).toBe(1);
    expect((await store.getWorker('quiet'))?.status).toBe('STALE');
    expect((await store.getWorker('busy'))?.status).toBe('ACTIVE');
    expect(events.slice(before)).toEqual([expect.objectContaining({ kind: 'WORKER_UPDATED', workerId: 'quiet' })]);
    expect((await store.listWorkers(['STALE'])).map((w) => w.id)).toEqual(['quiet']);
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['busy', 'quiet']);
    expect((await store.stats()).activeWorkers).toBe(1);
    // Sweeping again finds nothing new.
    expect((await store.sweep()).staleWorkers).toBe(0);
  });

  it('a claim brings a STALE worker back', async () => {
    const { store, clock } = await makeStore({ staleWorkerAfterMs: 1_000 });
    await store.claim({ workerId: 'w' });
    clock.advance(1_001);
    await store.sweep();
    expect((await store.getWorker('w'))?.status).toBe('STALE');
    await store.claim({ workerId: 'w' });
    expect((await store.getWorker('w'))?.status).toBe('ACTIVE');
  });
});
